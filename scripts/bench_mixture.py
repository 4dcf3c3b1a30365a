"""Benchmark for ``tokcli infer-mixture``: counting + merge replay against HF BPE training, and the LP.

1. Replay: one category's sample (--sample-mb, built from ../shared/corpora/<--replay-source> files
   concatenated until the size is reached): time ``tokenizers`` needs to train a --vocab byte-level BPE
   on it (train_from_iterator, GPT-2 ByteLevel pre-tokenizer, all cores), then time our pre-token
   counting + replay of the first --merges merges of THAT tokenizer on the same sample (one process).
   Prints the ratio (goal: <= 3x) and peak RSS.
2. LP: --lp-categories categories (every file of ../shared/corpora/{lang,code,domain,books}, sampled
   --lp-sample-mb each), counted with the tokenizer of step 1 retrained on a mixture of all of them,
   then the LP on the first --lp-merges merges (goal: < 2 minutes for 30 categories, T = 30,000).

Falls back to tests/data (tiny) when ../shared/corpora is absent.

    python scripts/bench_mixture.py [--sample-mb 10] [--vocab 30000] [--merges 30000] [--skip-lp]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> int:
    from tokcli.mixture import count_categories, hf_pretokenizer, read_hf_merges, replay, solve_mixture
    from tokcli.mixture.merges import MergeTable, pair_key

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sample-mb", type=float, default=10.0)
    parser.add_argument("--replay-source", nargs="+", default=["lang/en.jsonl", "lang/de.jsonl"])
    parser.add_argument("--vocab", type=int, default=30000)
    parser.add_argument("--merges", type=int, default=30000)
    parser.add_argument("--repeat", type=int, default=2, help="best of N for both timings")
    parser.add_argument("--skip-lp", action="store_true")
    parser.add_argument("--lp-categories", type=int, default=30)
    parser.add_argument("--lp-sample-mb", type=float, default=1.0)
    parser.add_argument("--lp-merges", type=int, default=30000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if SHARED.is_dir():
        sources = [SHARED / s for s in args.replay_source]
        pool = sorted(p for d in ("lang", "code", "domain", "books") for p in (SHARED / d).glob("*.jsonl"))
    else:
        print(f"{SHARED} not found: falling back to tests/data (numbers are not meaningful)")
        data = ROOT / "tests" / "data"
        sources = [data / "austen.txt"]
        pool = [data / "austen.txt", *sorted((data / "code").glob("*.jsonl"))]
        args.vocab, args.merges, args.lp_merges = 1000, 700, 700
    texts = take(sources, int(args.sample_mb * 1e6))
    size = sum(len(t.encode("utf-8")) for t in texts)
    with tempfile.TemporaryDirectory() as tmp:
        tok = Path(tmp) / "tok.json"
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
        if args.skip_lp:
            return 0
        categories = {p.stem: take([p], int(args.lp_sample_mb * 1e6)) for p in pool[: args.lp_categories]}
        mixed = [t for docs in categories.values() for t in docs[: max(1, len(docs) // 2)]]
        lp_tok = Path(tmp) / "lp.json"
        train_hf(mixed, args.vocab, lp_tok)
        lp_table = MergeTable.build(read_hf_merges(lp_tok))
        lp_steps = min(args.lp_merges, len(lp_table.merges))
        started = time.perf_counter()
        counts = count_categories(
            categories, lp_table, hf_pretokenizer(lp_tok), lp_steps, threads=args.threads, use_cache=False
        )
        count_seconds = time.perf_counter() - started
        merged = [pair_key(a, b) for a, b, _ in lp_table.merges[:lp_steps]]
        lp = solve_mixture([c.counts for c in counts.values()], merged)
        print(
            f"LP benchmark: {len(categories)} categories x {args.lp_sample_mb} MB, T = {lp_steps}: counting "
            f"{count_seconds:.1f} s ({args.threads} processes); LP {lp.seconds:.1f} s ({lp.status}; {lp.rounds} "
            f"rounds, {lp.constraints} constraints added, {lp.rows} rows kept, sweeps {lp.sweep_seconds:.1f} s, "
            f"HiGHS {lp.solver_seconds:.1f} s)   peak RSS {peak_rss_mb():.0f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
