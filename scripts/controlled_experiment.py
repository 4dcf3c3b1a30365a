"""Controlled experiment for ``tokcli infer-mixture`` (Hayase et al. 2024, section 4).

Each trial: choose n categories of a set, draw their mixture weights uniformly from the simplex
(seeded), train a byte-level BPE tokenizer (HF ``tokenizers``, ByteLevel pre-tokenizer as GPT-2,
--vocab ids) on that mixture built from one half of each category's text, mixed by bytes so that
each category's byte share equals its weight, then infer the mixture from samples of the OTHER half.
Halves (--halves): even- and odd-numbered documents (``docs``, the default), or even- and odd-numbered
blocks of about 2 KB cut at line ends (``blocks``; a category made of a few long files, like the code
set, then has the same files on both sides). Reports log10 mean squared error of the
proportions beside the random-guess baseline (expected MSE of a uniform random point of the simplex),
for every sample size in --sample-mb and every T in --merges.

A category whose training half is shorter than its share of --train-mb is cycled (its documents
repeated): that scales its pair counts exactly and keeps its distribution.

    python scripts/controlled_experiment.py --set lang --n 10 --trials 5
    python scripts/controlled_experiment.py --set code --n 5 --trials 5 --sample-mb 0.3 1 3 --merges 3000 10000 30000
    python scripts/controlled_experiment.py --set lang code domain books --n 30 --trials 1 --merges 30000

Trials can be split across invocations (--first-trial) and appended to a JSON-lines file (--log);
--summary FILE prints the tables of such a file. Skips with exit 0 when ../shared/corpora is absent.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "corpora"
BLOCK_BYTES = 2000


def read_docs(path: Path) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def halves(docs: list[str], unit: str) -> tuple[list[str], list[str]]:
    """Two disjoint halves of a category: alternate documents (``docs``), or alternate blocks of about
    BLOCK_BYTES cut at line ends inside each document (``blocks``: a long file then feeds both halves,
    so the halves differ less than two random sets of whole files do)."""
    if unit == "docs":
        return docs[0::2], docs[1::2]
    blocks: list[str] = []
    for doc in docs:
        current: list[str] = []
        size = 0
        for line in doc.splitlines(keepends=True):
            current.append(line)
            size += len(line)
            if size >= BLOCK_BYTES:
                blocks.append("".join(current))
                current, size = [], 0
        if current:
            blocks.append("".join(current))
    return blocks[0::2], blocks[1::2]


def random_simplex(n: int, rng: random.Random) -> list[float]:
    """A uniform point of the simplex (normalised exponentials = Dirichlet(1, ..., 1))."""
    draws = [-math.log(1.0 - rng.random()) for _ in range(n)]
    total = sum(draws)
    return [d / total for d in draws]


def uniform_guess_mse(n: int) -> float:
    """E[(X_i - Y_i)^2] for X, Y independent uniform points of the simplex: twice the Dirichlet(1)
    variance (n-1)/(n^2 (n+1))."""
    return 2 * (n - 1) / (n * n * (n + 1))


def build_mixture(
    halves: dict[str, list[str]], weights: dict[str, float], total: int
) -> tuple[list[str], dict[str, float]]:
    """Training documents: each category's documents (cycled if needed) until its byte share reaches its
    weight; returns them interleaved and the realised byte shares."""
    parts: dict[str, list[str]] = {}
    got: dict[str, int] = {}
    for name, docs in halves.items():
        goal, size, out = weights[name] * total, 0, []
        for doc in itertools.cycle(docs):
            if size >= goal:
                break
            out.append(doc)
            size += len(doc.encode("utf-8"))
        parts[name], got[name] = out, size
    mixed = [d for group in itertools.zip_longest(*parts.values()) for d in group if d is not None]
    whole = sum(got.values())
    return mixed, {k: v / whole for k, v in got.items()}


def train(texts: list[str], vocab: int, out: Path) -> float:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    started = time.monotonic()
    tok.train_from_iterator(texts, trainer)
    tok.save(str(out))
    return time.monotonic() - started


def train_trial(
    args: argparse.Namespace, trial: int, sources: list[Path], work: Path
) -> tuple[dict[str, list[str]], dict[str, float], Path, float]:
    """A trial's tokenizer, trained on a random mixture of one half of each chosen category: the other
    halves (the samples), the true byte shares, the tokenizer's path and the training seconds."""
    rng = random.Random(f"{args.seed}/{args.set}/{args.n}/{trial}")
    chosen = sorted(rng.sample(sources, args.n))
    weights = dict(zip((p.stem for p in chosen), random_simplex(args.n, rng), strict=True))
    docs = {p.stem: read_docs(p) for p in chosen}
    split = {k: halves(v, args.halves) for k, v in docs.items()}
    train_half = {k: v[0] for k, v in split.items()}
    test_half = {k: v[1] for k, v in split.items()}
    texts, truth = build_mixture(train_half, weights, int(args.train_mb * 1e6))
    path = work / f"tok{trial}.json"
    train_seconds = train(texts, args.vocab, path)
    return test_half, truth, path, train_seconds


