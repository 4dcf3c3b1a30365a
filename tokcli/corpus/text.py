"""Plain text: one document per line, per blank-line-separated paragraph, or per file.

Read in blocks of about :data:`tokcli.corpus.streams.BLOCK` bytes cut at newlines and decoded at once
(HF's ``"text"`` builder reached only 11-26% of raw line reading; see :mod:`tokcli.corpus.formats`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import IO

from tokcli.corpus import streams
from tokcli.corpus.batch import InputFile, RawBatch
from tokcli.corpus.input_errors import binary_error, long_line_error, utf8_error
from tokcli.corpus.options import DEFAULT_MAX_LINE_BYTES, ReadOptions
from tokcli.corpus.streams import open_input, read_block

_PARA_SEP = re.compile(r"\n(?:[ \t\r\f\v]*\n)+")


def read(item: InputFile, options: ReadOptions) -> Iterator[RawBatch]:
    """The format reader for plain text (one signature with the others, see :mod:`tokcli.corpus.formats`)."""
    with open_input(item) as fh:
        yield from read_text(
            fh,
            item.label,
            item.source,
            options.doc_sep,
            options.errors,
            options.keep_empty,
            max_line_bytes=options.max_line_bytes,
        )


def read_text(
    fh: IO[bytes],
    label: str,
    source: str,
    doc_sep: str,
    errors: str,
    keep_empty: bool = False,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[RawBatch]:
    """Plain text: one document per line, per blank-line-separated paragraph, or per file.

    ``\\r\\n`` counts as a line end in ``line`` and ``blank`` modes; empty documents are dropped (in
    ``line`` mode ``keep_empty`` keeps empty lines, so documents stay aligned with input lines); a
    UTF-8 BOM at the start is removed; ``file`` mode keeps the file's text unchanged otherwise. A line,
    paragraph or file document longer than ``max_line_bytes`` raises InputError before it is held.
    """
    if doc_sep == "file":
        return _whole_file(fh, label, source, errors, max_line_bytes)
    if doc_sep == "line":
        return _lines(fh, label, source, errors, keep_empty, max_line_bytes)
    return _paragraphs(fh, label, source, errors, max_line_bytes)


def _whole_file(fh: IO[bytes], label: str, source: str, errors: str, max_line_bytes: int) -> Iterator[RawBatch]:
    """``doc_sep="file"``: the whole file is one document (if it is not blank)."""
    blocks: list[bytes] = []
    size = 0
    for _, block in _blocks(fh, label, max_line_bytes):
        size += len(block)
        if size > max_line_bytes:
            raise long_line_error(label, 0, max_line_bytes, "the document (doc_sep=file: the whole file) starting")
        blocks.append(block)
    data = b"".join(blocks)
    del blocks
    data = data.removeprefix(codecs.BOM_UTF8)
    text = _decode(data, 0, label, errors)
    if text.strip():
        yield RawBatch([text], None, source)


def _lines(
    fh: IO[bytes], label: str, source: str, errors: str, keep_empty: bool, max_line_bytes: int
) -> Iterator[RawBatch]:
    """``doc_sep="line"``: one batch of lines per block."""
    for _offset, raw, block, text in _decoded_blocks(fh, label, errors, max_line_bytes):
        has_cr = "\r" in text
        lines = text.split("\n")
        if keep_empty and lines and lines[-1] == "":
            lines.pop()  # blocks end at a newline: the empty string after it is not a line
        if has_cr:
            lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
        if not keep_empty and "" in lines:
            lines = [ln for ln in lines if ln]
        # Bytes of the lines = block minus its newlines, when nothing else was removed or replaced.
        exact = not has_cr and block is raw and errors == "strict"
        if lines:
            yield RawBatch(lines, None, source, total=len(block) - block.count(b"\n") if exact else None)


def _paragraphs(fh: IO[bytes], label: str, source: str, errors: str, max_line_bytes: int) -> Iterator[RawBatch]:
    """``doc_sep="blank"``: paragraphs separated by blank lines; the last one of a block is carried over."""
    carry = ""
    for offset, raw, _block, text in _decoded_blocks(fh, label, errors, max_line_bytes):
        if "\r" in text:
            text = text.replace("\r\n", "\n")
        parts = _PARA_SEP.split(carry + text)
        carry = parts.pop()
        # characters <= bytes: the UTF-8 size is counted only when the paragraph may be too long
        if len(carry) > max_line_bytes and len(carry.encode("utf-8", "surrogatepass")) > max_line_bytes:
            end = offset + len(raw)
            raise long_line_error(label, end, max_line_bytes, "a paragraph (doc_sep=blank) ending")
        paras = [p for p in (q.strip("\n") for q in parts) if p.strip()]
        if paras:
            yield RawBatch(paras, None, source)
    if carry.strip("\n").strip():
        yield RawBatch([carry.strip("\n")], None, source)


def _decoded_blocks(
    fh: IO[bytes], label: str, errors: str, max_line_bytes: int
) -> Iterator[tuple[int, bytes, bytes, str]]:
    """(file offset, raw block, the block without a leading BOM, its text) for each block of :func:`_blocks`."""
    first = True
    for offset, raw in _blocks(fh, label, max_line_bytes):
        block = raw
        if first:
            first = False
            block = raw.removeprefix(codecs.BOM_UTF8)
        yield offset, raw, block, _decode(block, offset + len(raw) - len(block), label, errors)


def _blocks(fh: IO[bytes], label: str, max_line: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[tuple[int, bytes]]:
    """(file offset, bytes) blocks of about BLOCK bytes, each ending at a newline (the last may not).

    A line longer than ``max_line`` bytes raises InputError once that many bytes were read (the
    pieces of a long line are collected in a list and joined once: appending to one bytes object
    would copy it again for every block)."""
    size = streams.BLOCK
    offset = 0
    parts: list[bytes] = []  # the unfinished line: the tail of a block, then blocks without a newline
    pending = 0
    while chunk := read_block(fh, size, label):
        nul = chunk.find(b"\0")
        if nul >= 0:
            raise binary_error(label, offset + pending + nul)
        cut = chunk.rfind(b"\n")
        if cut < 0:
            parts.append(chunk)
            pending += len(chunk)
            if pending > max_line:
                raise long_line_error(label, offset, max_line)
            continue
        if parts:
            first_end = chunk.find(b"\n")
            if pending + first_end + 1 > max_line:
                raise long_line_error(label, offset, max_line)
            parts.append(chunk[: cut + 1])
            block = b"".join(parts)
            parts = []
        else:
            block = chunk[: cut + 1]
        yield offset, block
        offset += len(block)
        tail = chunk[cut + 1 :]
        if tail:
            parts.append(tail)
        pending = len(tail)
    if parts:
        yield offset, b"".join(parts)


def _decode(block: bytes, offset: int, label: str, errors: str) -> str:
    try:
        return block.decode("utf-8", errors)
    except UnicodeDecodeError as exc:
        raise utf8_error(label, offset + exc.start, exc) from None
