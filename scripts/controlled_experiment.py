"""Controlled experiment for ``tokcli infer-mixture`` (Hayase et al. 2024, section 4).

For each trial: draw n categories' mixture weights uniformly from the simplex (seeded), train a
byte-level BPE tokenizer (HF, GPT-2 pre-tokenization) on that mixture built from the FIRST half of each
category's text, run infer-mixture with samples from the SECOND half, and report log10 mean squared
error of the proportions beside the random-guess baseline (expected MSE of a uniform simplex point).

Usage:  python scripts/controlled_experiment.py --set lang --n 10 --trials 5 [--mb-per-category 2]
        [--train-mb 10] [--vocab 30000] [--merges 3000]
Sets: lang (../shared/corpora/lang), code (../shared/corpora/code), domain (../shared/corpora/domain).
Skips with exit 0 when ../shared is absent.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpora"


def split_halves(src: Path, dst_train: Path, dst_test: Path, budget: int) -> None:
    """First half of the file's records to train (up to ``budget`` bytes), second half to test."""
    lines = src.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    for part, dst in ((lines[:half], dst_train), (lines[half:], dst_test)):
        out, size = [], 0
        for line in part:
            out.append(line)
            size += len(line)
            if size >= budget:
                break
        dst.write_bytes(b"".join(out))


def random_simplex(n: int, rng: random.Random) -> list[float]:
    draws = [-math.log(1.0 - rng.random()) for _ in range(n)]
    total = sum(draws)
    return [d / total for d in draws]


def uniform_guess_mse(n: int) -> float:
    """E[(X - Y)^2] averaged over coordinates, X and Y independent uniform points of the simplex."""
    # Var of a Dirichlet(1,...,1) coordinate is (n-1)/(n^2 (n+1)); the difference of two has twice that.
    return 2 * (n - 1) / (n * n * (n + 1))


def tokcli(*argv: str) -> str:
    result = subprocess.run([sys.executable, "-m", "tokcli", "-q", *argv], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"tokcli {' '.join(argv[:2])} failed: {result.stderr.strip()}")
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["lang", "code", "domain"], default="lang")
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--mb-per-category", type=float, default=2.0)
    parser.add_argument("--train-mb", type=float, default=10.0)
    parser.add_argument("--vocab", type=int, default=30000)
    parser.add_argument("--merges", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    folder = SHARED / args.set
    if not folder.is_dir():
        print(f"skipped: {folder} not found", file=sys.stderr)
        return 0
    sources = sorted(folder.glob("*.jsonl"))
    if len(sources) < args.n:
        raise SystemExit(f"--n {args.n}: only {len(sources)} categories in {folder}")
    rng = random.Random(args.seed)
    errors = []
    budget = int(args.mb_per_category * 1e6)
    with tempfile.TemporaryDirectory() as tmp:
        for trial in range(args.trials):
            work = Path(tmp) / f"trial{trial}"
            (work / "train").mkdir(parents=True)
            (work / "test").mkdir()
            chosen = sorted(rng.sample(sources, args.n))
            weights = random_simplex(args.n, rng)
            mix = []
            for src, weight in zip(chosen, weights, strict=True):
                name = src.stem
                split_halves(src, work / "train" / f"{name}.jsonl", work / "test" / f"{name}.jsonl", budget)
                mix += ["--mix", f"{name}={weight}:{work / 'train' / f'{name}.jsonl'}"]
            started = time.monotonic()
            report = json.loads(
                tokcli(
                    "train",
                    *mix,
                    "--max-bytes",
                    str(int(args.train_mb * 1e6)),
                    "--vocab-size",
                    str(args.vocab),
                    "-o",
                    str(work / "tok.json"),
                )
            )
            truth = {name: src["byte_share"] for name, src in report["sources"].items()}
            doc = json.loads(
                tokcli(
                    "infer-mixture",
                    "-t",
                    str(work / "tok.json"),
                    "--categories-dir",
                    str(work / "test"),
                    "--merges",
                    str(args.merges),
                    "-f",
                    "json",
                )
            )
            got = {row["category"]: row["proportion"] for row in doc["rows"]}
            mse = sum((got[k] - truth[k]) ** 2 for k in truth) / len(truth)
            errors.append(mse)
            print(
                f"trial {trial}: log10 MSE {math.log10(mse):.2f}  ({time.monotonic() - started:.0f} s; "
                f"stop: {report['stop_reason']}; solver {doc['meta']['solver']['status']})",
                flush=True,
            )
    mean = sum(errors) / len(errors)
    print(f"\nset={args.set} n={args.n} trials={args.trials} train={args.train_mb} MB vocab={args.vocab} "
          f"merges={args.merges} sample<={args.mb_per_category} MB/category")  # fmt: skip
    print(f"mean log10 MSE: {math.log10(mean):.2f}   (random guess: {math.log10(uniform_guess_mse(args.n)):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
