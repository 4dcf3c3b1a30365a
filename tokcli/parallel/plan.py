"""The split planner: inputs -> an ordered list of splits that workers read independently.

A split is a byte range of an uncompressed text or JSONL file, a run of row groups of a Parquet file,
or a whole file (compressed files, CSV/TSV, ``save_to_disk`` folders, hub datasets, ``--doc-sep
blank|file`` text, ``.json`` arrays). The plan depends only on the inputs, their sizes or Parquet
metadata and ``split_size``: never on the number of workers or the order in which they finish.

Byte ranges are cut without reading the file: split *i* of a file covers the nominal range
``[i * split_size, (i + 1) * split_size)`` and reads exactly the lines that START inside it (the
Hadoop rule): a reader skips the partial line at its start (unless the byte before it is a newline)
and reads past its end to finish its last line. Every line therefore belongs to exactly one split, and
the documents of all splits, in split order, are the documents of the whole file in file order.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any, Literal

from tokcli.corpus import CorpusConfig
from tokcli.corpus.batch import InputFile, RawBatch
from tokcli.corpus.formats import read_input
from tokcli.corpus.inputs import COMPRESSIBLE, resolve_inputs
from tokcli.corpus.options import ReadOptions
from tokcli.errors import InputError, UsageError
from tokcli.files import compression_of

SplitKind = Literal["range", "rowgroups", "file"]
# Corpus options that depend on the order of the whole stream: a split cannot apply them alone.
_STREAM_OPTIONS = {
    "max_docs": None,
    "max_bytes": None,
    "skip": 0,
    "sample": None,
    "shuffle_buffer": 0,
    "num_shards": 1,
    "mix": (),
}


@dataclass(frozen=True)
class Split:
    """One unit of work. ``start``/``end``: byte range (``range``) or row-group range (``rowgroups``)."""

    index: int
    kind: SplitKind
    file_kind: str  # text | jsonl | parquet | csv | tsv | arrow | hf
    location: str
    source: str
    start: int = 0
    end: int = 0
    size: int = 0  # bytes (uncompressed size for Parquet row groups), for balancing and reports

    @property
    def identity(self) -> str:
        """What the split's output depends on (besides the file's content)."""
        return f"{self.kind}:{self.file_kind}:{self.location}:{self.start}:{self.end}"

    def describe(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "location": self.location,
            "source": self.source,
            "start": self.start,
            "end": self.end,
        }


def check_corpus_options(corpus: CorpusConfig, command: str) -> None:
    """Refuse the corpus options a split cannot apply on its own (they depend on the whole stream)."""
    for name, neutral in _STREAM_OPTIONS.items():
        if getattr(corpus, name) != neutral:
            flag = "--" + name.replace("_", "-")
            raise UsageError(
                f"{flag} cannot be used with {command}: its splits are read independently",
                hint=f"drop {flag}, or prepare the input first (e.g. with tokcli encode or head)",
            )
    if not corpus.inputs:
        raise UsageError(f"{command} needs inputs", hint="pass files, folders or globs (stdin cannot be split)")


def plan_splits(corpus: CorpusConfig, split_size: int, *, command: str = "a sharded run") -> list[Split]:
    """The ordered splits of ``corpus.inputs`` (files in the reader's order)."""
    check_corpus_options(corpus, command)
    files = resolve_inputs(corpus.inputs, corpus.format)
    splits: list[Split] = []
    for item in files:
        if item.kind == "stdin":
            raise UsageError(f"{command} cannot read stdin ('-')", hint="save the input to a file first")
        for kind, start, end, size in _file_splits(item, corpus, split_size):
            splits.append(
                Split(len(splits), kind, item.kind, item.location, item.source, start=start, end=end, size=size)
            )
    return splits


def _file_splits(item: InputFile, corpus: CorpusConfig, split_size: int) -> list[tuple[SplitKind, int, int, int]]:
    if item.kind == "parquet":
        return _rowgroup_splits(item.location, split_size)
    if item.kind in COMPRESSIBLE and compression_of(item.location) is None and _line_oriented(item, corpus):
        size = os.path.getsize(item.location)
        n = max(1, math.ceil(size / split_size))
        return [("range", i * split_size, min((i + 1) * split_size, size), min(split_size, size - i * split_size))
                for i in range(n)]  # fmt: skip
    size = os.path.getsize(item.location) if os.path.isfile(item.location) else 0
    return [("file", 0, 0, size)]


def _line_oriented(item: InputFile, corpus: CorpusConfig) -> bool:
    """Text read one document per line, or JSON lines (not one ``[...]`` array)."""
    if item.kind == "text":
        return corpus.doc_sep == "line"
    with open(item.location, "rb") as fh:
        head = fh.read(64)
    return head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] != b"["


