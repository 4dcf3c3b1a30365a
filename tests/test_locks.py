"""Output locks between real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tokcli.errors import ExitCode, LockHeldError, OutputError
from tokcli.locks import lock_dir, lock_path_for, output_lock

HOLDER = """
import sys, time
from tokcli.locks import output_lock
with output_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(target: Path, seconds: float) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(target), str(seconds)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_writer_fails_fast_naming_the_holder(tmp_path: Path) -> None:
    target = tmp_path / "tok.json"
    proc = hold_lock(target, 30)
    try:
        with pytest.raises(LockHeldError) as info, output_lock(target):
            pass
        assert f"process {proc.pid}" in str(info.value)
        assert "--wait-lock" in str(info.value)
        assert info.value.exit_code == ExitCode.LOCKED
    finally:
        proc.kill()
        proc.wait()


def test_waiting_writer_gets_the_lock_when_released(tmp_path: Path) -> None:
    target = tmp_path / "tok.json"
    proc = hold_lock(target, 0.5)
    start = time.monotonic()
    with output_lock(target, wait=20):
        waited = time.monotonic() - start
    proc.wait()
    assert proc.returncode == 0
    assert waited > 0.1  # it really had to wait for the holder


def test_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    target = tmp_path / "tok.json"
    proc = hold_lock(target, 30)
    proc.kill()
    proc.wait()
    with output_lock(target):
        assert lock_path_for(target).read_text().strip() == str(os.getpid())


def test_lock_is_reentrant_across_sequential_runs(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    for _ in range(3):
        with output_lock(target) as lock:
            assert lock.parent == lock_dir() and lock == lock_path_for(target)
    assert list(tmp_path.iterdir()) == []  # no lock file next to the output


def test_two_spellings_of_one_output_share_a_lock(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    spellings = [tmp_path / "real" / "x.bin", tmp_path / "link" / "x.bin", tmp_path / "real" / ".." / "real" / "x.bin"]
    assert len({lock_path_for(p) for p in spellings}) == 1
    assert lock_path_for(tmp_path / "real" / "y.bin") != lock_path_for(spellings[0])


def test_a_planted_symlink_is_never_followed_or_truncated(tmp_path: Path) -> None:
    """Another process (or user) plants a symlink where the lock file goes: it is refused, its target
    keeps its bytes."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    target = tmp_path / "out.json"
    lock = lock_path_for(target)
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.symlink_to(victim)
    try:
        with pytest.raises(OutputError, match="lock"), output_lock(target):
            pass
    finally:
        lock.unlink()
    assert victim.read_text() == "precious\n"


def test_a_sidecar_planted_next_to_the_output_is_left_alone(tmp_path: Path) -> None:
    """The old lock location (``.out.json.lock`` beside the output) is not used any more: a symlink there
    to someone's file is never opened by a real run."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (tmp_path / ".tok.json.lock").symlink_to(victim)
    corpus = Path(__file__).parent / "data" / "austen.txt"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKCLI_")}
    argv = ["-q", "train", str(corpus), "--vocab-size", "300", "-o", str(tmp_path / "tok.json")]
    proc = subprocess.run([sys.executable, "-m", "tokcli", *argv], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert victim.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tok.json.lock", "tok.json", "victim.txt"]
