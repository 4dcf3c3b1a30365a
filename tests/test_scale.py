"""Scale-out: the split planner, the local engine and ``tokcli count`` give the single-machine results."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tokcli.cli.app import main
from tokcli.corpus import Corpus, CorpusConfig
from tokcli.counts.count import CountConfig, run_count
from tokcli.counts.store import counts_sha256, iter_counts
from tokcli.errors import ExitCode, UsageError
from tokcli.parallel.options import ScaleConfig
from tokcli.parallel.plan import plan_splits, read_split
from tokcli.pretok.spec import parse_pretok, word_counter

DATA = Path(__file__).parent / "data"
CORPUS = (str(DATA / "austen.txt"), str(DATA / "code"), str(DATA / "parallel" / "udhr"))


def split_documents(config: CorpusConfig, split_size: int) -> list[tuple[str, str, str | None]]:
    out = []
    for split in plan_splits(config, split_size):
        for batch in read_split(split, config, batch_size=7):
            ids = batch.ids or [None] * len(batch)
            out += [(t, batch.source_at(i), ids[i]) for i, t in enumerate(batch.texts)]
    return out


def corpus_documents(config: CorpusConfig) -> list[tuple[str, str, str | None]]:
    return [(d.text, d.source, d.id) for d in Corpus(config).documents()]


@pytest.fixture
def awkward(tmp_path: Path) -> Path:
    """Empty lines, CRLF, a BOM, long and short lines, no final newline."""
    path = tmp_path / "awkward.txt"
    lines = ["\ufefffirst", "", "second line\r", "x" * 300, "", "", "é" * 50, "last without newline"]
    path.write_bytes("\n".join(lines).encode())
    return path


@pytest.mark.parametrize("split_size", [1, 5, 64, 1000, 30_000, 10**9])
@pytest.mark.parametrize("keep_empty", [False, True])
def test_splits_read_exactly_the_corpus_documents(
    split_size: int, keep_empty: bool, awkward: Path, tmp_path: Path
) -> None:
    small = (str(awkward), str(DATA / "parallel" / "udhr" / "khm.jsonl"))  # every byte a split boundary
    config = CorpusConfig(inputs=small if split_size < 64 else (*CORPUS, str(awkward)), keep_empty=keep_empty)
    expected = corpus_documents(config)
    assert split_documents(config, split_size) == expected
    assert len(plan_splits(config, split_size)) >= (2 if split_size < 30_000 else 1)


def test_parquet_row_groups_are_splits(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    lines = (DATA / "austen.txt").read_text(encoding="utf-8").splitlines()[:40]
    texts = [*lines, "", None, "tail"]
    path = tmp_path / "t.parquet"
    table = pa.table({"text": texts, "id": [f"d{i}" for i in range(len(texts))]})
    pq.write_table(table, path, row_group_size=5)
    config = CorpusConfig(inputs=(str(path),))
    expected = corpus_documents(config)  # through HF datasets, as every command reads Parquet
    one_per_group = plan_splits(config, 1)
    assert len(one_per_group) == pq.ParquetFile(path).metadata.num_row_groups
    assert split_documents(config, 1) == expected
    assert split_documents(config, 10**9) == expected
    assert len(plan_splits(config, 10**9)) == 1


def test_compressed_and_paragraph_inputs_are_whole_file_splits(tmp_path: Path) -> None:
    import gzip

    gz = tmp_path / "a.txt.gz"
    gz.write_bytes(gzip.compress((DATA / "austen.txt").read_bytes()))
    config = CorpusConfig(inputs=(str(gz),))
    assert [s.kind for s in plan_splits(config, 100)] == ["file"]
    assert split_documents(config, 100) == corpus_documents(config)
    paragraphs = CorpusConfig(inputs=(str(DATA / "austen.txt"),), doc_sep="blank")
    assert [s.kind for s in plan_splits(paragraphs, 100)] == ["file"]


@pytest.mark.parametrize("option", [{"max_docs": 3}, {"skip": 1}, {"sample": 0.5}, {"shuffle_buffer": 10}])
def test_stream_options_are_refused(option: dict[str, object]) -> None:
    with pytest.raises(UsageError, match="--" + next(iter(option)).replace("_", "-")):
        plan_splits(CorpusConfig(inputs=CORPUS, **option), 1000)  # type: ignore[arg-type]


def brute_force_counts(pretok: str, config: CorpusConfig) -> Counter[bytes]:
    count = word_counter(parse_pretok(pretok))
    return count(d.text for d in Corpus(config).documents())


@pytest.mark.parametrize("pretok", ["gpt2", "cl100k", "spm:nmt_nfkc"])
def test_count_equals_a_direct_count(pretok: str, tmp_path: Path) -> None:
    corpus = CorpusConfig(inputs=CORPUS)
    result = run_count(CountConfig(output=str(tmp_path / "c"), pretok=pretok), corpus, ScaleConfig(split_size=20_000))
    got = Counter({word: n for _, word, n in iter_counts(result.output)})
    assert got == brute_force_counts(pretok, corpus)
    assert result.manifest["words"] == sum(got.values()) and result.manifest["distinct"] == len(got)
    assert result.manifest["docs"] == len(corpus_documents(corpus))


def test_hf_bpe_words_are_raw_bytes_and_spm_words_keep_the_space_mark() -> None:
    assert word_counter(parse_pretok("gpt2"))(["Hello world"]) == Counter({b"Hello": 1, b" world": 1})
    assert word_counter(parse_pretok("spm:nmt_nfkc"))(["Hello  world"]) == Counter(
        {"▁Hello".encode(): 1, "▁world".encode(): 1}
    )


def test_count_is_identical_across_splits_and_workers(tmp_path: Path) -> None:
    corpus = CorpusConfig(inputs=CORPUS)
    whole = sum(s.size for s in plan_splits(corpus, 10**12))
    digests, parts = set(), set()
    for n_splits, workers in [(1, 1), (2, 2), (8, 1), (8, 2)]:
        size = -(-whole // n_splits)
        out = tmp_path / f"c{n_splits}-{workers}"
        result = run_count(
            CountConfig(output=str(out), by="source"), corpus, ScaleConfig(split_size=size, workers=workers)
        )
        assert result.workers == workers
        digests.add(counts_sha256(out))
        parts.add(tuple((out / p["file"]).read_bytes() for p in result.manifest["parts"]))
    assert len(digests) == 1 and len(parts) == 1


def test_count_starts_workers_only_when_the_input_repays_them(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tokcli.counts import count as count_module
    from tokcli.parallel import engine as engine_module

    monkeypatch.setattr(engine_module, "cpu_budget", lambda: 4)
    corpus = CorpusConfig(inputs=tuple(CORPUS))
    size = sum(s.size for s in plan_splits(corpus, 10**12))

    def workers(**scale: int) -> int:
        config = CountConfig(output=str(tmp_path / "counts"))
        return run_count(config, corpus, ScaleConfig(split_size=20_000, **scale)).workers

    assert size < count_module.BYTES_PER_WORKER and workers() == 1  # a small input: no process pool
    monkeypatch.setattr(count_module, "BYTES_PER_WORKER", -(-size // 2))
    assert workers() == 2
    assert workers(workers=3) == 3  # --workers is obeyed as given


def test_count_default_split_size_follows_the_input_not_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --split-size, count cuts the input into about AUTO_SPLITS splits (1MB minimum, 64MB
    maximum): the same plan for any number of workers, and the same counts as one big split."""
    from tokcli.counts import count as count_module

    corpus = CorpusConfig(inputs=CORPUS)
    whole = sum(s.size for s in plan_splits(corpus, 10**12))
    assert count_module.count_split_size(whole) == 1_000_000  # the fixtures are far below 32 MB
    assert count_module.count_split_size(10**12) == 64_000_000
    monkeypatch.setattr(count_module, "AUTO_SPLIT_MIN", 1000)  # as a 32 MB+ input would be cut
    size = count_module.count_split_size(whole)
    assert size == -(-whole // count_module.AUTO_SPLITS)
    one = run_count(CountConfig(output=str(tmp_path / "one")), corpus, ScaleConfig(split_size=10**12))
    for workers in (1, 2):
        out = tmp_path / f"auto-{workers}"
        result = run_count(CountConfig(output=str(out)), corpus, ScaleConfig(workers=workers))
        assert result.manifest["splits"] == len(plan_splits(corpus, size)) >= count_module.AUTO_SPLITS
        assert counts_sha256(out) == counts_sha256(one.output)


def test_reduce_sums_duplicates_per_source_and_word() -> None:
    import pyarrow as pa

    from tokcli.counts.parts import sum_duplicates

    table = pa.table(
        {
            "source": ["b", "a", "b", "a", "a", "b"],
            "word": [b"x", b"x", b"x", b"", b"x", b"y"],
            "count": pa.array([1, 2, 4, 8, 16, 32], pa.int64()),
        }
    )
    assert sum_duplicates(table, by_source=True).schema == table.schema  # large key types only inside
    summed = sum_duplicates(table, by_source=True).to_pydict()
    assert summed == {"source": ["a", "a", "b", "b"], "word": [b"", b"x", b"x", b"y"], "count": [8, 18, 5, 32]}
    words = sum_duplicates(table.drop_columns(["source"]), by_source=False).to_pydict()
    assert words == {"word": [b"", b"x", b"y"], "count": [8, 23, 32]}


def test_arrow_buffer_views_respect_offsets() -> None:
    import pyarrow as pa

    from tokcli.counts.parts import arrow_strings, numpy_bools, numpy_int64

    flags = [True, False, False, True, True, False, True, False, False, True, True]
    ints = list(range(-5, 6))
    for start in range(5):
        assert numpy_bools(pa.array(flags).slice(start)).tolist() == flags[start:]
        assert numpy_int64(pa.array(ints, pa.int64()).slice(start)).tolist() == ints[start:]
    items = [b"", "é".encode(), b"\xff\x00"]
    assert arrow_strings(items, pa.binary()).to_pylist() == items
    assert arrow_strings(items[:2], pa.string()).to_pylist() == ["", "é"]


def test_count_tasks_do_not_import_pandas(tmp_path: Path) -> None:
    """pyarrow imports pandas (0.2-0.4 s) for ``pa.array``, ``to_numpy`` or ``group_by``; a count
    worker's map and reduce tasks avoid them."""
    import subprocess
    import sys

    code = f"""
import sys
from tokcli.corpus import CorpusConfig
from tokcli.counts.count import CountConfig, run_count
from tokcli.parallel.options import ScaleConfig
config = CountConfig(output={str(tmp_path / "c")!r}, by="source")
run_count(config, CorpusConfig(inputs={list(CORPUS)!r}), ScaleConfig(split_size=20_000, workers=1))
print("pandas" in sys.modules)
"""
    spill_run = f"""
import sys, pathlib
from tokcli.corpus import CorpusConfig
from tokcli.counts import count
from tokcli.parallel.plan import plan_splits
from tokcli.pretok.spec import parse_pretok
corpus = CorpusConfig(inputs={list(CORPUS)!r})
splits = plan_splits(corpus, 20_000)
spill = pathlib.Path({str(tmp_path / "spill")!r}); spill.mkdir()
spec = parse_pretok("gpt2")
for s in splits[:3]:
    count.count_split(count.MapTask((s,), corpus, spec, True, 2, str(spill)))
out = pathlib.Path({str(tmp_path / "parts")!r}); out.mkdir()
for part in range(2):
    count.reduce_part(count.ReduceTask(part, tuple(s.index for s in splits[:3]), str(spill), str(out), True))
print("pandas" in sys.modules)
"""
    for source in (code, spill_run):
        done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "False", done.stderr


POOL_RUNS = {
    # the local engine (count, sharded encode)
    "engine": "from tokcli.parallel.engine import LocalPool\n"
    "pool = LocalPool(2)\n"
    "print(sorted(set(pool.map(abs, [-1, -2, -3, -4]))))\n"
    "pool.finish()\n"
    "pool.close()\n",
    # infer-mixture's pools, through map (which submits) and submit
    "map": "from tokcli.parallel.procpool import spawn_pool\n"
    "with spawn_pool(2) as pool:\n"
    "    print(sorted(pool.map(abs, [-1, -2, -3, -4])))\n",
    "submit": "from tokcli.parallel.procpool import spawn_pool\n"
    "with spawn_pool(2) as pool:\n"
    "    print(sorted(f.result() for f in [pool.submit(abs, -k) for k in (1, 2, 3, 4)]))\n",
}


@pytest.mark.parametrize("pool", sorted(POOL_RUNS))
def test_local_workers_do_not_rerun_the_main_script(pool: str, tmp_path: Path) -> None:
    """A spawned worker would re-import the parent's ``__main__`` (for ``tokcli``: the whole CLI, typer
    and click) before its first task; the pools start their workers with ``__main__`` hidden."""
    import subprocess
    import sys

    marker = tmp_path / "imported"
    script = tmp_path / "main_script.py"
    body = "".join(f"    {line}\n" for line in POOL_RUNS[pool].splitlines())
    script.write_text(
        f"with open({str(marker)!r}, 'a') as f:\n    f.write(__name__ + '\\n')\nif __name__ == '__main__':\n{body}"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[1, 2, 3, 4]", done.stderr
    assert marker.read_text().split() == ["__main__"]


def test_by_source_sums_to_the_plain_counts(tmp_path: Path) -> None:
    corpus = CorpusConfig(inputs=CORPUS)
    plain = run_count(CountConfig(output=str(tmp_path / "a")), corpus, ScaleConfig())
    by = run_count(CountConfig(output=str(tmp_path / "b"), by="source"), corpus, ScaleConfig())
    summed: Counter[bytes] = Counter()
    sources = set()
    for source, word, n in iter_counts(by.output):
        summed[word] += n
        sources.add(source)
    assert summed == Counter({w: n for _, w, n in iter_counts(plain.output)})
    assert sources == set(by.manifest["sources"]) and "austen" in sources and "eng" in sources


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_count_cli_writes_a_folder_and_a_json_summary(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "counts"
    code, stdout, err = run(capsys, "count", *CORPUS, "-o", str(out), "--split-size", "30KB", "--workers", "2")
    assert code == 0, err
    summary = json.loads(stdout)
    assert summary["splits"] >= 5 and summary["splits"] == json.loads((out / "manifest.json").read_text())["splits"]
    assert summary["workers"] == 2 and summary["engine"] == "local"
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", *[f"part-{i:05d}.parquet" for i in range(4)]]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tokcli-tmp")]
    # A rerun replaces the folder in one step; a folder that is not ours is refused.
    code, _, err = run(capsys, "count", *CORPUS, "-o", str(out), "--partitions", "2")
    assert code == 0, err
    assert len(list(out.glob("part-*.parquet"))) == 2
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    code, stdout, err = run(capsys, "count", *CORPUS, "-o", str(foreign))
    assert (code, stdout) == (ExitCode.ERROR, "")
    assert err.count("\n") == 1 and str(foreign) in err and "choose another -o" in err
    assert (foreign / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["--pretok", "gpt3"], ExitCode.ERROR, "count.pretok"),
        (["--pretok", "spm:nfd"], ExitCode.ERROR, "spm:nmt_nfkc"),
        (["--max-docs", "3"], ExitCode.USAGE, "--max-docs"),
        (["--engine", "tokenizers"], ExitCode.ERROR, "--tokenizer-engine"),
        (["--workers", "-1"], ExitCode.ERROR, "scale.workers"),
    ],
)
def test_count_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], code: int, words: str
) -> None:
    got, stdout, err = run(capsys, "count", *CORPUS, "-o", str(tmp_path / "c"), *argv)
    assert (got, stdout) == (code, "")
    assert err.count("\n") == 1 and words in err
    assert not (tmp_path / "c").exists()


def test_count_help_does_not_import_heavy_libraries() -> None:
    import os
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from tokcli.cli.app import main\n"
        "assert main(['count', '--help']) == 0\n"
        "heavy = ('datasets', 'tokenizers', 'sentencepiece', 'pyarrow', 'numpy', 'ray', 'multiprocessing.pool')\n"
        "print('HEAVY=' + ','.join(m for m in heavy if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "HEAVY="


def test_count_refuses_stdin(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "count", "-", "-o", str(tmp_path / "c"))
    assert code == ExitCode.USAGE and "stdin" in err
