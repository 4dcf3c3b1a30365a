"""stdin (``-``): opened once, decompressed when it starts with a gzip or zstd header, its format
sniffed from the first bytes unless ``--input-format`` is given, then read by the text or JSON lines
reader (HF ``datasets`` cannot stream stdin)."""

from __future__ import annotations

import io
from typing import IO

from tokcli.corpus.batch import InputFile
from tokcli.corpus.streams import Prefixed, peek, read_block
from tokcli.errors import InputError, UsageError

STDIN_FORMATS = ("text", "jsonl")


def stdin_input(stream: IO[bytes], fmt: str) -> InputFile:
    """stdin opened, as an input of the format ``fmt`` (or the sniffed one when ``fmt`` is ``auto``)."""
    fh, head = open_stdin(stream)
    kind = fmt if fmt != "auto" else sniff_format(head)
    if kind not in STDIN_FORMATS:
        fh.close()
        raise UsageError(
            f"stdin: --input-format {kind} cannot be read from stdin",
            hint="use text or jsonl on stdin, or pass the file",
        )
    return InputFile(kind=kind, location="-", source="stdin", key="stdin", stream=fh)


def open_stdin(stream: IO[bytes]) -> tuple[IO[bytes], bytes]:
    """A buffered, decompressed stdin and its first bytes (for format sniffing)."""
    if stream.isatty():
        raise InputError(
            "'-' reads stdin, but stdin is a terminal",
            hint="pass a file, or pipe the input: cat data.jsonl | tokcli ... -",
        )
    head = read_block(stream, 1 << 16, "stdin")
    fh: IO[bytes] = io.BufferedReader(Prefixed(head, stream), buffer_size=1 << 20)
    if head[:2] == b"\x1f\x8b":
        import gzip

        fh = gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[assignment]
    elif head[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard

        fh = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh))
    else:
        return fh, head
    return fh, peek(fh)


def sniff_format(head: bytes) -> str:
    """``jsonl`` when the first non-blank character is ``{`` or ``[``, else ``text``."""
    return "jsonl" if head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] in (b"{", b"[") else "text"
