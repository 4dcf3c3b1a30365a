"""Atomic writes, compressed inputs and fingerprints."""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

import pytest

from tokcli.errors import InputError, OutputError
from tokcli.files import TEMP_PREFIX, atomic_write, open_binary, sha256_file


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX)]


def test_atomic_write_replaces_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    with atomic_write(target, "w") as handle:
        handle.write("new")
        assert target.read_text(encoding="utf-8") == "old"  # not visible before the end
    assert target.read_text(encoding="utf-8") == "new"
    assert leftovers(tmp_path) == []


def test_atomic_write_keeps_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write(b"partial")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_atomic_write_no_file_on_failure_when_absent(tmp_path: Path) -> None:
    target = tmp_path / "fresh.bin"
    with pytest.raises(KeyboardInterrupt), atomic_write(target) as handle:
        handle.write(b"x")
        raise KeyboardInterrupt
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_atomic_write_if_changed_keeps_mtime(tmp_path: Path) -> None:
    target = tmp_path / "same.txt"
    with atomic_write(target, "w") as handle:
        handle.write("content")
    past = time.time() - 1000
    os.utime(target, (past, past))
    with atomic_write(target, "w", if_changed=True) as handle:
        handle.write("content")
    assert target.stat().st_mtime == pytest.approx(past)
    with atomic_write(target, "w", if_changed=True) as handle:
        handle.write("changed")
    assert target.read_text(encoding="utf-8") == "changed"
    assert target.stat().st_mtime > past + 100


def test_atomic_write_uses_normal_permissions(tmp_path: Path) -> None:
    target = tmp_path / "perm.txt"
    with atomic_write(target, "w") as handle:
        handle.write("x")
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_atomic_write_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"), atomic_write(tmp_path / "no" / "x.txt", "w"):
        pass


def test_open_binary_decompresses(tmp_path: Path) -> None:
    import zstandard

    payload = "héllo\nwörld\n".encode()
    (tmp_path / "a.gz").write_bytes(gzip.compress(payload))
    (tmp_path / "a.zst").write_bytes(zstandard.ZstdCompressor().compress(payload))
    (tmp_path / "a.txt").write_bytes(payload)
    for name in ("a.gz", "a.zst", "a.txt"):
        with open_binary(tmp_path / name) as handle:
            assert handle.read() == payload


def test_open_binary_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        open_binary(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="is a directory"):
        open_binary(tmp_path)


def test_sha256_file(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"abc")
    assert sha256_file(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_atomic_write_refuses_devices_and_fifos(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="not a regular file"), atomic_write(fifo, "w"):
        pass
    assert not fifo.is_file() and fifo.exists()
    with pytest.raises(OutputError, match="not a regular file"), atomic_write(tmp_path, "w"):
        pass
