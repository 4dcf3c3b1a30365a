"""Benchmark: ``tokcli train --backend hf-bpe`` against the raw ``tokenizers`` calls, same data and settings.

Three runs on the same ~N MB of text from ../shared/corpora (tests/data when absent), each in a fresh
subprocess (so peak RSS is per run), alternating, best of --repeat:
  1. tokcli train (CLI, reading the JSONL through tokcli's corpus reader);
  2. plain ``Tokenizer.train_from_iterator`` over the same documents read with orjson;
  3. ``Tokenizer.train(files)`` on a text file holding one document per line (Rust reads it in parallel).
Ratios tokcli / raw are printed (goals: <= 0.85 of 2, <= 1.1 of 3), plus whether the merges are identical.

Usage:  python scripts/bench_train.py [--mb 50] [--vocab 32000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
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


def build(folder: Path, megabytes: float) -> tuple[Path, Path]:
    """A JSONL corpus of single-line documents (so a line-per-document text file is the same data)."""
    sources = sorted(SHARED.glob("*/*.jsonl")) if SHARED.is_dir() else []
    if not sources:
        print("note: ../shared/corpora not found; using tests/data", file=sys.stderr)
        sources = sorted((ROOT / "tests" / "data").rglob("*.jsonl"))
    jsonl, txt = folder / "corpus.jsonl", folder / "corpus.txt"
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


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def merges(path: Path) -> list[object]:
    return json.loads(path.read_text(encoding="utf-8"))["model"]["merges"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from tokcli.presets import PRESETS

    pattern = PRESETS["gpt2"].hf
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        jsonl, txt = build(folder, args.mb)
        size = txt.stat().st_size / 1e6
        runs = {
            "tokcli": [sys.executable, "-m", "tokcli", "-q", "train", str(jsonl), "--vocab-size", str(args.vocab),
                       "-o", str(folder / "tokcli.json")],
            "train_from_iterator": [sys.executable, "-c", RAW, "iterator", str(jsonl), str(txt),
                                    str(folder / "iterator.json"), str(args.vocab), pattern],
            "train(files)": [sys.executable, "-c", RAW, "files", str(jsonl), str(txt),
                             str(folder / "files.json"), str(args.vocab), pattern],
        }  # fmt: skip
        best = {name: float("inf") for name in runs}
        for _ in range(args.repeat):
            for name, argv in runs.items():
                best[name] = min(best[name], timed(argv))
        same_iter = merges(folder / "tokcli.json") == merges(folder / "iterator.json")
        same_files = merges(folder / "tokcli.json") == merges(folder / "files.json")
    print(f"input: {size:.1f} MB, one document per line; vocab {args.vocab}; best of {args.repeat}")
    for name, seconds in best.items():
        print(f"  {name:22s} {seconds:7.2f} s")
    print(f"tokcli / train_from_iterator: {best['tokcli'] / best['train_from_iterator']:.2f} (goal <= 0.85)")
    print(f"tokcli / train(files):        {best['tokcli'] / best['train(files)']:.2f} (goal <= 1.1)")
    print(f"merges identical to train_from_iterator: {same_iter}; to train(files): {same_files}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
