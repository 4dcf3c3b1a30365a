"""Byte streams shared by the text, JSON lines and stdin readers: the read size, reading with errors
that name the file, a stream with a prefix put back, peeking, and opening an input."""

from __future__ import annotations

import io
from typing import IO, Any

from tokcli.corpus.batch import InputFile
from tokcli.errors import InputError, TokcliError
from tokcli.files import open_binary

BLOCK = 1 << 18  # text read size; 64 KiB-1 MiB all stay in cache, larger blocks were slower


def open_input(item: InputFile) -> IO[bytes]:
    """The (decompressed) bytes of a local file, or of stdin once opened."""
    return item.stream if item.stream is not None else open_binary(item.location)


def read_block(fh: IO[bytes], size: int, label: str) -> bytes:
    """``fh.read(size)``, a decompression or I/O failure turned into an InputError naming ``label``."""
    try:
        return fh.read(size)
    except (TokcliError, MemoryError):
        raise
    except Exception as exc:  # gzip EOFError/BadGzipFile, zlib.error, zstd.ZstdError, OSError
        raise InputError(
            f"{label}: truncated or corrupt file ({type(exc).__name__}: {exc})",
            hint="re-download or re-compress the file",
        ) from exc


def peek(fh: IO[bytes]) -> bytes:
    """Up to 64 first bytes of a buffered stream, without consuming them (b"" if it cannot peek)."""
    look = getattr(fh, "peek", None)
    if look is None:
        return b""
    try:
        return bytes(look(64))[:64]
    except MemoryError:
        raise
    except Exception as exc:
        raise InputError(f"cannot read input: {type(exc).__name__}: {exc}", hint="check the file") from exc


class Prefixed(io.RawIOBase):
    """``head`` followed by the rest of ``stream`` (stdin cannot seek back after sniffing)."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
