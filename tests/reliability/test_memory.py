"""``--max-memory SIZE`` / ``TOKCLI_MAX_MEMORY``: an allocation beyond the limit is one error line, exit 1,
and no output file. Real subprocesses, as the limit (RLIMIT_AS) applies to the whole process."""

from __future__ import annotations

import gzip
import resource
from pathlib import Path

import pytest
from rel_support import BPE, DATA, run_tokcli, tokcli_env

from tokcli import resources
from tokcli.errors import ExitCode
from tokcli.files import TEMP_PREFIX


@pytest.fixture(scope="module")
def endless_line(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 GiB line with no newline, as 2 MB of gzip: the same 16 MiB member repeated 128 times."""
    member = gzip.compress(b"a" * (16 << 20), compresslevel=1)
    path = tmp_path_factory.mktemp("mem") / "endless.txt.gz"
    with open(path, "wb") as handle:
        for _ in range(128):
            handle.write(member)
    return path


def test_out_of_memory_is_one_clean_error_and_no_output(endless_line: Path, tmp_path: Path) -> None:
    out = tmp_path / "ids.txt"
    argv = ["--max-memory", "1GB", "encode", "-t", str(BPE), str(endless_line), "-o", str(out)]
    # The line guard would stop first; raise it so the reader really runs out of memory.
    proc = run_tokcli([*argv, "--max-line-bytes", "4GiB", "--threads", "1"])
    assert proc.returncode == ExitCode.ERROR, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("tokcli: error: out of memory (limit 1GB set by --max-memory")
    assert "raise --max-memory" in lines[0]
    assert proc.stdout == ""
    assert not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_memory_limit_from_the_environment(endless_line: Path, tmp_path: Path) -> None:
    out = tmp_path / "tok.json"
    env = tokcli_env(TOKCLI_MAX_MEMORY="1GB", TOKCLI_MAX_LINE_BYTES="4GiB", TOKCLI_THREADS="1")
    proc = run_tokcli(["train", str(endless_line), "--vocab-size", "300", "-o", str(out)], env=env)
    assert proc.returncode == ExitCode.ERROR, proc.stderr
    assert proc.stderr.startswith("tokcli: error: out of memory (limit 1GB"), proc.stderr
    assert not out.exists()


def test_a_run_within_the_limit_is_unaffected(tmp_path: Path) -> None:
    out = tmp_path / "ids.txt"
    proc = run_tokcli(["--max-memory", "4GB", "encode", "-t", str(BPE), str(DATA / "austen.txt"), "-o", str(out)])
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8").count("\n") == 6


@pytest.mark.parametrize(
    ("argv", "env", "code", "message"),
    [
        (["--max-memory", "lots"], {}, ExitCode.USAGE, "'--max-memory': expected a size such as 8GB"),
        (["--max-memory", "100"], {}, ExitCode.USAGE, "'--max-memory': expected a size such as 8GB"),
        ([], {"TOKCLI_MAX_MEMORY": "lots"}, ExitCode.ERROR, "TOKCLI_MAX_MEMORY: expected a size such as 8GB"),
    ],
)
def test_bad_limits_are_one_line_errors(argv: list[str], env: dict[str, str], code: int, message: str) -> None:
    proc = run_tokcli([*argv, "encode", "-t", str(BPE), str(DATA / "austen.txt")], env=tokcli_env(**env))
    assert proc.returncode == code
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


def test_limit_is_set_and_restored() -> None:
    before = resource.getrlimit(resource.RLIMIT_AS)
    resources.set_memory_limit(64 << 30)
    try:
        assert resource.getrlimit(resource.RLIMIT_AS)[0] == 64 << 30
        assert resources.memory_limit == 64 << 30
    finally:
        resources.restore()
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert resources.memory_limit is None


def test_sizes_are_shown_as_typed() -> None:
    assert [resources.format_size(n) for n in (1 << 30, 10**9, 1536 << 20, 2_500_000, 999)] == [
        "1GiB", "1GB", "1536MiB", "2.5MB", "999B",
    ]  # fmt: skip
