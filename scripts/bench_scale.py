"""Benchmark and acceptance check for scale-out: count, train --from-counts and sharded encode.

Usage (from the repository root)::

    .venv/bin/python scripts/bench_scale.py [--mb 20 --mb 50] [--train-mb 4] [--repeat 3] [--workdir DIR] [--no-ray]
    .venv/bin/python scripts/bench_scale.py --mb 20 --mb 50 --mb 100 --only count --only encode --repeat 3
    .venv/bin/python scripts/bench_scale.py --input corpus.jsonl --input other.txt --only count --no-ray
    .venv/bin/python scripts/bench_scale.py --only routes --routes-mb 4 --routes-mb 20 --repeat 3 --no-ray

It builds a multilingual + code JSONL input of ``--mb`` MB (as scripts/bench_encode.py does, from
../shared/corpora, falling back to tests/data), or takes the ``--input`` files, and then reports, all
in this process (several sizes or files: the speed runs for each, the identity checks on the first):

- identity: sha256 of the sorted counts for --engine local and ray at 1, 2 and 8 splits (and 1 or 2
  workers); train --from-counts vs train on the raw text (first ``--train-mb`` MB) for the gpt2,
  cl100k and llama3 presets (32k vocabulary) and spm-bpe (8k); encode shards across engines and
  workers, and their concatenation vs ``encode -f bin``;
- speed (best of ``--repeat``, the compared runs taking turns): count (at its own default plan) and
  encode (8 splits) at 2 workers vs 1 worker, and --workers 1
  vs the plain single-process path (count: the corpus reader + the same word counter + a sort, without
  and with writing the counts as one Parquet file; encode:
  ``encode_documents`` to one .bin file); Ray runs on an already started private cluster, whose
  start-up time is reported separately;
- ``--only routes``: hf-bpe (gpt2, 32k) from the counts of the first ``--routes-mb`` MB by route 1
  (``--from-counts-method repeat``) and route 2 (``merge-loop``) vs HF's ``train_from_iterator`` on the
  same raw documents (already in memory), best of ``--repeat``, with the three files compared.

Exit status 1 when an identity check fails. Numbers are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

from bench_encode import build_input  # noqa: E402

from tokcli.corpus import Corpus, CorpusConfig  # noqa: E402
from tokcli.counts.count import CountConfig, plan_count, run_count  # noqa: E402
from tokcli.counts.store import counts_sha256  # noqa: E402
from tokcli.encode import shards as scale_encode  # noqa: E402
from tokcli.encode.options import EncodeConfig  # noqa: E402
from tokcli.encode.shards import encode_shards  # noqa: E402
from tokcli.parallel.options import DEFAULT_SPLIT_SIZE, ScaleConfig  # noqa: E402
from tokcli.parallel.plan import plan_splits  # noqa: E402
from tokcli.pretok.spec import parse_pretok, word_counter  # noqa: E402

BPE = str(ROOT / "tests" / "data" / "tokenizers" / "bpe-bytelevel.json")
FAILURES: list[str] = []


def best(repeat: int, func: Callable[[], object]) -> float:
    return best_of(repeat, func)[0]


def best_of(repeat: int, *funcs: Callable[[], object]) -> list[float]:
    """Best time of each function over ``repeat`` rounds, the functions taking turns within a round (so
    a slow minute of this shared machine hits all of them, not one) and each round starting one
    function later (so none always runs right after the same one, e.g. after a run on both cores)."""
    times: list[list[float]] = [[] for _ in funcs]
    for round_ in range(repeat):
        for k in range(len(funcs)):
            which = (round_ + k) % len(funcs)
            started = time.perf_counter()
            funcs[which]()
            times[which].append(time.perf_counter() - started)
    return [min(spent) for spent in times]


def _raw_encoder(texts: list[str], barrier: Any, done: Any) -> None:
    from tokcli.loading import load_tokenizer

    tokenizer = load_tokenizer(BPE)
    tokenizer.encode_batch_array(texts[:10], threads=1)
    barrier.wait()
    for start in range(0, len(texts), 1000):
        tokenizer.encode_batch_array(texts[start : start + 1000], threads=1)
    done.put(time.perf_counter())


def raw_encoder_time(texts: list[str], processes: int) -> float:
    """The encoder alone (tiktoken's, one thread each) on ``texts`` dealt over ``processes`` started and
    loaded beforehand: the parallel speed-up this machine allows, with no reading, writing or start-up."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier, done = context.Barrier(processes + 1), context.Queue()
    workers = [
        context.Process(target=_raw_encoder, args=(texts[k::processes], barrier, done)) for k in range(processes)
    ]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    finished = max(done.get() for _ in workers)
    for worker in workers:
        worker.join()
    return finished - started


def check(label: str, ok: bool) -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {label}")
    if not ok:
        FAILURES.append(label)


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def split_size_for(corpus: CorpusConfig, n: int) -> int:
    whole = sum(s.size for s in plan_splits(corpus, 10**12))
    return -(-whole // n)


def plain_count(corpus: CorpusConfig, output: Path | None = None) -> None:
    """The single-process path: the corpus reader, the same word counter and a sort; with ``output``,
    the sorted counts are also written as one Parquet file (zstd), as ``count`` writes its parts."""
    count = word_counter(parse_pretok("gpt2"))
    words = count(t for batch in Corpus(corpus).text_batches(1000) for t in batch)
    ranked = sorted(words.items())
    if output is not None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({"word": pa.array([w for w, _ in ranked], pa.binary()), "count": [n for _, n in ranked]})
        pq.write_table(table, output, compression="zstd")


def check_fast_words(corpus: CorpusConfig) -> None:
    """The regex-module word cutter (tokcli.pretok.regex_cutter) against HF's pre_tokenize_str on every document."""
    texts = [t for batch in Corpus(corpus).text_batches(1000) for t in batch]
    for preset, digits in [("gpt2", "none"), ("cl100k", "none"), ("o200k", "none"), ("llama3", "rtl3")]:
        spec = parse_pretok(preset, digits)
        started = time.perf_counter()
        fast = word_counter(spec)(texts)
        t_fast = time.perf_counter() - started
        started = time.perf_counter()
        slow = word_counter(spec, fast=False)(texts)
        t_slow = time.perf_counter() - started
        check(
            f"counts {preset} --digits {digits}: regex cutter == HF pre_tokenize_str ({len(fast)} words; "
            f"{t_fast:.1f} s vs {t_slow:.1f} s)",
            fast == slow,
        )


def bench_count(
    work: Path, corpus: CorpusConfig, repeat: int, use_ray: bool, splits: int = 0, identity: bool = True
) -> None:
    eight = split_size_for(corpus, splits) if splits else None  # 0: count's own default
    print(f"count (--pretok gpt2), {len(plan_count(corpus, eight))} splits")
    out = work / "counts"

    def run(workers: int, engine: str = "local") -> None:
        run_count(CountConfig(output=str(out)), corpus, ScaleConfig(engine=engine, workers=workers, split_size=eight))

    import pyarrow.parquet  # noqa: F401  (imported before the clock starts, as --workers 1 finds it)

    plain, plain_out, one, two = best_of(
        repeat, lambda: plain_count(corpus), lambda: plain_count(corpus, work / "plain.parquet"), lambda: run(1),
        lambda: run(2),
    )  # fmt: skip
    print(
        f"  plain single-process {plain:.2f} s, writing its counts {plain_out:.2f} s; --workers 1 {one:.2f} s "
        f"({one / plain:.3f}x of plain, {one / plain_out:.3f}x of plain writing the same counts)"
    )
    print(f"  --workers 2 {two:.2f} s: {one / two:.2f}x faster than --workers 1")
    if use_ray:
        ray_two = best(repeat, lambda: run(2, "ray"))
        print(f"  --engine ray --workers 2 (warm cluster) {ray_two:.2f} s: {one / ray_two:.2f}x faster than local 1")
    if not identity:
        return
    digests = {}
    for n in (1, 2, 8):
        for engine, workers in [("local", 1), ("local", 2)] + ([("ray", 2)] if use_ray else []):
            target = work / f"c-{engine}-{workers}-{n}"
            scale = ScaleConfig(engine=engine, workers=workers, split_size=split_size_for(corpus, n))
            run_count(CountConfig(output=str(target), by="source"), corpus, scale)
            digests[(engine, workers, n)] = counts_sha256(target)
            shutil.rmtree(target)
    check(
        f"count sha256 identical over {sorted(digests)}: {next(iter(digests.values()))[:16]}",
        len(set(digests.values())) == 1,
    )


def bench_encode(
    work: Path, corpus: CorpusConfig, repeat: int, use_ray: bool, splits: int = 8, identity: bool = True
) -> None:
    from tokcli.encode import encode_documents
    from tokcli.encode.run import corpus_documents
    from tokcli.loading import load_tokenizer

    eight = split_size_for(corpus, splits) if splits else None  # 0: encode's own default (64MB)
    planned = len(plan_splits(corpus, eight or DEFAULT_SPLIT_SIZE))
    print(f"encode (tests/data bpe-bytelevel.json, bin), {planned} splits")
    single = work / "one.bin"

    def plain(threads: int = 0) -> None:
        config = EncodeConfig(tokenizer=BPE, output=str(single), format="bin", threads=threads)
        encode_documents(load_tokenizer(BPE), corpus_documents(Corpus(corpus), config), config)

    def run(workers: int, engine: str = "local", threads: int = 0, name: str = "shards") -> Path:
        # each run loads its tokenizer, as a `tokcli encode` process and the plain path above do (the
        # one cached by earlier runs of this process, some on two threads, encoded ~10% slower on one
        # thread in this benchmark: 4.20 s vs 3.91 s at 50 MB; the cause is not known)
        scale_encode._TOKENIZERS.clear()
        out = work / name
        config = EncodeConfig(tokenizer=BPE, output=f"{out}/", threads=threads)
        encode_shards(config, corpus, ScaleConfig(engine=engine, workers=workers, split_size=eight))
        return out

    t_plain, one, two, one_t1, plain_t1 = best_of(
        repeat, plain, lambda: run(1), lambda: run(2), lambda: run(1, threads=1), lambda: plain(threads=1)
    )
    print(f"  plain encode -f bin {t_plain:.2f} s; --workers 1 {one:.2f} s ({one / t_plain:.3f}x of plain)")
    print(f"  --workers 2 {two:.2f} s: {one / two:.2f}x faster than --workers 1 (which encodes on all CPUs' threads)")
    # one CPU per worker (what a Ray task with num_cpus=1 gets): the scaling of the sharded engine itself
    print(
        f"  one thread per worker: plain --threads 1 {plain_t1:.2f} s; --workers 1 --threads 1 {one_t1:.2f} s "
        f"({one_t1 / plain_t1:.3f}x of plain); --workers 2 is {one_t1 / two:.2f}x faster"
    )
    texts = [t for batch in Corpus(corpus).text_batches(1000) for t in batch]
    raw_one, raw_two = best_of(repeat, lambda: raw_encoder_time(texts, 1), lambda: raw_encoder_time(texts, 2))
    print(
        f"  the raw encoder alone, one thread per process, processes started and loaded beforehand: 1 process "
        f"{raw_one:.2f} s, 2 processes {raw_two:.2f} s ({raw_one / raw_two:.2f}x: what this machine allows)"
    )
    if use_ray:
        ray_two = best(repeat, lambda: run(2, "ray"))
        print(f"  --engine ray --workers 2 (warm cluster) {ray_two:.2f} s: {one / ray_two:.2f}x faster than local 1")
    if not identity:
        return
    outputs = {"local-1": folder_bytes(run(1, name="e1")), "local-2": folder_bytes(run(2, name="e2"))}
    if use_ray:
        outputs["ray-2"] = folder_bytes(run(2, "ray", name="e3"))
    check(
        f"encode shards byte-identical over {sorted(outputs)}", all(o == outputs["local-1"] for o in outputs.values())
    )
    shards = sorted((work / "e1").glob("tokens-*.bin"))
    check("concatenated shards == encode -f bin", b"".join(p.read_bytes() for p in shards) == single.read_bytes())


def bench_train(work: Path, source: Path, train_mb: float) -> None:
    from tokcli.train import train_tokenizer
    from tokcli.train.from_counts import train_from_counts
    from tokcli.train.options import TrainConfig

    print(f"train --from-counts vs train ({train_mb:g} MB)")
    text = work / "train.jsonl"
    with open(source, "rb") as src, open(text, "wb") as dst:
        dst.writelines(line for line, _ in zip(src, range(10**9), strict=False) if dst.tell() < train_mb * 1e6)
    corpus = CorpusConfig(inputs=(str(text),))
    cases = [
        ("gpt2", {"preset": "gpt2", "vocab_size": 32000}),
        ("cl100k", {"preset": "cl100k", "vocab_size": 32000}),
        ("llama3", {"preset": "llama3", "vocab_size": 32000}),
        ("spm:nmt_nfkc", {"backend": "spm-bpe", "vocab_size": 8000}),
    ]
    for pretok, options in cases:
        suffix = ".model" if options.get("backend") == "spm-bpe" else ".json"
        direct = TrainConfig(output=str(work / f"direct{suffix}"), **options)  # type: ignore[arg-type]
        started = time.perf_counter()
        train_tokenizer(direct, Corpus(corpus))
        t_direct = time.perf_counter() - started
        counts = work / "train-counts"
        started = time.perf_counter()
        run_count(CountConfig(output=str(counts), pretok=pretok), corpus, ScaleConfig(workers=2))
        t_count = time.perf_counter() - started
        from_counts = TrainConfig(output=str(work / f"counts{suffix}"), from_counts=str(counts), **options)  # type: ignore[arg-type]
        started = time.perf_counter()
        train_from_counts(from_counts)
        t_train = time.perf_counter() - started
        same = (work / f"direct{suffix}").read_bytes() == (work / f"counts{suffix}").read_bytes()
        digest = hashlib.sha256((work / f"counts{suffix}").read_bytes()).hexdigest()[:16]
        check(
            f"{pretok} {options}: identical ({digest}); train {t_direct:.1f} s, count {t_count:.1f} s + "
            f"train --from-counts {t_train:.1f} s",
            same,
        )


def bench_routes(work: Path, source: Path, megabytes: float, repeat: int) -> None:
    from tokcli.train.from_counts import train_from_counts
    from tokcli.train.hf import build_tokenizer
    from tokcli.train.options import TrainConfig

    text = work / f"routes-{megabytes:g}mb.jsonl"
    with open(source, "rb") as src, open(text, "wb") as dst:
        dst.writelines(line for line, _ in zip(src, range(10**9), strict=False) if dst.tell() < megabytes * 1e6)
    corpus = CorpusConfig(inputs=(str(text),))
    documents = [t for batch in Corpus(corpus).text_batches(1000) for t in batch]
    counts = work / f"routes-counts-{megabytes:g}"
    shutil.rmtree(counts, ignore_errors=True)
    summary = run_count(CountConfig(output=str(counts), pretok="gpt2"), corpus, ScaleConfig(workers=2))
    options = {"preset": "gpt2", "vocab_size": 32000}
    files: dict[str, bytes] = {}

    def plain() -> None:
        tokenizer, trainer = build_tokenizer(TrainConfig(**options))  # type: ignore[arg-type]
        batches = (documents[i : i + 1000] for i in range(0, len(documents), 1000))
        tokenizer.train_from_iterator(batches, trainer=trainer, length=len(documents))
        files["plain"] = tokenizer.to_str(pretty=True).encode()

    def route(method: str) -> Callable[[], object]:
        out = work / f"routes-{method}.json"
        config = TrainConfig(output=str(out), from_counts=str(counts), from_counts_method=method, **options)  # type: ignore[arg-type]
        return lambda: (train_from_counts(config), files.__setitem__(method, out.read_bytes()))

    times = {"plain": best(repeat, plain)}
    for method in ("repeat", "merge-loop"):
        times[method] = best(repeat, route(method))
    parallel = os.environ.get("TOKENIZERS_PARALLELISM")
    distinct = summary.manifest.get("distinct", 0)
    print(
        f"routes, {megabytes:g} MB ({len(documents):,} docs, {distinct:,} distinct words), gpt2 32k, "
        f"best of {repeat}, TOKENIZERS_PARALLELISM={parallel}: train_from_iterator {times['plain']:.2f} s, "
        f"route 1 (repeat) {times['repeat']:.2f} s, route 2 (merge-loop) {times['merge-loop']:.2f} s; "
        f"route 2 / route 1 {times['merge-loop'] / times['repeat']:.2f}, "
        f"route 2 / train_from_iterator {times['merge-loop'] / times['plain']:.2f}, "
        f"route 1 / train_from_iterator {times['repeat'] / times['plain']:.2f}"
    )
    check(
        f"routes {megabytes:g} MB: route 1, route 2 and train_from_iterator byte-identical",
        files["plain"] == files["repeat"] == files["merge-loop"],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mb", type=float, action="append",
        help="input size in MB, built from ../shared/corpora (repeatable: one speed run per size, identity checks "
        "on the first; default 20 and 50: a 2-worker run's fixed costs, ~0.3 s, weigh most at the smaller)",
    )  # fmt: skip
    parser.add_argument(
        "--input", type=Path, action="append",
        help="time these JSONL or text files instead of a built input (repeatable: one run per file)",
    )  # fmt: skip
    parser.add_argument("--train-mb", type=float, default=4)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs each (default 3)")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument(
        "--splits", type=int, default=None,
        help="splits for the speed runs (the identity checks always use 1, 2 and 8); default: count's own plan "
        "(~32 splits from the input's size, as `tokcli count` makes) and 8 for encode (its 64MB shards make one "
        "split of a smaller input); 0: each command's own plan",
    )  # fmt: skip
    parser.add_argument(
        "--only", choices=["count", "encode", "train", "routes"], action="append", help="run only these parts"
    )
    parser.add_argument("--routes-mb", type=float, action="append", help="MB for --only routes (repeatable; 4, 20)")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="tokcli-bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    sources = list(args.input or [])
    for megabytes in args.mb or ([] if sources else [20, 50]):
        sources.append(work / f"input-{megabytes:g}mb.jsonl")
        build_input(sources[-1], megabytes)
    for source in sources:
        if not source.is_file():
            print(f"bench_scale: {source}: no such file", file=sys.stderr)
            return 2
    use_ray = not args.no_ray
    if use_ray:
        try:
            import ray
        except ImportError:
            print("ray not installed: Ray runs skipped (pip install 'tokcli[ray]')")
            use_ray = False
    if use_ray:
        temp = tempfile.mkdtemp(prefix=f"tokcli-ray-{os.getuid()}-", dir="/tmp")
        started = time.perf_counter()
        ray.init(address="local", num_cpus=2, include_dashboard=False, _temp_dir=temp, logging_level="WARNING",
                 log_to_driver=False, object_store_memory=512 * 1024 * 1024)  # fmt: skip
        print(f"ray start-up (private local cluster, 2 CPUs): {time.perf_counter() - started:.2f} s")
    count_splits = args.splits or 0
    encode_splits = 8 if args.splits is None else args.splits
    try:
        parts = args.only or ["count", "encode", "train"]
        for number, source in enumerate(sources):
            first = number == 0
            corpus = CorpusConfig(inputs=(str(source),))
            print(f"input: {source} ({source.stat().st_size / 1e6:.1f} MB), {os.cpu_count()} CPUs")
            if "count" in parts:
                if first:
                    check_fast_words(corpus)
                bench_count(work, corpus, args.repeat, use_ray, count_splits, identity=first)
            if "encode" in parts:
                bench_encode(work, corpus, args.repeat, use_ray, encode_splits, identity=first)
        if "train" in parts:
            bench_train(work, sources[0], args.train_mb)
        if "routes" in parts:  # only when asked for
            for megabytes in args.routes_mb or [4, 20]:
                bench_routes(work, sources[0], megabytes, args.repeat)
    finally:
        if use_ray:
            ray.shutdown()
            shutil.rmtree(temp, ignore_errors=True)
    print("all identity checks passed" if not FAILURES else f"{len(FAILURES)} identity checks FAILED")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
