"""Output locks between real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tokcli.errors import ExitCode, LockHeldError
from tokcli.locks import lock_path_for, output_lock

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
            assert lock == tmp_path / ".x.bin.lock"
