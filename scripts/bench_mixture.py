"""Benchmark for ``tokcli infer-mixture``: counting + merge replay against HF BPE training, and the LP.

1. Replay: one category's sample (--sample-mb, built from ../shared/corpora/<--replay-source> files
   concatenated until the size is reached): time ``tokenizers`` needs to train a --vocab byte-level BPE
   on it (train_from_iterator, GPT-2 ByteLevel pre-tokenizer, all cores), then time our pre-token
   counting + replay of the first --merges merges of THAT tokenizer on the same sample (one process).
   Prints the ratio (goal: <= 3x) and peak RSS.
2. LP: --lp-categories categories (every file of ../shared/corpora/{lang,code,domain,books}, sampled
   --lp-sample-mb each), counted with the tokenizer of step 1 retrained on a mixture of all of them,
   then the LP on the first --lp-merges merges (goal: < 2 minutes for 30 categories, T = 30,000).
   With --lp-halves docs|blocks the LP instance is the realistic one of scripts/controlled_experiment.py
   (trial --lp-trial, default 0, of ``--set lang code domain books --n 30 --min-mb 0.5``): a 10 MB random
   mixture of one half of each category trains the tokenizer, samples of --lp-sample-mb come from the
   other half.
   --save-instance / --load-instance pickle the counts and merge list, to time the LP alone.

Falls back to tests/data (tiny) when ../shared/corpora is absent.

    python scripts/bench_mixture.py [--sample-mb 10] [--vocab 30000] [--merges 30000] [--skip-lp]
    python scripts/bench_mixture.py --skip-replay --lp-halves docs --lp-sample-mb 3 --lp-merges 10000 30000
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "corpora"


def read_docs(path: Path) -> list[str]:
    if path.suffix != ".jsonl":
        return path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def take(paths: list[Path], limit: int) -> list[str]:
    out, size = [], 0
    for path in paths:
        for doc in read_docs(path):
            out.append(doc)
            size += len(doc.encode("utf-8"))
            if size >= limit:
                return out
    return out


def train_hf(texts: list[str], vocab: int, out: Path) -> float:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    started = time.perf_counter()
    tok.train_from_iterator(texts, trainer)
    seconds = time.perf_counter() - started
    tok.save(str(out))
    return seconds


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_replay(args: argparse.Namespace, sources: list[Path], tmp: Path) -> None:
    from tokcli.mixture import hf_pretokenizer, read_hf_merges, replay
    from tokcli.mixture.merges import MergeTable

    texts = take(sources, int(args.sample_mb * 1e6))
    size = sum(len(t.encode("utf-8")) for t in texts)
    tok = tmp / "tok.json"
    hf_seconds = min(train_hf(texts, args.vocab, tok) for _ in range(args.repeat))
    table = MergeTable.build(read_hf_merges(tok))
    spec = hf_pretokenizer(tok)
    steps = min(args.merges, len(table.merges))
    count_s, replay_s = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        words = spec.count(texts)
        counted = time.perf_counter()
        result = replay(words, table, steps)
        count_s.append(counted - started)
        replay_s.append(time.perf_counter() - counted)
    ours = min(c + r for c, r in zip(count_s, replay_s, strict=True))
    names = ", ".join(s.name for s in sources)
    print(f"replay benchmark: {size / 1e6:.1f} MB of {names}, {len(words)} distinct words")
    print(f"  tokenizers train_from_iterator, vocab {args.vocab}: {hf_seconds:.2f} s (best of {args.repeat})")
    print(
        f"  tokcli count + replay of {steps} merges: {ours:.2f} s (count {min(count_s):.2f} s + replay "
        f"{min(replay_s):.2f} s; {len(result.pairs)} recorded counts)"
    )
    print(f"  ratio: {ours / hf_seconds:.2f}x (goal <= 3x)   peak RSS {peak_rss_mb():.0f} MB")


def realistic_instance(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Trial ``--lp-trial`` of controlled_experiment.py --set lang code domain books --n 30 --min-mb 0.5
    --halves ``--lp-halves``."""
    import random

    sys.path.insert(0, str(ROOT / "scripts"))
    import controlled_experiment as ce

    folders = [SHARED / name for name in ("lang", "code", "domain", "books")]
    sources = sorted(p for f in folders for p in f.glob("*.jsonl") if p.stat().st_size >= 0.5e6)
    n = args.lp_categories
    rng = random.Random(f"0/lang+code+domain+books/{n}/{args.lp_trial}")
    chosen = sorted(rng.sample(sources, n))
    weights = dict(zip((p.stem for p in chosen), ce.random_simplex(n, rng), strict=True))
    split = {p.stem: ce.halves(ce.read_docs(p), args.lp_halves) for p in chosen}
    texts, truth = ce.build_mixture({k: v[0] for k, v in split.items()}, weights, int(10e6))
    lp_tok = tmp / "lp.json"
    train_hf(texts, args.vocab, lp_tok)
    return count_instance(args, {k: v[1] for k, v in split.items()}, lp_tok, truth)