def _rowgroup_splits(path: str, split_size: int) -> list[tuple[SplitKind, int, int, int]]:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception as exc:
        raise InputError(f"{path}: cannot read Parquet metadata ({type(exc).__name__}: {exc})") from None
    out: list[tuple[SplitKind, int, int, int]] = []
    first, size = 0, 0
    for group in range(meta.num_row_groups):
        size += meta.row_group(group).total_byte_size
        if size >= split_size:
            out.append(("rowgroups", first, group + 1, size))
            first, size = group + 1, 0
    if first < meta.num_row_groups or not out:
        out.append(("rowgroups", first, meta.num_row_groups, size))
    return out


# ---------------------------------------------------------------------------------------------------
# Reading one split


class _Window(io.RawIOBase):
    """Bytes ``[start, end)`` of a file."""

    def __init__(self, fh: IO[bytes], start: int, end: int) -> None:
        self._fh = fh
        self._left = end - start
        fh.seek(start)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        data = self._fh.read(min(len(buffer), self._left))
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)

    def close(self) -> None:
        self._fh.close()
        super().close()


def _line_start(fh: IO[bytes], offset: int, size: int) -> int:
    """The start of the first line that starts at or after ``offset``."""
    if offset <= 0:
        return 0
    if offset >= size:
        return size
    fh.seek(offset - 1)
    while (piece := fh.readline(1 << 20)) and not piece.endswith(b"\n"):
        pass  # in pieces: a line of gigabytes without a newline is never held in memory
    return fh.tell()


def line_range(path: str, start: int, end: int) -> tuple[int, int]:
    """The byte range a ``range`` split reads: whole lines starting in ``[start, end)``."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        return _line_start(fh, start, size), _line_start(fh, end, size) if end < size else size


def read_split(split: Split, corpus: CorpusConfig, batch_size: int = 1000) -> Iterator[RawBatch]:
    """The documents of one split, as the corpus reader would give them, in order."""
    from tokcli.corpus.jsonl import read_jsonl
    from tokcli.corpus.text import read_text

    if split.kind == "rowgroups":
        yield from _read_rowgroups(split, corpus, batch_size)
        return
    if split.kind == "file":
        item = InputFile(kind=split.file_kind, location=split.location, source=split.source, key=split.location)
        yield from read_input(item, ReadOptions.of(corpus, batch_size))  # the reader's own per-file path
        return
    start, end = line_range(split.location, split.start, split.end)
    if start >= end:
        return
    label = split.location if start == 0 else f"{split.location} (from byte {start})"
    try:
        raw = open(split.location, "rb")  # noqa: SIM115 - closed through the window
    except OSError as exc:
        raise InputError(f"{split.location}: {exc.strerror}", hint="check the path") from None
    with io.BufferedReader(_Window(raw, start, end), buffer_size=1 << 20) as fh:
        if split.file_kind == "text":
            yield from read_text(
                fh, label, split.source, "line", corpus.errors, corpus.keep_empty, max_line_bytes=corpus.max_line_bytes
            )
        else:
            yield from read_jsonl(
                fh,
                label,
                split.location if start == 0 else None,
                split.source,
                corpus.text_field,
                corpus.id_field,
                corpus.errors,
                batch_size,
                corpus.keep_empty,
                max_line_bytes=corpus.max_line_bytes,
            )


def _read_rowgroups(split: Split, corpus: CorpusConfig, batch_size: int) -> Iterator[RawBatch]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tokcli.corpus.input_errors import missing_field_error

    label = f"{split.location} (row groups {split.start}-{split.end - 1})"
    try:
        handle = pq.ParquetFile(split.location)
        names = handle.schema_arrow.names
        if corpus.text_field not in names:
            raise missing_field_error(split.location, corpus.text_field, names, None)
        columns = [corpus.text_field] + ([corpus.id_field] if corpus.id_field in names else [])
        groups = list(range(split.start, split.end))
        for table in handle.iter_batches(batch_size=batch_size, row_groups=groups, columns=columns):
            column = table.column(corpus.text_field)
            if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
                texts = [None if b is None else b.decode("utf-8", corpus.errors) for b in column.to_pylist()]
            elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                texts = column.to_pylist()
            else:
                raise InputError(
                    f"{label}: field {corpus.text_field!r} is a {column.type}, expected a string",
                    hint="choose the field that holds the text with --text-field",
                )
            ids = None
            if corpus.id_field in names:
                ids = [
                    None if v is None else (v if isinstance(v, str) else str(v)) for v in table.column(1).to_pylist()
                ]
            if None in texts or "" in texts:
                keep = [i for i, t in enumerate(texts) if t]
                texts = [texts[i] for i in keep]
                ids = None if ids is None else [ids[i] for i in keep]
            if texts:
                yield RawBatch(texts, ids, split.source)  # type: ignore[arg-type]
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(f"{label}: invalid UTF-8 ({exc.reason})", hint="pass --errors replace") from None
    except Exception as exc:
        raise InputError(f"{label}: cannot read ({type(exc).__name__}: {exc})") from None
