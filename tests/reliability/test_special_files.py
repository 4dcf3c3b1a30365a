"""A FIFO inside an input folder (or matched by a glob) is skipped with a warning, never opened: opening
it waited forever for a writer."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
from rel_support import BPE, DATA, run_tokcli


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(DATA / "austen.txt", data / "a.txt")
    os.mkfifo(data / "b.txt")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(data / "c.jsonl"))
    return data


def test_a_folder_with_a_fifo_and_a_socket(folder: Path) -> None:
    proc = run_tokcli(["encode", "-t", str(BPE), str(folder), "-f", "count"], timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"tokcli: warning: {folder / 'b.txt'}: not a regular file" in proc.stderr
    assert f"tokcli: warning: {folder / 'c.jsonl'}: not a regular file" in proc.stderr
    assert (
        proc.stdout.splitlines()
        == run_tokcli(["encode", "-t", str(BPE), str(folder / "a.txt"), "-f", "count"]).stdout.splitlines()
    )


def test_a_glob_matching_a_fifo(folder: Path) -> None:
    proc = run_tokcli(["encode", "-t", str(BPE), str(folder / "*.txt"), "-f", "count"], timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "b.txt: not a regular file" in proc.stderr
