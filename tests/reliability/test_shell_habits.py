"""Habits of shell users (cron, Make, one-liners): global options anywhere on the line, logs that
cannot be opened say so in one line, every option of the log also an environment variable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rel_support import BPE, DATA, run_tokcli, tokcli_env

from tokcli.cli.commands import hoist_global_options
from tokcli.errors import ExitCode

CORPUS = str(DATA / "austen.txt")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "c", "-q"], ["-q", "train", "c"]),
        (["train", "c", "-qq", "-o", "x"], ["-qq", "train", "c", "-o", "x"]),
        (["-q", "encode", "c", "--log-file", "l", "-f", "ids"], ["-q", "--log-file", "l", "encode", "c", "-f", "ids"]),
        (["encode", "--log-format=json", "c", "--traceback"], ["--log-format=json", "--traceback", "encode", "c"]),
        (["--log-file", "train", "encode", "c"], ["--log-file", "train", "encode", "c"]),  # "train" is a value
        (["encode", "c", "--", "-q"], ["encode", "c", "--", "-q"]),
        (["--help"], ["--help"]),
    ],
)
def test_global_options_after_the_subcommand_move_in_front(argv: list[str], expected: list[str]) -> None:
    assert hoist_global_options(argv) == expected


def test_quiet_and_log_file_after_the_subcommand(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    proc = run_tokcli(["encode", "-t", str(BPE), CORPUS, "-f", "count", "-q", "--log-file", str(log)])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # -q hid the info line ...
    assert "total:" in log.read_text()  # ... which still reached the log file


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_log_file_that_cannot_be_opened_is_one_line(tmp_path: Path, log_format: str) -> None:
    bad = tmp_path / "nologdir" / "x.jsonl"
    argv = ["--log-file", str(bad), "--log-format", log_format, "encode", "-t", str(BPE), CORPUS, "-f", "count"]
    proc = run_tokcli(argv)
    assert proc.returncode == ExitCode.ERROR
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"tokcli: error: cannot open --log-file {bad}") and proc.stderr.count("\n") == 1


def test_log_options_from_the_environment(tmp_path: Path) -> None:
    log = tmp_path / "cron.jsonl"
    env = tokcli_env(TOKCLI_LOG_FILE=str(log), TOKCLI_LOG_FORMAT="json")
    proc = run_tokcli(["encode", "-t", str(BPE), CORPUS, "-f", "count"], env=env)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert events[0] == "start" and events[-1] == "end"
    proc = run_tokcli(["encode", "-t", str(BPE), CORPUS], env=tokcli_env(TOKCLI_LOG_FORMAT="yaml"))
    assert proc.returncode == ExitCode.USAGE and "TOKCLI_LOG_FORMAT" in proc.stderr and proc.stderr.count("\n") == 1
