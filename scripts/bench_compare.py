"""Benchmark: ``tokcli compare`` wall time against ``tokcli encode --format count`` on the same inputs.

compare encodes each corpus once per tokenizer and derives every metric from that one encoding, so its
cost should be close to a plain count. Both run as fresh subprocesses, alternating, best of --repeat.

Usage:  python scripts/bench_compare.py [--mb 20] [--repeat 3] [--tokenizer PATH] [--inputs PATH ...]
Reads about --mb MB of ../shared/corpora/lang/*.jsonl (falls back to tests/data), or the --inputs
files (a folder: every file in it, each one corpus) as they are, and by default the Llama 2
tokenizer.json of ../shared/reference (falls back to the test fixture). The machine may be shared:
runs alternate, and the ratio of the best times is printed with the median of the paired ratios,
and the ratio of the CPU seconds the runs took (user + system).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def build_inputs(folder: Path, megabytes: float) -> list[Path]:
    """One JSONL corpus per language, together about ``megabytes`` MB."""
    sources = sorted((SHARED / "corpora" / "lang").glob("*.jsonl"))
    if not sources:
        print("note: ../shared/corpora not found; using tests/data", file=sys.stderr)
        sources = sorted((ROOT / "tests" / "data" / "parallel" / "udhr").glob("*.jsonl"))
    budget = int(megabytes * 1e6 / len(sources))
    outputs = []
    for src in sources:
        dst = folder / src.name
        written = 0
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            while written < budget:
                for line in fin:
                    fout.write(line)
                    written += len(line)
                    if written >= budget:
                        break
                else:
                    fin.seek(0)
        outputs.append(dst)
    return outputs


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, all threads) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tokenizer", type=Path, default=None)
    parser.add_argument("--inputs", type=Path, nargs="+", default=None, help="corpus files or folders, as they are")
    args = parser.parse_args()
    tokenizer = args.tokenizer or SHARED / "reference" / "tokenizers" / "llama-2" / "tokenizer.json"
    if not tokenizer.is_file():
        tokenizer = ROOT / "tests" / "data" / "tokenizers" / "bpe-bytelevel.json"
    tokcli = [sys.executable, "-m", "tokcli"]
    with tempfile.TemporaryDirectory() as tmp:
        if args.inputs:
            files = [f for p in args.inputs for f in (sorted(p.iterdir()) if p.is_dir() else [p])]
        else:
            files = build_inputs(Path(tmp), args.mb)
        inputs = [str(p) for p in files]
        size = sum(Path(p).stat().st_size for p in inputs) / 1e6
        compare = [*tokcli, "compare", "-t", str(tokenizer), *inputs, "--format", "jsonl"]
        count = [*tokcli, "encode", "-t", str(tokenizer), *inputs, "--format", "count"]
        count_runs, compare_runs = [], []
        for _ in range(args.repeat):
            count_runs.append(timed(count))
            compare_runs.append(timed(compare))
    counts, compares = [w for w, _ in count_runs], [w for w, _ in compare_runs]
    best_count, best_compare = min(counts), min(compares)
    paired = sorted(b / a for a, b in zip(counts, compares, strict=True))
    count_cpu, compare_cpu = min(c for _, c in count_runs), min(c for _, c in compare_runs)
    print(f"tokenizer: {tokenizer}")
    print(f"input: {len(inputs)} corpora, {size:.1f} MB")
    print(f"encode --format count: {best_count:.2f} s (best of {args.repeat})")
    print(f"compare:               {best_compare:.2f} s (best of {args.repeat})")
    print(f"ratio compare / count: {best_compare / best_count:.2f} (goal <= 1.2)")
    print(f"paired ratios: median {paired[len(paired) // 2]:.2f}, range {paired[0]:.2f}-{paired[-1]:.2f}")
    print(
        f"CPU (user + system, best): count {count_cpu:.2f} s, compare {compare_cpu:.2f} s, "
        f"ratio {compare_cpu / count_cpu:.2f} (what the wall ratio tends to when other jobs take the cores)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
