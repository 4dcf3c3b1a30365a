"""--threads and TOKCLI_THREADS are checked the same way by every command and capped at the CPUs: count
ignored TOKCLI_THREADS=-2 and =abc, and a train with --threads 1000 ran 11-17x slower."""

from __future__ import annotations

from pathlib import Path

import pytest
from rel_support import BPE, DATA, run_tokcli, tokcli_env, watch

from tokcli.errors import ExitCode
from tokcli.resources import available_cpus

CORPUS = str(DATA / "austen.txt")


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    return {
        "train": ["train", CORPUS, "--vocab-size", "300", "-o", str(tmp_path / "t.json")],
        "encode": ["encode", "-t", str(BPE), CORPUS, "-f", "count"],
        "compare": ["compare", "-t", str(BPE), CORPUS, "-f", "json"],
        "count": ["count", CORPUS, "-o", str(tmp_path / "counts")],
        "infer-mixture": ["infer-mixture", "-t", str(BPE), "--category", f"a={CORPUS}", "--category",
                          f"b={DATA / 'code'}", "--merges", "100"],
    }  # fmt: skip


@pytest.mark.parametrize("value", ["abc", "-2", "1.5"])
@pytest.mark.parametrize("command", ["train", "encode", "compare", "count", "infer-mixture"])
def test_a_bad_tokcli_threads_is_one_error_line_for_every_command(tmp_path: Path, command: str, value: str) -> None:
    proc = run_tokcli(_commands(tmp_path)[command], env=tokcli_env(TOKCLI_THREADS=value))
    assert proc.returncode == ExitCode.ERROR, proc.stderr
    assert proc.stderr.startswith(f"tokcli: error: TOKCLI_THREADS='{value}': not a number of threads")
    assert proc.stderr.count("\n") == 1
    assert not (tmp_path / "t.json").exists() and not (tmp_path / "counts").exists()


@pytest.mark.parametrize("command", ["train", "encode", "compare", "infer-mixture"])
def test_a_negative_threads_flag_is_refused_by_every_command(tmp_path: Path, command: str) -> None:
    proc = run_tokcli([*_commands(tmp_path)[command], "--threads", "-2"])
    assert proc.returncode in (ExitCode.ERROR, ExitCode.USAGE) and proc.stderr.count("\n") == 1, proc.stderr
    assert "threads" in proc.stderr


def test_a_huge_threads_flag_is_capped_at_the_cpus(tmp_path: Path) -> None:
    argv = ["train", CORPUS, "--vocab-size", "2000", "--threads", "100000", "-o", str(tmp_path / "t.json")]
    seen = watch(argv, tmp_path, timeout=120)
    assert seen.returncode == 0, seen.stderr
    assert seen.max_threads <= available_cpus() + 8, seen.max_threads  # the pools' threads, plus Python's own