def run_trial(args: argparse.Namespace, trial: int, sources: list[Path], work: Path) -> list[dict[str, Any]]:
    from tokcli.bpe.pairs import pair_key
    from tokcli.mixture import count_categories, hf_pretokenizer, read_hf_merges, solve_mixture, to_byte_shares
    from tokcli.mixture.merges import MergeTable

    test_half, truth, path, train_seconds = train_trial(args, trial, sources, work)
    table = MergeTable.build(read_hf_merges(path))
    spec = hf_pretokenizer(path)
    t_max = min(max(args.merges), len(table.merges))
    merged = [pair_key(a, b) for a, b, _ in table.merges[:t_max]]
    out = []
    for sample_mb in args.sample_mb:
        clock = time.monotonic()
        counted = count_categories(
            test_half, table, spec, t_max, sample_bytes=int(sample_mb * 1e6), threads=args.threads, use_cache=False
        )
        count_seconds = time.monotonic() - clock
        names = list(counted)
        replays = [counted[n].counts for n in names]
        for merges in args.merges:
            lp = solve_mixture(replays, merged[: min(merges, t_max)])
            shares = dict(zip(names, to_byte_shares(lp.weights, replays), strict=True))
            pairs = dict(zip(names, lp.weights, strict=True))
            row = {
                "set": args.set,
                "n": args.n,
                "trial": trial,
                "seed": args.seed,
                "train_mb": args.train_mb,
                "halves": args.halves,
                "vocab": args.vocab,
                "sample_mb": sample_mb,
                "sample_bytes": {n: counted[n].counts.sample_bytes for n in names},
                "merges": min(merges, t_max),
                "truth": truth,
                "got": shares,
                "mse": sum((shares[k] - truth[k]) ** 2 for k in truth) / len(truth),
                "mse_pair_shares": sum((pairs[k] - truth[k]) ** 2 for k in truth) / len(truth),
                "lp_status": lp.status,
                "lp_seconds": lp.seconds,
                "lp_rounds": lp.rounds,
                "count_seconds": round(count_seconds, 2),
                "train_seconds": round(train_seconds, 2),
            }
            out.append(row)
            print(
                f"trial {trial} sample {sample_mb} MB T={row['merges']}: log10 MSE {math.log10(row['mse']):.2f} "
                f"(pair shares {math.log10(row['mse_pair_shares']):.2f}); train {train_seconds:.0f} s, "
                f"count {count_seconds:.0f} s, LP {lp.seconds:.0f} s / {lp.rounds} rounds ({lp.status})",
                flush=True,
            )
    return out


def summary(rows: list[dict[str, Any]]) -> str:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        fields = ("set", "n", "halves", "train_mb", "vocab", "sample_mb", "merges")
        key = tuple(row.get(f, "docs") for f in fields)
        groups[key].append(row)
    lines = [
        "| set | n | halves | train MB | vocab | sample MB/category | T | trials | log10 MSE | (pair shares) "
        "| random guess |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in sorted(groups):
        group = groups[key]
        mse = sum(r["mse"] for r in group) / len(group)
        pair = sum(r["mse_pair_shares"] for r in group) / len(group)
        s, n, unit, train_mb, vocab, sample_mb, merges = key
        lines.append(
            f"| {s} | {n} | {unit} | {train_mb} | {vocab} | {sample_mb} | {merges} | {len(group)} "
            f"| **{math.log10(mse):.2f}** "
            f"| {math.log10(pair):.2f} | {math.log10(uniform_guess_mse(n)):.2f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--set",
        nargs="+",
        choices=["lang", "code", "domain", "books"],
        default=["lang"],
        help="the category pool: every file of these folders of ../shared/corpora",
    )
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--first-trial", type=int, default=0)
    parser.add_argument("--train-mb", type=float, default=10.0, help="training text in MB (mixed by bytes)")
    parser.add_argument("--sample-mb", type=float, nargs="+", default=[100.0], help="inference sample per category")
    parser.add_argument("--merges", type=int, nargs="+", default=[30000], help="T: merges used")
    parser.add_argument("--vocab", type=int, default=30000)
    parser.add_argument("--min-mb", type=float, default=1.0, help="only categories with at least this much text")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--halves", choices=["docs", "blocks"], default="docs", help="split categories by documents or by ~2 KB blocks"
    )
    parser.add_argument("--log", type=Path, help="append one JSON line per (trial, sample size, T)")
    parser.add_argument("--summary", type=Path, help="print the tables of a --log file and exit")
    args = parser.parse_args()
    if args.summary:
        print(summary([json.loads(line) for line in args.summary.read_text().splitlines() if line.strip()]))
        return 0
    folders = [SHARED / name for name in args.set]
    if not all(folder.is_dir() for folder in folders):
        print(f"skipped: {' '.join(map(str, folders))} not found", file=sys.stderr)
        return 0
    args.set = "+".join(args.set)
    sources = sorted(p for f in folders for p in f.glob("*.jsonl") if p.stat().st_size >= args.min_mb * 1e6)
    if len(sources) < args.n:
        raise SystemExit(f"--n {args.n}: only {len(sources)} categories of >= {args.min_mb} MB in {args.set}")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for trial in range(args.first_trial, args.first_trial + args.trials):
            found = run_trial(args, trial, sources, Path(tmp))
            rows += found
            if args.log:
                with args.log.open("a", encoding="utf-8") as log:
                    for row in found:
                        log.write(json.dumps(row) + "\n")
    print()
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
