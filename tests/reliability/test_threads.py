"""``--threads 1`` / ``TOKCLI_THREADS=1`` caps every pool: rayon, sentencepiece, tiktoken, numpy's
OpenBLAS, Arrow, and our own process pools. Each run is a real subprocess whose process tree is sampled
from /proc while it runs; the bounds are what the design allows (main thread, the read/write pipeline
thread of encode/compare, one compute thread), so an uncapped pool of even one more thread fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from rel_support import BPE, DATA, SPM, tokcli_env, watch

from tokcli import resources
from tokcli.loading.base import default_threads


@pytest.fixture(scope="module")
def parquet(corpus: Path) -> Path:
    """The same text as Parquet, read through HF datasets and Arrow's thread pools."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = corpus.with_suffix(".parquet")
    lines = corpus.read_text(encoding="utf-8").splitlines()
    pq.write_table(pa.table({"text": lines}), path, row_group_size=100)
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~3 MB of real text: long enough for every pool to start, short enough to run in seconds."""
    path = tmp_path_factory.mktemp("threads") / "corpus.txt"
    lines = [ln for ln in (DATA / "austen.txt").read_text(encoding="utf-8").splitlines() if ln]
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(45):
            handle.writelines(f"{i} {line}\n" for line in lines)
    return path


UDHR = DATA / "parallel" / "udhr"
CATEGORIES = [
    "--category", f"prose={DATA / 'austen.txt'}",
    "--category", f"python={DATA / 'code' / 'python.jsonl'}",
    "--category", f"udhr={UDHR / 'eng.jsonl'}",
]  # fmt: skip

# (argv, most OS threads at once). Without the cap, tokenizers/sentencepiece/OpenBLAS start one thread
# per CPU and the process pools one process per CPU.
CASES = {
    "train-hf-bpe": (["train", "{corpus}", "--vocab-size", "1500", "-o", "tok.json"], 1),
    "train-spm-bpe": (["train", "{corpus}", "--vocab-size", "1500", "--backend", "spm-bpe", "-o", "spm.model"], 2),
    "encode-tiktoken": (["encode", "-t", str(BPE), "{corpus}", "-o", "ids.txt"], 2),
    "encode-tokenizers": (
        ["encode", "-t", str(BPE), "{corpus}", "-o", "ids.txt", "--tokenizer-engine", "tokenizers"],
        2,
    ),
    "encode-spm": (["encode", "-t", str(SPM), "{corpus}", "-o", "ids.txt"], 2),
    "encode-shards": (["encode", "-t", str(BPE), "{corpus}", "-o", "shards/", "--split-size", "500KB"], 1),
    # Arrow's CPU and I/O pools (8 I/O threads by default, whatever the CPUs) at 1 each, plus two that do no
    # compute: jemalloc's background thread and the tqdm monitor of HF datasets.
    "encode-parquet": (["encode", "-t", str(BPE), "{parquet}", "-o", "ids.txt"], 6),
    "compare": (["compare", "-t", str(BPE), "-t", f"spm={SPM}", "{corpus}", "-f", "jsonl"], 2),
    "infer-mixture": (["infer-mixture", "-t", str(BPE), *CATEGORIES, "--merges", "200", "--cache-dir", "cache"], 1),
}


@pytest.mark.parametrize("via", ["flag", "env"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_one_thread_means_one_process_and_no_pools(
    case: str, via: str, corpus: Path, parquet: Path, tmp_path: Path
) -> None:
    template, most_threads = CASES[case]
    argv = [a.replace("{corpus}", str(corpus)).replace("{parquet}", str(parquet)) for a in template]
    env = tokcli_env()
    if via == "flag":
        argv.append("--threads")
        argv.append("1")
    else:
        env["TOKCLI_THREADS"] = "1"
    run = watch(argv, tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert run.samples >= 5, "the run ended before it could be observed"
    assert run.max_processes == 1, f"{case}: {run.max_processes} processes with one thread allowed"
    assert run.max_threads <= most_threads, f"{case}: {run.max_threads} threads, at most {most_threads} allowed"


def test_the_watcher_sees_an_uncapped_pool(corpus: Path, tmp_path: Path) -> None:
    """The control of the cases above: without the cap, tokenizers' training pool runs a thread per CPU,
    and ``watch`` (which counts a thread only when two samples in a row see it) reports more threads
    than the capped bound."""
    if resources.available_cpus() < 2:
        pytest.skip("one CPU: an uncapped pool has one thread too")
    template, most_threads = CASES["train-hf-bpe"]
    argv = [a.replace("{corpus}", str(corpus)) for a in template]
    run = watch(argv, tmp_path, env=tokcli_env(TOKCLI_THREADS="0"))
    assert run.returncode == 0, run.stderr
    assert run.max_threads > most_threads, run.max_threads


def test_count_workers_follow_tokcli_threads(corpus: Path, tmp_path: Path) -> None:
    """count has --workers, no --threads: its default (all CPUs) is capped by TOKCLI_THREADS."""
    argv = ["count", str(corpus), "-o", "counts", "--split-size", "500KB"]
    run = watch(argv, tmp_path, env=tokcli_env(TOKCLI_THREADS="1"))
    assert run.returncode == 0, run.stderr
    assert run.max_processes == 1 and run.max_threads <= 2, (run.max_processes, run.max_threads)


def test_thread_cap_sets_every_pool_variable_and_is_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*resources.POOL_ENV, "TOKENIZERS_PARALLELISM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "7")  # the user's own setting comes back afterwards
    resources.limit_threads(1)
    try:
        assert default_threads() == 1
        for name in resources.POOL_ENV:
            assert resources.os.environ[name] == "1", name
        assert resources.os.environ["TOKENIZERS_PARALLELISM"] == "false"
    finally:
        resources.restore()
    assert resources.os.environ["OMP_NUM_THREADS"] == "7"
    assert "RAYON_NUM_THREADS" not in resources.os.environ
    assert default_threads() == resources.available_cpus()


def test_smallest_threads_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resources.thread_limit_from([None, 0, 4, 2]) == 2
    assert resources.thread_limit_from([None, 0]) is None
    monkeypatch.setenv("TOKCLI_THREADS", "3")
    assert resources.thread_limit_from([8]) == 3
    monkeypatch.setenv("TOKCLI_THREADS", "0")  # 0 means "all CPUs", as for --threads 0
    assert resources.thread_limit_from([None]) is None
