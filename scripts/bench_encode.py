"""Benchmark ``tokcli encode --format bin`` end to end against the raw libraries doing the same work.

Usage (from the repository root)::

    .venv/bin/python scripts/bench_encode.py [--mb 50] [--rss-mb 500] [--repeat 2] [--workdir DIR]

It builds a multilingual + code JSONL input of ``--mb`` MB from ../shared/corpora (falling back to
tests/data, with a message, when that folder is absent), trains a 32k byte-level BPE tokenizer.json
and a 16k sentencepiece BPE model on part of it, derives a tiktoken ranks file from the BPE vocabulary,
then times, each in a fresh subprocess (so peak RSS is per run):

- ``tokcli``: ``load_tokenizer`` + the corpus reader + ``encode_documents(format="bin")``;
- the baseline: a plain loop reading the same JSONL with orjson, encoding batches of 1000 documents
  with the raw library (``tokenizers.Tokenizer.encode_batch``, ``tiktoken.Encoding.encode_ordinary_batch``
  or ``SentencePieceProcessor.encode``, all on every CPU) and writing the ids as uint16 like nanoGPT.

Timings include loading the tokenizer. Output files must be byte-identical (the ids are checked).
It prints ratios (baseline time / tokcli time: above 1 means tokcli is faster) and peak RSS, and with
``--rss-mb`` the peak RSS of tokcli on ``--mb`` vs ``--rss-mb`` MB of input (streaming check).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
SOURCES = [
    "lang/en.jsonl", "lang/de.jsonl", "lang/ru.jsonl", "lang/zh-CN.jsonl", "lang/ja.jsonl", "lang/ar.jsonl",
    "lang/hi.jsonl", "lang/km.jsonl", "code/python.jsonl", "code/c.jsonl", "code/javascript.jsonl",
    "domain/markdown.jsonl",
]  # fmt: skip
BATCH = 1000


# --- inputs and tokenizers ------------------------------------------------------------------------


def _source_lines() -> list[list[bytes]]:
    if CORPORA.is_dir():
        return [(CORPORA / name).read_bytes().splitlines() for name in SOURCES if (CORPORA / name).is_file()]
    print(f"note: {CORPORA} not found; using tests/data (numbers are not representative)", file=sys.stderr)
    data = ROOT / "tests" / "data"
    lines = [json.dumps({"text": t}).encode() for t in (data / "austen.txt").read_text("utf-8").splitlines() if t]
    return [lines] + [p.read_bytes().splitlines() for p in sorted(data.rglob("*.jsonl"))]


def build_input(path: Path, megabytes: float) -> None:
    """Round-robin over the sources (repeating them if needed) until ``megabytes`` MB of JSONL."""
    if path.is_file():
        return
    target = int(megabytes * 1_000_000)
    sources = _source_lines()
    written = 0
    with open(path, "wb") as out:
        rounds = 0
        while written < target:
            for lines in sources:
                for line in lines[rounds * 50 % max(len(lines), 1) :][:50]:
                    out.write(line + b"\n")
                    written += len(line) + 1
            rounds += 1
    print(f"built {path.name}: {written / 1e6:.1f} MB", file=sys.stderr)


def texts_of(path: Path, limit_bytes: int | None = None) -> Iterator[str]:
    import orjson

    seen = 0
    with open(path, "rb") as handle:
        for line in handle:
            text = orjson.loads(line)["text"]
            yield text
            seen += len(line)
            if limit_bytes is not None and seen > limit_bytes:
                return


def train_tokenizers(work: Path, sample: Path) -> dict[str, Path]:
    hf_path, ranks_path, spm_path = work / "bpe32k.json", work / "bpe32k.tiktoken", work / "spm16k.model"
    if not hf_path.is_file():
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=32000,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            special_tokens=["<|endoftext|>"],
            show_progress=False,
        )
        tok.train_from_iterator(texts_of(sample, 12_000_000), trainer)
        tok.save(str(hf_path))
    if not ranks_path.is_file():
        sys.path.insert(0, str(ROOT))
        from tokcli.bpe.byte_level import byte_level_to_bytes

        vocab = json.loads(hf_path.read_text("utf-8"))["model"]["vocab"]
        lines = []
        for token, rank in sorted(vocab.items(), key=lambda item: item[1]):
            data = byte_level_to_bytes(token)
            if data is not None and token != "<|endoftext|>":
                lines.append(f"{base64.b64encode(data).decode()} {rank}")
        ranks_path.write_text("\n".join(lines) + "\n", "utf-8")
    if not spm_path.is_file():
        import sentencepiece as spm

        spm.SentencePieceTrainer.train(
            sentence_iterator=texts_of(sample, 6_000_000),
            model_prefix=str(spm_path.with_suffix("")),
            model_type="bpe",
            vocab_size=16000,
            byte_fallback=True,
            character_coverage=0.9995,
            max_sentence_length=20000,
            input_sentence_size=200_000,
            shuffle_input_sentence=True,
            num_threads=os.cpu_count() or 1,
            minloglevel=2,
        )
    return {"hf": hf_path, "tiktoken": ranks_path, "spm": spm_path}


# --- workers (run in subprocesses) --------------------------------------------------------------


def _batches(path: Path) -> Iterator[list[str]]:
    batch: list[str] = []
    for text in texts_of(path):
        batch.append(text)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_loop(encode: object, path: Path, out: Path) -> int:
    tokens = 0
    with open(out, "wb") as handle:
        for batch in _batches(path):
            ids = encode(batch)  # type: ignore[operator]
            flat = array("H")
            for seq in ids:
                flat.extend(seq)
            tokens += len(flat)
            handle.write(flat.tobytes())
    return tokens


def worker(case: str, tokenizer: Path, data: Path, out: Path) -> dict[str, object]:
    threads = len(os.sched_getaffinity(0))
    start = time.perf_counter()
    engine = case
    if case == "tokcli":
        sys.path.insert(0, str(ROOT))
        from tokcli import Corpus, CorpusConfig, load_tokenizer
        from tokcli.encode import EncodeConfig, corpus_documents, encode_documents

        tok = load_tokenizer(tokenizer, pattern="gpt2" if tokenizer.suffix == ".tiktoken" else None)
        engine = f"tokcli[{tok.info.engine}]"
        config = EncodeConfig(format="bin", output=str(out), dtype="uint16")
        docs = corpus_documents(Corpus(CorpusConfig(inputs=(str(data),))), config)
        result = encode_documents(tok, docs, config)
        tokens = result.tokens
    elif case == "tokcli-tokenizers":
        sys.path.insert(0, str(ROOT))
        from tokcli import Corpus, CorpusConfig, load_tokenizer
        from tokcli.encode import EncodeConfig, corpus_documents, encode_documents

        tok = load_tokenizer(tokenizer, engine="tokenizers")
        config = EncodeConfig(format="bin", output=str(out), dtype="uint16")
        docs = corpus_documents(Corpus(CorpusConfig(inputs=(str(data),))), config)
        result = encode_documents(tok, docs, config)
        tokens = result.tokens
    elif case == "raw-tokenizers":
        from tokenizers import Tokenizer

        hf = Tokenizer.from_file(str(tokenizer))
        tokens = _write_loop(lambda b: [e.ids for e in hf.encode_batch(b, add_special_tokens=False)], data, out)
    elif case == "raw-tiktoken":
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe

        sys.path.insert(0, str(ROOT))
        from tokcli.pretok.presets import PRESETS

        ranks = load_tiktoken_bpe(str(tokenizer))
        enc = tiktoken.Encoding("raw", pat_str=PRESETS["gpt2"].tiktoken, mergeable_ranks=ranks, special_tokens={})
        tokens = _write_loop(lambda b: enc.encode_ordinary_batch(b, num_threads=threads), data, out)
    elif case == "raw-sentencepiece":
        import sentencepiece

        sp = sentencepiece.SentencePieceProcessor(model_file=str(tokenizer))
        tokens = _write_loop(lambda b: sp.encode(b, out_type=int, num_threads=threads), data, out)
    else:
        raise SystemExit(f"unknown case {case}")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before hashing the output
    digest = hashlib.sha256()
    with open(out, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    out.unlink()
    out.with_name(out.name + ".index.json").unlink(missing_ok=True)
    return {
        "case": case,
        "engine": engine,
        "seconds": seconds,
        "tokens": tokens,
        "sha256": digest.hexdigest(),
        "peak_rss_mb": peak,
    }


def run_worker(case: str, tokenizer: Path, data: Path, work: Path) -> dict[str, object]:
    out = work / f"out-{case}.bin"
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", case, str(tokenizer), str(data), str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker {case} failed:\n{proc.stderr}")
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# --- main -------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--rss-mb", type=float, default=0, help="also measure tokcli's peak RSS on this many MB")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None, help="keep inputs and trained tokenizers here")
    parser.add_argument("--only", choices=["hf", "tiktoken", "spm"], action="append")
    parser.add_argument("--worker", nargs=4, metavar=("CASE", "TOKENIZER", "DATA", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        case, tokenizer, data, out = args.worker
        print(json.dumps(worker(case, Path(tokenizer), Path(data), Path(out))))
        return

    work = args.workdir or Path(tempfile.mkdtemp(prefix="tokcli-bench-encode-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"input-{args.mb:g}mb.jsonl"
    build_input(data, args.mb)
    t0 = time.perf_counter()
    tokenizers = train_tokenizers(work, data)
    print(f"tokenizers ready in {time.perf_counter() - t0:.0f}s ({work})", file=sys.stderr)
    cpus = len(os.sched_getaffinity(0))
    print(f"input: {data.stat().st_size / 1e6:.1f} MB JSONL, {cpus} CPUs, best of {args.repeat}")

    plans = {
        "hf": [("raw-tokenizers", "tokcli"), ("raw-tokenizers", "tokcli-tokenizers")],
        "tiktoken": [("raw-tiktoken", "tokcli")],
        "spm": [("raw-sentencepiece", "tokcli")],
    }
    failed = False
    print(f"{'tokenizer':<10} {'baseline':<18} {'tokcli run':<26} {'base s':>7} {'tokcli s':>8} {'ratio':>6} "
          f"{'base RSS':>9} {'tokcli RSS':>10}  ids")  # fmt: skip
    for kind, pairs in plans.items():
        if args.only and kind not in args.only:
            continue
        for baseline, ours in pairs:
            best: dict[str, dict[str, object]] = {}
            for _ in range(args.repeat):
                for case in (baseline, ours):
                    result = run_worker(case, tokenizers[kind], data, work)
                    if case not in best or float(result["seconds"]) < float(best[case]["seconds"]):  # type: ignore[arg-type]
                        best[case] = result
            b, o = best[baseline], best[ours]
            same = b["sha256"] == o["sha256"]
            failed |= not same
            ratio = float(b["seconds"]) / float(o["seconds"])  # type: ignore[arg-type]
            print(
                f"{kind:<10} {baseline:<18} {o['engine']!s:<26} {b['seconds']:>7.2f} {o['seconds']:>8.2f} "
                f"{ratio:>6.2f} {b['peak_rss_mb']:>7.0f}MB {o['peak_rss_mb']:>8.0f}MB  "
                f"{'identical' if same else 'DIFFERENT'} ({o['tokens']} tokens)"
            )
    if args.rss_mb:
        big = work / f"input-{args.rss_mb:g}mb.jsonl"
        build_input(big, args.rss_mb)
        for kind in ("hf", "spm"):
            small_run = run_worker("tokcli", tokenizers[kind], data, work)
            big_run = run_worker("tokcli", tokenizers[kind], big, work)
            print(
                f"peak RSS tokcli {kind}: {small_run['peak_rss_mb']:.0f} MB on {args.mb:g} MB, "
                f"{big_run['peak_rss_mb']:.0f} MB on {args.rss_mb:g} MB "
                f"({big_run['seconds']:.1f}s, {big_run['tokens']} tokens)"
            )
    if failed:
        raise SystemExit("ids differ between tokcli and the raw library")


if __name__ == "__main__":
    main()
