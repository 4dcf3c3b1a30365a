"""Unattended-run guarantees, with real subprocesses: interruption, locks, exit codes, stdout hygiene."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tokcli.errors import ExitCode
from tokcli.files import TEMP_PREFIX
from tokcli.locks import output_lock

ROOT = Path(__file__).parents[1]
DATA = ROOT / "tests" / "data"
BPE = DATA / "tokenizers" / "bpe-bytelevel.json"
SLOW = ("--tokenizer-engine", "tokenizers", "-f", "tokens", "--batch-size", "50")  # runs long enough to be interrupted


def tokcli(*argv: str, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-m", "tokcli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


def finish(proc: subprocess.Popen[str]) -> int:
    proc.communicate(timeout=60)
    return proc.returncode


@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~20 MB of real text (the fixtures repeated), enough for runs that take several seconds."""
    path = tmp_path_factory.mktemp("big") / "big.txt"
    lines = [ln for ln in (DATA / "austen.txt").read_text(encoding="utf-8").splitlines() if ln]
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(300):
            for line in lines:
                handle.write(f"{i} {line}\n")
    return path


def _wait_started(proc: subprocess.Popen[str], seconds: float = 1.5) -> None:
    time.sleep(seconds)
    assert proc.poll() is None, "the run finished before it could be interrupted; use a bigger corpus"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_encode_leaves_old_output_and_no_temp_files(
    tmp_path: Path, big_corpus: Path, sig: signal.Signals
) -> None:
    out = tmp_path / "ids.txt"
    out.write_text("old\n", encoding="utf-8")
    proc = tokcli("encode", "-t", str(BPE), str(big_corpus), "-o", str(out), *SLOW)
    _wait_started(proc)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.INTERRUPTED, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert out.read_text(encoding="utf-8") == "old\n"  # the previous complete file survives
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_killed_run_never_leaves_a_partial_output(tmp_path: Path, big_corpus: Path) -> None:
    out = tmp_path / "shard.bin"
    proc = tokcli(
        "encode", "-t", str(BPE), str(big_corpus), "-f", "bin", "-o", str(out), "--tokenizer-engine", "tokenizers"
    )
    _wait_started(proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert not out.exists()  # SIGKILL can leave a temp file, never a half-written output


def test_interrupted_training_writes_nothing(tmp_path: Path, big_corpus: Path) -> None:
    out = tmp_path / "tok.json"
    proc = tokcli("train", str(big_corpus), "--vocab-size", "20000", "-o", str(out))
    _wait_started(proc, 1.0)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == ExitCode.INTERRUPTED, stderr
    assert stdout == "" and not out.exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".tokcli")]


def test_second_writer_fails_with_lock_exit_code(tmp_path: Path) -> None:
    out = tmp_path / "tok.json"
    with output_lock(out):  # this test process holds the lock, like a first cron run would
        proc = tokcli("train", str(DATA / "austen.txt"), "--vocab-size", "300", "-o", str(out))
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.LOCKED
    assert f"process {os.getpid()}" in stderr and "--wait-lock" in stderr
    assert not out.exists()


def test_wait_lock_waits_for_the_holder(tmp_path: Path) -> None:
    out = tmp_path / "ids.txt"
    with output_lock(out):
        proc = tokcli("encode", "-t", str(BPE), str(DATA / "austen.txt"), "-o", str(out), "--wait-lock", "30")
        time.sleep(1.0)
        assert proc.poll() is None  # still waiting for us
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert out.read_text(encoding="utf-8").count("\n") == 6


def test_report_is_the_only_stdout_and_json(tmp_path: Path) -> None:
    proc = tokcli("train", str(DATA / "austen.txt"), "--vocab-size", "300", "-o", str(tmp_path / "t.json"))
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert json.loads(stdout)["vocab_size"] == 300


@pytest.mark.parametrize(
    ("argv", "outputs"),
    [
        (("train", str(DATA / "austen.txt"), "--vocab-size", "300", "-o", "{out}/t.json"), ("t.json",)),
        (("encode", "-t", str(BPE), str(DATA / "austen.txt"), "-o", "{out}/ids.txt"), ("ids.txt",)),
        (
            ("encode", "-t", str(BPE), str(DATA / "austen.txt"), "-f", "bin", "-o", "{out}/x.bin"),
            ("x.bin", "x.bin.index.json"),
        ),
    ],
)
def test_if_changed_keeps_mtime_of_identical_outputs(
    tmp_path: Path, argv: tuple[str, ...], outputs: tuple[str, ...]
) -> None:
    args = [a.replace("{out}", str(tmp_path)) for a in argv]
    first = tokcli(*args)
    assert finish(first) == 0
    past = time.time() - 1000
    for name in outputs:
        os.utime(tmp_path / name, (past, past))
    again = tokcli(*args, "--if-changed")
    assert finish(again) == 0
    for name in outputs:
        assert (tmp_path / name).stat().st_mtime == pytest.approx(past), name
    plain = tokcli(*args)
    assert finish(plain) == 0
    assert (tmp_path / outputs[0]).stat().st_mtime > past + 100  # without the flag the file is rewritten
