"""Habits of shell users (cron, Make, one-liners): global options anywhere on the line, logs that
cannot be opened say so in one line, every option of the log also an environment variable."""

from __future__ import annotations

import json
import re
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


def test_messages_count_in_words(tmp_path: Path) -> None:
    one = tmp_path / "one.txt"
    one.write_text("a single line\n")
    proc = run_tokcli(["encode", "-t", str(BPE), str(one), "-f", "count"])
    assert re.fullmatch(r"tokcli: total: \d+ tokens in 1 document\n", proc.stderr), proc.stderr
    proc = run_tokcli(["encode", "-t", str(BPE), CORPUS, "-o", str(tmp_path / "ids.txt")])
    assert proc.stderr == f"tokcli: wrote 34,047 tokens of 6 documents to {tmp_path / 'ids.txt'}\n"


def test_a_mixture_warning_names_the_source_that_ran_out(tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_text("tiny\n")
    argv = ["train", "--mix", f"big=0.5:{CORPUS}", "--mix", f"small=0.5:{small}", "--max-bytes", "20KB"]
    proc = run_tokcli([*argv, "--vocab-size", "300", "-o", str(tmp_path / "t.json")])
    assert proc.returncode == 0, proc.stderr
    assert "tokcli: warning: mixture source small ran out before --max-bytes" in proc.stderr


def test_a_second_output_in_a_missing_folder_fails_before_training(tmp_path: Path) -> None:
    argv = ["train", CORPUS, "--vocab-size", "300", "-o", str(tmp_path / "t.json")]
    proc = run_tokcli([*argv, "--report", str(tmp_path / "nodir" / "r.json")])
    assert proc.returncode == ExitCode.ERROR and proc.stdout == ""
    assert proc.stderr == f"tokcli: error: cannot write --report {tmp_path / 'nodir' / 'r.json'}: folder " \
        f"{tmp_path / 'nodir'} does not exist; create it first\n"
    assert not (tmp_path / "t.json").exists()  # nothing was trained


def test_process_substitution_is_read_as_a_file(tmp_path: Path) -> None:
    """``tokcli encode -t T <(zcat x.gz)``: a pipe named on the command line is read like a file."""
    import shutil

    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    import subprocess
    import sys

    command = f"{sys.executable} -m tokcli encode -t {BPE} <(cat {CORPUS}) -f count"
    proc = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=tokcli_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    direct = run_tokcli(["encode", "-t", str(BPE), CORPUS, "-f", "count"])
    assert proc.stdout == direct.stdout


def test_the_bin_message_counts_the_ids_written(tmp_path: Path) -> None:
    out = tmp_path / "e.bin"
    proc = run_tokcli(["encode", "-t", str(BPE), CORPUS, "-o", str(out), "--eos", "0"])
    ids = out.stat().st_size // 2  # uint16
    assert proc.stderr.startswith(f"tokcli: wrote {ids:,} ids of 6 documents to {out}"), proc.stderr


def test_a_vocabulary_far_below_the_request_is_a_warning(tmp_path: Path) -> None:
    proc = run_tokcli(["train", str(DATA / "parallel" / "udhr" / "eng.jsonl"), "--vocab-size", "32000",
                       "-o", str(tmp_path / "t.json")])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"tokcli: warning: the corpus gave [\d,]+ tokens of the 32,000 asked for", proc.stderr)


def test_compare_warns_when_a_row_is_mostly_unk(tmp_path: Path) -> None:
    """An [UNK]-heavy tokenizer looks like a great compressor on bytes per token: the row gets a warning."""
    tok = tmp_path / "wl.json"
    trained = run_tokcli(["-q", "train", CORPUS, "--backend", "hf-wordlevel", "--vocab-size", "200", "-o", str(tok)])
    assert trained.returncode == 0, trained.stderr
    chinese = str(DATA / "parallel" / "udhr" / "cmn_hans.jsonl")
    proc = run_tokcli(["compare", "-t", str(tok), "-t", str(BPE), chinese, "-f", "json"])
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"tokcli: warning: wl on cmn_hans: [\d.]+% of its tokens are UNK", proc.stderr)
    assert "bpe-bytelevel on" not in proc.stderr  # a byte-level tokenizer covers every text