def count_instance(
    args: argparse.Namespace, categories: dict[str, list[str]], lp_tok: Path, truth: dict[str, float] | None
) -> dict[str, Any]:
    from tokcli.bpe.pairs import pair_key
    from tokcli.mixture import count_categories, hf_pretokenizer, read_hf_merges
    from tokcli.mixture.merges import MergeTable

    lp_table = MergeTable.build(read_hf_merges(lp_tok))
    lp_steps = min(max(args.lp_merges), len(lp_table.merges))
    started = time.perf_counter()
    counts = count_categories(
        categories,
        lp_table,
        hf_pretokenizer(lp_tok),
        lp_steps,
        sample_bytes=int(args.lp_sample_mb * 1e6),
        threads=args.threads,
        use_cache=False,
    )
    print(
        f"LP instance: {len(categories)} categories x {args.lp_sample_mb} MB "
        f"({'disjoint halves' if truth else 'overlapping the training text'}), T up to {lp_steps}: counting "
        f"{time.perf_counter() - started:.1f} s ({args.threads} processes)"
    )
    return {
        "names": list(counts),
        "replays": [c.counts for c in counts.values()],
        "merged": [pair_key(a, b) for a, b, _ in lp_table.merges[:lp_steps]],
        "truth": truth,
    }


def solve_lp(instance: dict[str, Any], merges: list[int], without_cover: bool = False) -> None:
    """Solve and time the LP for each T; ``without_cover``: also without the fixed-weights cover (every
    phase driven by the main LP's own sweep, as before it), in turns, and print the speed-up."""
    import math

    from tokcli.mixture import solve_mixture, to_byte_shares

    names, replays, truth = instance["names"], instance["replays"], instance.get("truth")
    for limit in merges:
        merged = instance["merged"][:limit]
        spent = {}
        for use_cover in (True, False) if without_cover else (True,):
            cpu = time.process_time()
            lp = solve_mixture(replays, merged, use_cover=use_cover)
            cpu = spent[use_cover] = time.process_time() - cpu
            error = ""
            if truth:
                shares = to_byte_shares(lp.weights, replays)
                mse = sum((s - truth[k]) ** 2 for s, k in zip(shares, names, strict=True)) / len(names)
                error = f", log10 MSE {math.log10(mse):.2f}"
            print(
                f"LP{'' if use_cover else ' without the cover'}, {len(names)} categories, T = {len(merged)}: "
                f"{lp.seconds:.1f} s (CPU {cpu:.1f} s; {lp.status}, objective {lp.objective:.3f}{error}; "
                f"{lp.rounds} rounds, {lp.constraints} constraints added, {lp.rows} rows kept, "
                f"{lp.iterations} simplex iterations, {lp.ipm_iterations} IPM; sweeps {lp.sweep_seconds:.1f} s, "
                f"HiGHS {lp.solver_seconds:.1f} s, cover {lp.cover_seconds:.1f} s / {lp.cover_iterations} iterations)"
                f"   peak RSS {peak_rss_mb():.0f} MB",
                flush=True,
            )
        if without_cover:
            print(f"  the cover makes T = {len(merged)} {spent[False] / spent[True]:.2f}x faster (CPU)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sample-mb", type=float, default=10.0)
    parser.add_argument("--replay-source", nargs="+", default=["lang/en.jsonl", "lang/de.jsonl"])
    parser.add_argument("--vocab", type=int, default=30000)
    parser.add_argument("--merges", type=int, default=30000)
    parser.add_argument("--repeat", type=int, default=2, help="best of N for both timings")
    parser.add_argument("--skip-lp", action="store_true")
    parser.add_argument("--lp-categories", type=int, default=30)
    parser.add_argument("--lp-sample-mb", type=float, default=1.0)
    parser.add_argument("--lp-merges", type=int, nargs="+", default=[30000], help="T (several: one LP each)")
    parser.add_argument(
        "--lp-halves", choices=["docs", "blocks"], help="the controlled experiment's disjoint halves"
    )
    parser.add_argument(
        "--lp-trial", type=int, default=0, help="with --lp-halves: which trial's categories and weights (default 0)"
    )
    parser.add_argument("--skip-replay", action="store_true")
    parser.add_argument("--save-instance", type=Path, help="pickle the LP's counts and merge list here")
    parser.add_argument("--load-instance", type=Path, help="time the LP on a --save-instance file only")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lp-without-cover", action="store_true", help="also time the LP without the cover")
    args = parser.parse_args()
    if args.load_instance:
        with args.load_instance.open("rb") as f:
            instance = pickle.load(f)
        solve_lp(instance, args.lp_merges, args.lp_without_cover)
        return 0
    if SHARED.is_dir():
        sources = [SHARED / s for s in args.replay_source]
        pool = sorted(p for d in ("lang", "code", "domain", "books") for p in (SHARED / d).glob("*.jsonl"))
    else:
        print(f"{SHARED} not found: falling back to tests/data (numbers are not meaningful)")
        data = ROOT / "tests" / "data"
        sources = [data / "austen.txt"]
        pool = [data / "austen.txt", *sorted((data / "code").glob("*.jsonl"))]
        args.vocab, args.merges, args.lp_merges = 1000, 700, [700]
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_replay:
            bench_replay(args, sources, Path(tmp))
        if args.skip_lp:
            return 0
        if args.lp_halves:
            instance = realistic_instance(args, Path(tmp))
        else:
            categories = {p.stem: take([p], int(args.lp_sample_mb * 1e6)) for p in pool[: args.lp_categories]}
            mixed = [t for docs in categories.values() for t in docs[: max(1, len(docs) // 2)]]
            lp_tok = Path(tmp) / "lp.json"
            train_hf(mixed, args.vocab, lp_tok)
            instance = count_instance(args, categories, lp_tok, None)
    if args.save_instance:
        with args.save_instance.open("wb") as f:
            pickle.dump(instance, f)
    solve_lp(instance, args.lp_merges, args.lp_without_cover)
    return 0


if __name__ == "__main__":
    sys.exit(main())
