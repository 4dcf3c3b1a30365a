"""The Makefile and crontab line in docs/examples run as documented (docs/operations.md points at them)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
DATA = ROOT / "tests" / "data"


@pytest.fixture
def tokcli_bin(tmp_path: Path) -> Path:
    """A ``tokcli`` executable for this checkout (what ``pip install`` puts on PATH)."""
    exe = tmp_path / "bin" / "tokcli"
    exe.parent.mkdir()
    _write_launcher(exe)
    return exe


def _write_launcher(path: Path) -> None:
    path.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m tokcli \"$@\"\n")
    path.chmod(0o755)


def _make(tmp_path: Path, tokcli_bin: Path, data: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("GNU Make is not installed here")
    argv = ["make", "-f", str(EXAMPLES / "Makefile"), f"TOKCLI={tokcli_bin}", f"DATA={data}", f"OUT={tmp_path / 'out'}"]
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_makefile_builds_then_does_nothing_then_rebuilds_only_what_changed(tmp_path: Path, tokcli_bin: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA / "parallel", data / "parallel")
    shutil.copy(DATA / "austen.txt", data / "austen.txt")
    first = _make(tmp_path, tokcli_bin, data)
    out = tmp_path / "out"
    assert "train" in first.stdout and "encode" in first.stdout
    index = json.loads((out / "fra.bin.index.json").read_text())
    assert index["n_docs"] > 0 and (out / "fra.bin").stat().st_size > 0
    second = _make(tmp_path, tokcli_bin, data)
    assert "Nothing to be done" in second.stdout and "tokcli" not in second.stdout
    # a corpus file touched but unchanged: the tokenizer is retrained, comes out byte-identical, keeps its
    # mtime, so the shards are not encoded again
    tokenizer_mtime = (out / "tokenizer.json").stat().st_mtime_ns
    time.sleep(1.1)
    (data / "austen.txt").touch()
    third = _make(tmp_path, tokcli_bin, data)
    assert " train " in third.stdout and " encode " not in third.stdout
    assert (out / "tokenizer.json").stat().st_mtime_ns == tokenizer_mtime
    assert "Nothing to be done" in _make(tmp_path, tokcli_bin, data).stdout


def test_crontab_line_runs_as_cron_runs_it(tmp_path: Path) -> None:
    """cron runs the command with ``sh -c``, no terminal, stdin from /dev/null and a minimal PATH."""
    line = next(ln for ln in (EXAMPLES / "crontab").read_text().splitlines() if ln and not ln.startswith("#"))
    command = line.split(None, 5)[5]  # after the five time fields
    site = tmp_path / "srv" / "lm"
    (site / "tok").mkdir(parents=True)
    (site / "data").mkdir()
    (site / ".venv" / "bin").mkdir(parents=True)
    _write_launcher(site / ".venv" / "bin" / "tokcli")
    shutil.copy(DATA / "tokenizers" / "bpe-bytelevel.json", site / "tok" / "tokenizer.json")
    shutil.copy(DATA / "parallel" / "udhr" / "eng.jsonl", site / "data" / "new.jsonl")
    command = command.replace("cd /srv/lm", f"cd {site}")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh", "LOGNAME": "cron"}
    env |= {k: v for k, v in os.environ.items() if k.startswith(("XDG_", "HF_"))}
    proc = subprocess.run(["/bin/sh", "-c", command], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""  # cron mails any output: a good run prints nothing
    events = [json.loads(line)["event"] for line in (site / "logs" / "tokcli.jsonl").read_text().splitlines()]
    assert events[0] == "start" and events[-1] == "end"
    assert (site / "shards" / "new.bin").stat().st_size > 0


def test_operations_page_shows_the_tested_files() -> None:
    page = (ROOT / "docs" / "operations.md").read_text()
    cron = next(ln for ln in (EXAMPLES / "crontab").read_text().splitlines() if ln and not ln.startswith("#"))
    assert f"```cron\n{cron}\n```" in page
    assert f"```make\n{(EXAMPLES / 'Makefile').read_text().rstrip()}\n```" in page
