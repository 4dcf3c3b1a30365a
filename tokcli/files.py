"""File plumbing shared by every command: atomic output writes, compressed inputs, fingerprints.

Every artifact tokcli writes goes through :func:`atomic_write`: the data lands in a temporary file in
the destination folder, is fsync'ed, and only then renamed over the destination with ``os.replace``
(atomic on POSIX). A run killed at any moment leaves either the old file or the complete new one.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

from tokcli.errors import InputError, OutputError

TEMP_PREFIX = ".tokcli-tmp-"


@overload
def atomic_write(
    path: str | os.PathLike[str], mode: Literal["wb"] = ..., *, if_changed: bool = ...
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
@overload
def atomic_write(
    path: str | os.PathLike[str], mode: Literal["w"], *, if_changed: bool = ...
) -> contextlib.AbstractContextManager[IO[str]]: ...
def atomic_write(path: str | os.PathLike[str], mode: str = "wb", *, if_changed: bool = False) -> Any:
    """Context manager yielding a file object whose content replaces ``path`` only on success.

    With ``if_changed=True`` an existing file whose bytes equal the new content is left untouched
    (same mtime), so Makefile rules depending on it do not re-run.
    """
    return _atomic_write(Path(path), mode, if_changed)


@contextlib.contextmanager
def _atomic_write(path: Path, mode: str, if_changed: bool) -> Iterator[IO[Any]]:
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    folder = path.parent if str(path.parent) else Path(".")
    if path.exists() and not path.is_file():
        # Replacing a device or FIFO (/dev/null, a named pipe) with a regular file would destroy it.
        raise OutputError(
            f"cannot write {path}: not a regular file", hint="write to a file path, or to stdout with '-'"
        )
    if not folder.is_dir():
        raise OutputError(
            f"cannot write {path}: folder {folder} does not exist", hint="create it or choose another path"
        )
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=folder)
    except OSError as exc:
        raise OutputError(
            f"cannot write {path}: {exc.strerror}", hint="check the folder's permissions and free space"
        ) from exc
    tmp = Path(tmp_name)
    try:
        kwargs: dict[str, Any] = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
        with open(fd, mode, **kwargs) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if if_changed and path.is_file() and _same_bytes(tmp, path):
            tmp.unlink()
            return
        # mkstemp creates 0600 files; give the result the usual permissions (respecting umask).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}", hint="check free space") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _same_bytes(a: Path, b: Path, chunk: int = 1 << 20) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            ba, bb = fa.read(chunk), fb.read(chunk)
            if ba != bb:
                return False
            if not ba:
                return True


def compression_of(path: str | os.PathLike[str]) -> str | None:
    """``"gzip"``, ``"zstd"`` or None, from the file name's last suffix."""
    suffix = Path(path).suffix.lower()
    return {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}.get(suffix)


def open_binary(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open an input file for reading bytes, decompressing .gz / .zst transparently."""
    p = Path(path)
    try:
        raw = open(p, "rb")  # noqa: SIM115 - returned to the caller
    except FileNotFoundError as exc:
        raise InputError(f"{p}: no such file", hint="check the path") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{p}: is a directory, expected a file") from exc
    except PermissionError as exc:
        raise InputError(f"{p}: permission denied", hint="check the file's permissions") from exc
    kind = compression_of(p)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if kind == "zstd":
        import zstandard

        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True))
    return raw


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
