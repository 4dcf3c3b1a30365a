"""Benchmark the corpus reader against the raw libraries doing the same work, in one run.

Builds a ~100 MB JSONL file and a ~100 MB plain-text file (one document per line) by repeating real
text from ../shared/corpora (tests/data when that folder is absent), then times, best of --repeat:

* JSONL: raw ``for line in f: orjson.loads(line)["text"]`` vs ``Corpus.text_batches()``,
  ``Corpus.documents()`` and HF ``load_dataset("json", streaming=True)`` in Arrow batches;
* text:  raw ``for line in open(f, encoding="utf-8")`` vs the same three;
* Parquet (same documents): raw ``pyarrow.parquet`` ``iter_batches`` + ``to_pylist`` vs the reader (HF-backed);

and prints each as a ratio of the raw throughput. With --cold it also runs each reader once in a fresh
process (what one CLI run pays, lazy imports such as ``datasets`` included). With --rss it reads a
100 MB and a 400 MB file in fresh processes and prints the peak RSS of each (it must not grow with size).

    .venv/bin/python scripts/bench_reader.py [--size-mb 100] [--repeat 3] [--cold] [--rss]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "corpora"
sys.path.insert(0, str(REPO))


def real_texts() -> Iterator[str]:
    """Documents from the shared corpora (running text and code), or from tests/data."""
    import orjson

    if SHARED.is_dir():
        files = sorted((SHARED / "lang").glob("*.jsonl")) + sorted((SHARED / "code").glob("*.jsonl"))
    else:
        print(f"note: {SHARED} not found; repeating the small fixtures in tests/data instead")
        files = sorted((REPO / "tests" / "data").rglob("*.jsonl"))
    for path in files:
        with open(path, "rb") as fh:
            for line in fh:
                text = orjson.loads(line).get("text")
                if isinstance(text, str) and text:
                    yield text


def build_files(folder: Path, size: int) -> tuple[Path, Path]:
    """JSONL (whole documents) and text (their non-empty lines), each about ``size`` bytes of text."""
    import orjson

    jsonl, text = folder / f"bench-{size}.jsonl", folder / f"bench-{size}.txt"
    if jsonl.exists() and text.exists():
        return jsonl, text
    written_j = written_t = 0
    with open(jsonl, "wb") as fj, open(text, "wb") as ft:
        while written_j < size or written_t < size:
            for doc in real_texts():
                if written_j < size:
                    line = orjson.dumps({"text": doc}) + b"\n"
                    fj.write(line)
                    written_j += len(line)
                if written_t < size:
                    lines = b"\n".join(ln for ln in doc.encode().split(b"\n") if ln.strip()) + b"\n"
                    ft.write(lines)
                    written_t += len(lines)
                if written_j >= size and written_t >= size:
                    break
    return jsonl, text


def build_parquet(jsonl: Path) -> Path:
    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = jsonl.with_suffix(".parquet")
    if not path.exists():
        with open(jsonl, "rb") as fh:
            texts = [orjson.loads(line)["text"] for line in fh]
        pq.write_table(pa.table({"text": texts}), path, row_group_size=4096)
    return path


# ---------------------------------------------------------------------------------------------------
# Workloads: each returns the number of documents it saw (checked equal across readers).


def raw_jsonl(path: Path) -> int:
    import orjson

    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            orjson.loads(line)["text"]
            n += 1
    return n


def raw_text(path: Path) -> int:
    n = 0
    with open(path, encoding="utf-8") as fh:
        for _line in fh:
            n += 1
    return n


def raw_parquet(path: Path) -> int:
    import pyarrow.parquet as pq

    n = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=1000, columns=["text"]):
        n += len(batch.column(0).to_pylist())
    return n


def reader_batches(path: Path) -> int:
    from tokcli import Corpus, CorpusConfig

    return sum(len(b) for b in Corpus(CorpusConfig(inputs=(str(path),))).text_batches(1000))


def reader_documents(path: Path) -> int:
    from tokcli import Corpus, CorpusConfig

    n = 0
    for _doc in Corpus(CorpusConfig(inputs=(str(path),))).documents():
        n += 1
    return n


def hf_arrow(builder: str) -> Callable[[Path], int]:
    def run(path: Path) -> int:
        import datasets

        ds = datasets.load_dataset(builder, data_files=str(path), split="train", streaming=True)
        n = 0
        for table in ds.with_format("arrow").iter(batch_size=1000):
            n += sum(1 for t in table.column("text").to_pylist() if t)
        return n

    return run


def best_time(fn: Callable[[Path], int], path: Path, repeat: int) -> tuple[float, int]:
    best, count = float("inf"), -1
    for _ in range(repeat):
        start = time.perf_counter()
        count = fn(path)
        best = min(best, time.perf_counter() - start)
    return best, count


def compare(
    title: str, path: Path, raw: Callable[[Path], int], others: dict[str, Callable[[Path], int]], repeat: int
) -> None:
    size = path.stat().st_size
    raw_s, raw_n = best_time(raw, path, repeat)
    print(f"\n{title}: {path.name}, {size / 1e6:.0f} MB, {raw_n} documents (best of {repeat})")
    print(f"  {'raw baseline':28s} {raw_s:6.2f} s  {size / raw_s / 1e6:6.0f} MB/s  ratio 1.00")
    for name, fn in others.items():
        secs, n = best_time(fn, path, repeat)
        flag = "" if n == raw_n else f"  (saw {n} documents, baseline {raw_n})"
        print(f"  {name:28s} {secs:6.2f} s  {size / secs / 1e6:6.0f} MB/s  ratio {raw_s / secs:.2f}{flag}")


# ---------------------------------------------------------------------------------------------------
# Fresh processes: what one CLI run pays (lazy imports and setup included), and peak RSS


def peak_rss_mib() -> float:
    """High-water RSS of this process (VmHWM; ru_maxrss would include the parent's peak before exec)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def child(workload: str, path: str) -> None:
    """Run one workload on ``path`` and print documents, seconds (imports included) and peak RSS."""
    start = time.perf_counter()
    n = WORKLOADS[workload](Path(path))
    print(f"{n} {time.perf_counter() - start:.3f} {peak_rss_mib():.0f}")


def in_child(workload: str, path: Path) -> tuple[int, float, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run(
        [sys.executable, __file__, "--child", workload, str(path)], capture_output=True, text=True, env=env
    )
    if out.returncode != 0:
        raise SystemExit(f"child {workload} failed: {out.stderr.strip().splitlines()[-1:]}")
    n, secs, mib = out.stdout.split()
    return int(n), float(secs), mib


def compare_cold(title: str, path: Path, raw: str, others: list[str]) -> None:
    size = path.stat().st_size
    raw_n, raw_s, raw_mib = in_child(raw, path)
    print(f"\n{title}, one fresh process each (imports and setup included): {size / 1e6:.0f} MB")
    print(f"  {'raw baseline':28s} {raw_s:6.2f} s  ratio 1.00  peak RSS {raw_mib:>5s} MiB")
    for name in others:
        n, secs, mib = in_child(name, path)
        flag = "" if n == raw_n else f"  (saw {n} documents, baseline {raw_n})"
        print(f"  {name:28s} {secs:6.2f} s  ratio {raw_s / secs:.2f}  peak RSS {mib:>5s} MiB{flag}")


WORKLOADS: dict[str, Callable[[Path], int]] = {
    "raw orjson lines": raw_jsonl,
    "raw text lines": raw_text,
    "raw pyarrow parquet": raw_parquet,
    "Corpus.text_batches": reader_batches,
    "Corpus.documents": reader_documents,
    "HF json streaming (arrow)": hf_arrow("json"),
    "HF text streaming (arrow)": hf_arrow("text"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rss", action="store_true", help="also compare peak RSS at 1x and 4x the size")
    parser.add_argument("--cold", action="store_true", help="also time each reader once in a fresh process")
    parser.add_argument("--workdir", help="keep the generated files here (default: a temporary folder)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    with tempfile.TemporaryDirectory(prefix="tokcli-bench-") as tmp:
        work = Path(args.workdir) if args.workdir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        # HF caches in a temporary folder; never touch the network.
        os.environ["HF_HOME"] = str(Path(tmp) / "hf")
        os.environ["HF_DATASETS_CACHE"] = str(Path(tmp) / "hf" / "datasets")
        os.environ["HF_DATASETS_OFFLINE"] = os.environ["HF_HUB_OFFLINE"] = "1"
        size = args.size_mb * 1_000_000
        start = time.perf_counter()
        jsonl, text = build_files(work, size)
        parquet = build_parquet(jsonl)
        print(f"built test files in {time.perf_counter() - start:.1f} s (cpu count {os.cpu_count()})")
        ours = {"Corpus.text_batches": reader_batches, "Corpus.documents": reader_documents}
        compare("JSONL", jsonl, raw_jsonl, {**ours, "HF json streaming (arrow)": hf_arrow("json")}, args.repeat)
        compare("text", text, raw_text, {**ours, "HF text streaming (arrow)": hf_arrow("text")}, args.repeat)
        compare("Parquet (reader uses HF)", parquet, raw_parquet, ours, args.repeat)
        if args.cold:
            compare_cold("JSONL", jsonl, "raw orjson lines", [*ours, "HF json streaming (arrow)"])
            compare_cold("text", text, "raw text lines", [*ours, "HF text streaming (arrow)"])
        if args.rss:
            print("\npeak RSS (VmHWM) of a fresh process reading the whole file with Corpus.text_batches:")
            for kind, small in (("JSONL", jsonl), ("text", text)):
                big = work / f"x4-{small.name}"
                with open(big, "wb") as out:
                    for _ in range(4):
                        out.write(small.read_bytes())
                for path in (small, big):
                    n, secs, mib = in_child("Corpus.text_batches", path)
                    mb = path.stat().st_size / 1e6
                    print(f"  {kind:6s} {mb:5.0f} MB  {n:8d} documents  {secs:6.2f} s  peak RSS {mib} MiB")
                big.unlink()

if __name__ == "__main__":
    main()
