"""compare --plot is an output like any other (atomic, locked, checked before the work); the terminal
gets no colour with NO_COLOR and no escape codes at all when it is not a terminal."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rel_support import BPE, DATA, SPM, run_tokcli, tokcli_env

from tokcli.errors import ExitCode
from tokcli.files import TEMP_PREFIX
from tokcli.locks import output_lock


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~20 MB of text: compare with two tokenizers runs for several seconds on it."""
    path = tmp_path_factory.mktemp("cmp") / "big.txt"
    lines = [ln for ln in (DATA / "austen.txt").read_text(encoding="utf-8").splitlines() if ln]
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(300):
            handle.writelines(f"{i} {line}\n" for line in lines)
    return path


def compare_argv(corpus: Path, plot: Path) -> list[str]:
    return ["compare", "-t", str(BPE), "-t", f"spm={SPM}", str(corpus), "-f", "jsonl", "--plot", str(plot)]


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_compare_leaves_no_partial_plot(big_corpus: Path, tmp_path: Path, sig: signal.Signals) -> None:
    plot = tmp_path / "chart.svg"
    plot.write_text("<svg>old</svg>\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokcli", *compare_argv(big_corpus, plot)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=tokcli_env(),
    )
    time.sleep(1.5)
    assert proc.poll() is None, "compare finished before it could be killed"
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else ExitCode.INTERRUPTED), stderr
    assert plot.read_text(encoding="utf-8") == "<svg>old</svg>\n"  # the previous chart survives whole
    if sig == signal.SIGTERM:
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_plot_is_locked_like_other_outputs(tmp_path: Path) -> None:
    plot = tmp_path / "chart.svg"
    with output_lock(plot):
        proc = run_tokcli(compare_argv(DATA / "austen.txt", plot))
    assert proc.returncode == ExitCode.LOCKED
    assert f"process {os.getpid()}" in proc.stderr and "--wait-lock" in proc.stderr
    assert proc.stdout == "" and not plot.exists()  # refused before any row was computed


def test_plot_written_atomically_and_if_changed_keeps_it(tmp_path: Path) -> None:
    plot = tmp_path / "chart.svg"
    assert run_tokcli(compare_argv(DATA / "austen.txt", plot)).returncode == 0
    assert plot.read_text(encoding="utf-8").startswith("<svg")
    past = time.time() - 1000
    os.utime(plot, (past, past))
    proc = run_tokcli([*compare_argv(DATA / "austen.txt", plot), "--if-changed"])
    assert proc.returncode == 0, proc.stderr
    assert plot.stat().st_mtime == pytest.approx(past)


@pytest.mark.parametrize(
    ("name", "message"),
    [("chart.gif", "unsupported file type .gif"), ("missing/chart.svg", "folder")],
)
def test_bad_plot_path_fails_before_any_work(tmp_path: Path, name: str, message: str) -> None:
    proc = run_tokcli(compare_argv(DATA / "austen.txt", tmp_path / name))
    assert proc.returncode in (ExitCode.ERROR, ExitCode.USAGE)
    assert proc.stdout == ""  # no rows: it failed before comparing
    assert message in proc.stderr and proc.stderr.count("\n") == 1


# ------------------------------------------------------------------------------------- terminal

COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def on_terminal(argv: list[str], **env: str) -> tuple[int, str]:
    """Run tokcli with stdout and stderr on a pseudo-terminal; everything it wrote there."""
    master, slave = os.openpty()
    full_env = tokcli_env(TERM="xterm-256color", COLUMNS="200")
    full_env.pop("NO_COLOR", None)  # the developer's own setting must not decide the test
    full_env.update(env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokcli", *argv], stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, env=full_env
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # EIO once the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


TABLE = ["compare", "-t", str(BPE), str(DATA / "austen.txt")]  # a rich table on a terminal


def test_terminal_table_has_colour_without_no_color() -> None:
    code, text = on_terminal(TABLE)
    assert code == 0
    assert COLOUR.search(text), "expected colours on a terminal (else the NO_COLOR test proves nothing)"


def test_no_color_removes_every_colour_on_a_terminal() -> None:
    code, text = on_terminal(TABLE, NO_COLOR="1")
    assert code == 0 and "bytes_per_token" in text
    assert not COLOUR.search(text), repr(COLOUR.findall(text)[:5])


@pytest.mark.parametrize(
    "argv",
    [
        TABLE,
        ["compare", "-t", str(BPE), str(DATA / "austen.txt"), "-f", "table"],
        ["encode", "-t", str(BPE), str(DATA / "austen.txt"), "-f", "tokens"],
        ["train", str(DATA / "austen.txt"), "--vocab-size", "300", "-o", "{tmp}/t.json"],
        ["encode", "-t", str(BPE), "{tmp}/missing.txt"],
    ],
)
def test_no_escape_codes_when_not_a_terminal(argv: list[str], tmp_path: Path) -> None:
    proc = run_tokcli([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert proc.stdout or proc.stderr
    assert "\x1b" not in proc.stdout and "\x1b" not in proc.stderr
