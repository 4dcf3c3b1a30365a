"""Benchmark: ``tokcli train`` against the raw library calls, same data and settings: wall time and peak RSS.

Every run is a fresh subprocess; its peak RSS is the child's own ``ru_maxrss`` (``os.wait4``). Runs
alternate and the best wall time of --repeat is kept (peak RSS: the largest seen). Data: ~N MB of text
from ../shared/corpora (tests/data when absent), one paragraph per line, written both as JSONL (what
tokcli reads, through its corpus reader) and as a plain text file (what the file-reading library calls
read).

hf-bpe (byte-level BPE, GPT-2 regex, --vocab):
  1. ``tokcli train`` (CLI) on the JSONL, and again on the text file (same documents; same output, checked);
  2. plain ``Tokenizer.train_from_iterator`` over the same documents read with orjson (batches of 1,000);
  3. ``Tokenizer.train(files)`` on the text file (Rust reads it).
  Goals: 1 <= 0.85 x 2 and <= 1.1 x 3, with the same merges as 2; peak RSS <= 1.2 x the library's.
sentencepiece (--spm-backends, --spm-mb of the same text, --spm-vocab):
  4. ``tokcli train --backend spm-...`` (CLI) on the JSONL, and again on the text file;
  5. plain ``SentencePieceTrainer.train(input=text file)`` with the options tokcli passes: what a user of
     the library runs on a text file (sentencepiece reads it in C++, the fastest way in);
  6. plain ``SentencePieceTrainer.train(sentence_iterator=...)`` over the JSONL read with orjson line by
     line: what a user of the library runs on a JSONL file (sentencepiece cannot read JSON).
  Goal: 4 <= 1.1 x the plain call on the same input (JSONL: 6; text file: 5), with the same pieces and
  scores; also printed, the stricter tokcli on the JSONL / 5 (JSON decoding not paid by 5);
  peak RSS <= 1.2 x 5.
--phases: train(files) at vocab 300 and --vocab, rayon at 2 threads and 1 (counting vs the merge loop).
--superword (only this): ``tokcli train --superword-transition T`` vs plain hf-bpe ``tokcli train`` to the
  same --superword-vocab on the same text (../shared/corpora/lang en, de, fr, es in order, cut at each size
  of --superword-mb by --max-bytes: 5 MB is English only); prints the ratio and the superword file's sha256.

Usage:  python scripts/bench_train.py [--mb 50] [--vocab 32000] [--repeat 2]
            [--spm-mb 50] [--spm-vocab 32000] [--spm-backends spm-bpe,spm-unigram] [--skip-hf] [--phases]
        python scripts/bench_train.py --superword [--superword-mb 5,20] [--superword-vocab 16000]
            [--superword-transition 12000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpora"

RAW = r"""
import json, sys, orjson
from tokenizers import Tokenizer, Regex, decoders, models, pre_tokenizers, trainers
mode, data, txt, out, vocab = sys.argv[1:6]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.Sequence([
    pre_tokenizers.Split(Regex(sys.argv[6]), behavior="isolated"),
    pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
tok.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(vocab_size=int(vocab), min_frequency=2, show_progress=False,
                              initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
if mode == "iterator":
    def batches():
        batch = []
        with open(data, "rb") as f:
            for line in f:
                batch.append(orjson.loads(line)["text"])
                if len(batch) == 1000:
                    yield batch
                    batch = []
        if batch:
            yield batch
    tok.train_from_iterator(batches(), trainer=trainer)
else:
    tok.train([txt], trainer=trainer)
open(out, "w").write(tok.to_str())
"""

RAW_SPM = r"""
import json, os, sys
import sentencepiece as spm
data, folder, options, prefix = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
os.chdir(folder)
if data.endswith(".jsonl"):
    import orjson
    def sentences():
        with open(data, "rb") as f:
            for line in f:
                yield orjson.loads(line)["text"]
    spm.SentencePieceTrainer.train(sentence_iterator=sentences(), model_prefix=prefix, **options)
else:
    spm.SentencePieceTrainer.train(input=data, model_prefix=prefix, **options)
"""


def build(folder: Path, megabytes: float, name: str = "corpus") -> tuple[Path, Path]:
    """A JSONL corpus of single-line documents (so a line-per-document text file is the same data)."""
    sources = sorted(SHARED.glob("*/*.jsonl")) if SHARED.is_dir() else []
    if not sources:
        print("note: ../shared/corpora not found; using tests/data", file=sys.stderr)
        sources = sorted((ROOT / "tests" / "data").rglob("*.jsonl"))
    jsonl, txt = folder / f"{name}.jsonl", folder / f"{name}.txt"
    if jsonl.exists() and txt.exists():  # built earlier in this run
        return jsonl, txt
    budget = int(megabytes * 1e6)
    written = 0
    with open(jsonl, "w", encoding="utf-8") as fj, open(txt, "w", encoding="utf-8") as ft:
        while written < budget:
            for src in sources:
                with open(src, encoding="utf-8") as fin:
                    for i, line in enumerate(fin):
                        if i >= 400 or written >= budget:
                            break
                        for para in json.loads(line)["text"].split("\n"):
                            if para.strip():
                                fj.write(json.dumps({"text": para}, ensure_ascii=False) + "\n")
                                ft.write(para + "\n")
                                written += len(para.encode())
    return jsonl, txt


def measured(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh subprocess."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(argv[:6])}...\n{err.decode(errors='replace')}")
    return wall, usage.ru_maxrss / 1024  # KiB on Linux


def merges(path: Path) -> list[object]:
    return json.loads(path.read_text(encoding="utf-8"))["model"]["merges"]


def pieces(path: Path) -> list[tuple[str, float]]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(path))
    return [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]


def compare(runs: dict[str, list[str]], repeat: int) -> tuple[dict[str, float], dict[str, float]]:
    best = {name: float("inf") for name in runs}
    peak = dict.fromkeys(runs, 0.0)
    for _ in range(repeat):
        for name, argv in runs.items():
            wall, rss = measured(argv)
            best[name], peak[name] = min(best[name], wall), max(peak[name], rss)
    for name in runs:
        print(f"  {name:26s} {best[name]:7.2f} s  peak RSS {peak[name]:7.1f} MB", flush=True)
    return best, peak


def bench_hf(folder: Path, args: argparse.Namespace) -> None:
    from tokcli.pretok.presets import PRESETS

    jsonl, txt = build(folder, args.mb, "hf")  # bench_spm reuses it when --spm-mb equals --mb
    size = txt.stat().st_size / 1e6
    pattern = PRESETS["gpt2"].hf
    print(f"hf-bpe: {size:.1f} MB, one document per line; vocab {args.vocab}; best of {args.repeat}", flush=True)
    runs = {
        "tokcli": [sys.executable, "-m", "tokcli", "-q", "train", str(jsonl), "--vocab-size", str(args.vocab),
                   "-o", str(folder / "tokcli.json")],
        "tokcli (.txt input)": [sys.executable, "-m", "tokcli", "-q", "train", str(txt), "--vocab-size",
                                str(args.vocab), "-o", str(folder / "tokcli-txt.json")],
        "train_from_iterator": [sys.executable, "-c", RAW, "iterator", str(jsonl), str(txt),
                                str(folder / "iterator.json"), str(args.vocab), pattern],
        "train(files)": [sys.executable, "-c", RAW, "files", str(jsonl), str(txt),
                         str(folder / "files.json"), str(args.vocab), pattern],
    }  # fmt: skip
    best, peak = compare(runs, args.repeat)
    assert (folder / "tokcli-txt.json").read_bytes() == (folder / "tokcli.json").read_bytes()
    same_iter = merges(folder / "tokcli.json") == merges(folder / "iterator.json")
    same_files = merges(folder / "tokcli.json") == merges(folder / "files.json")
    for name in ("tokcli", "tokcli (.txt input)"):
        print(
            f"  {name} / train_from_iterator: {best[name] / best['train_from_iterator']:.2f} (goal <= 0.85); "
            f"/ train(files): {best[name] / best['train(files)']:.2f} (goal <= 1.1)"
        )
    print(
        f"  peak RSS tokcli / train_from_iterator: {peak['tokcli'] / peak['train_from_iterator']:.2f}, "
        f"/ train(files): {peak['tokcli'] / peak['train(files)']:.2f} (goal <= 1.2)"
    )
    print(f"  merges identical to train_from_iterator: {same_iter}; to train(files): {same_files}", flush=True)


def bench_phases(folder: Path, args: argparse.Namespace) -> None:
    """Where train(files) spends its time: counting (a vocabulary of 300 leaves almost no merges) vs the
    merge loop (the rest up to --vocab), with the rayon pool at 2 threads and at 1."""
    from tokcli.pretok.presets import PRESETS

    jsonl, txt = build(folder, args.mb, "hf")
    pattern = PRESETS["gpt2"].hf
    print(f"phases of train(files): {txt.stat().st_size / 1e6:.1f} MB; best of {args.repeat}", flush=True)
    runs = {
        f"vocab {vocab}, {threads} thread{'s' if threads > 1 else ''}": [
            "env", f"RAYON_NUM_THREADS={threads}", sys.executable, "-c", RAW, "files", str(jsonl), str(txt),
            str(folder / f"phase-{vocab}-{threads}.json"), str(vocab), pattern,
        ]
        for vocab in (300, args.vocab)
        for threads in (2, 1)
    }  # fmt: skip
    best, _ = compare(runs, args.repeat)
    for threads in (2, 1):
        suffix = "s" if threads > 1 else ""
        merging = best[f"vocab {args.vocab}, {threads} thread{suffix}"] - best[f"vocab 300, {threads} thread{suffix}"]
        print(f"  merge loop (vocab 300 -> {args.vocab}), {threads} thread{suffix}: {merging:.2f} s")


def bench_spm(folder: Path, args: argparse.Namespace) -> None:
    from tokcli import TrainConfig
    from tokcli.train.spm import spm_options

    jsonl, txt = build(folder, args.spm_mb, "hf") if args.spm_mb == args.mb else build(folder, args.spm_mb, "spm")
    size = txt.stat().st_size / 1e6
    for backend in args.spm_backends.split(","):
        options = spm_options(TrainConfig(backend=backend, vocab_size=args.spm_vocab))  # type: ignore[arg-type]
        print(
            f"{backend}: {size:.1f} MB, one document per line; vocab {args.spm_vocab}; best of {args.repeat}; "
            f"options {json.dumps(options, sort_keys=True)}",
            flush=True,
        )
        out, out_txt = folder / f"tokcli-{backend}.model", folder / f"tokcli-txt-{backend}.model"
        runs = {
            "tokcli": [sys.executable, "-m", "tokcli", "-q", "train", str(jsonl), "--backend", backend,
                       "--vocab-size", str(args.spm_vocab), "-o", str(out)],
            "tokcli (.txt input)": [sys.executable, "-m", "tokcli", "-q", "train", str(txt), "--backend", backend,
                                    "--vocab-size", str(args.spm_vocab), "-o", str(out_txt)],
            "SentencePieceTrainer.train": [sys.executable, "-c", RAW_SPM, str(txt), str(folder),
                                           json.dumps(options), "raw"],
            "SentencePieceTrainer.train (JSONL)": [sys.executable, "-c", RAW_SPM, str(jsonl), str(folder),
                                                   json.dumps(options), "raw-jsonl"],
        }  # fmt: skip
        best, peak = compare(runs, args.repeat)
        assert out.read_bytes() == out_txt.read_bytes()
        same = pieces(out) == pieces(folder / "raw.model") == pieces(folder / "raw-jsonl.model")
        raw, raw_jsonl = "SentencePieceTrainer.train", "SentencePieceTrainer.train (JSONL)"
        for name, base in (("tokcli", raw_jsonl), ("tokcli (.txt input)", raw), ("tokcli", raw)):
            print(
                f"  {name} / {base}: {best[name] / best[base]:.2f} (goal <= 1.1); "
                f"peak RSS {peak[name] / peak[base]:.2f} (goal <= 1.2)"
            )
        print(f"  pieces and scores identical: {same}", flush=True)


def bench_superword(folder: Path, args: argparse.Namespace) -> None:
    import hashlib

    names = ("lang/en.jsonl", "lang/de.jsonl", "lang/fr.jsonl", "lang/es.jsonl")
    inputs = [str(SHARED / name) for name in names] if SHARED.is_dir() else [str(ROOT / "tests" / "data")]
    vocab, transition = str(args.superword_vocab), str(args.superword_transition)
    for mb in args.superword_mb.split(","):
        print(
            f"superword: {' '.join(inputs)} --max-bytes {mb}MB; vocab {vocab}, transition {transition}; "
            f"best of {args.repeat}",
            flush=True,
        )
        common = [sys.executable, "-m", "tokcli", "-q", "train", *inputs, "--max-bytes", f"{mb}MB",
                  "--vocab-size", vocab]  # fmt: skip
        superword = folder / f"superword-{mb}.json"
        runs = {
            "tokcli superword": [*common, "--superword-transition", transition, "-o", str(superword)],
            "tokcli hf-bpe": [*common, "-o", str(folder / f"plain-{mb}.json")],
        }
        best, _ = compare(runs, args.repeat)
        digest = hashlib.sha256(superword.read_bytes()).hexdigest()
        ratio = best["tokcli superword"] / best["tokcli hf-bpe"]
        print(f"  superword / hf-bpe: {ratio:.2f}; superword file sha256 {digest}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0, help="hf-bpe data, MB")
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--spm-mb", type=float, default=50.0, help="sentencepiece data, MB (0: skip)")
    parser.add_argument("--spm-vocab", type=int, default=32000)
    parser.add_argument("--spm-backends", default="spm-bpe,spm-unigram")
    parser.add_argument("--skip-hf", action="store_true")
    parser.add_argument("--phases", action="store_true", help="also time train(files)'s counting vs merging")
    parser.add_argument("--superword", action="store_true", help="only: superword training vs plain hf-bpe")
    parser.add_argument("--superword-mb", default="5,20", help="superword: sizes in MB, comma-separated")
    parser.add_argument("--superword-vocab", type=int, default=16000)
    parser.add_argument("--superword-transition", type=int, default=12000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.superword:
            bench_superword(Path(tmp), args)
            return 0
        if args.phases:
            bench_phases(Path(tmp), args)
        if not args.skip_hf:
            bench_hf(Path(tmp), args)
        if args.spm_mb > 0 and args.spm_backends:
            bench_spm(Path(tmp), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
