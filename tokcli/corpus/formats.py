"""Input resolution and per-format readers behind :mod:`tokcli.corpus.reader`.

Every reader yields :class:`RawBatch` objects (a list of texts plus ids), never one dict per record.

Backends, chosen by measurement (``scripts/bench_reader.py``, numbers in docs/benchmarks.md):

* Plain text and JSON lines (also ``.gz``/``.zst``, and stdin, which HF cannot stream) are read by a
  direct fast path: text in 256 KiB blocks cut at newlines and decoded at once; JSONL line by line with
  ``orjson``. HF ``load_dataset("text", streaming=True)`` in Arrow batches reaches only 11-26% of the
  raw line-reading baseline. HF ``"json"`` reaches 58-81% once warm (pyarrow parses on several cores)
  but only ~24% in a fresh process, which is what one CLI run pays (``import datasets`` and builder
  setup take ~1 s; peak RSS ~300 MiB vs ~30 MiB), and its errors carry no line numbers or byte
  offsets. The fast path yields the same documents as HF's builders (checked in tests/test_corpus.py),
  except that blank lines and empty texts are dropped.
* Parquet, CSV/TSV, ``save_to_disk`` folders and hub names ``hf:NAME[:CONFIG][@SPLIT]`` go through HF
  ``datasets`` (``load_dataset(..., streaming=True)`` / ``load_from_disk``) in Arrow batches: these are
  columnar or remote, HF's builders already stream them through pyarrow, and the reader reaches ~60% of
  raw ``pyarrow.parquet`` ``iter_batches`` (the rest is HF setup and counting UTF-8 bytes).

Heavy modules (datasets, pyarrow, orjson, zstandard) are imported inside functions.
"""

from __future__ import annotations

import codecs
import functools
import glob
import io
import itertools
import operator
import os
import re
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlparse

from tokcli.errors import InputError, TokcliError
from tokcli.files import compression_of, open_binary

BLOCK = 1 << 18  # text read size; 64 KiB-1 MiB all stay in cache, larger blocks were slower
# Longest line (JSONL record, paragraph, whole-file document, JSON array file) read into memory; a longer
# one stops with an error naming the file and byte offset instead of growing without bound (an input
# with no newline, a 10 GB file of NUL bytes). CorpusConfig.max_line_bytes (--max-line-bytes) sets it.
DEFAULT_MAX_LINE_BYTES = 256 << 20
FORMAT_OF_SUFFIX = {
    ".txt": "text",
    ".text": "text",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
}
COMPRESSIBLE = {"text", "jsonl"}  # read through tokcli.files.open_binary; HF-backed formats are not
DATASET_MARKERS = ("dataset_info.json", "state.json")
DATASET_DICT_MARKER = "dataset_dict.json"
SUPPORTED_HINT = ".txt, .jsonl, .json (also .gz/.zst), .parquet, .csv, .tsv or a save_to_disk folder"
_PARA_SEP = re.compile(r"\n(?:[ \t\r\f\v]*\n)+")


class RawBatch:
    """Texts of consecutive documents with their ids and source name(s).

    ``sources`` is one name for a homogeneous batch or a list (one per text) after mixing. Byte sizes
    (UTF-8) are computed lazily: the total is often known for free from the raw block.
    """

    __slots__ = ("_sizes", "_total", "ids", "sources", "texts")

    def __init__(
        self,
        texts: list[str],
        ids: list[str | None] | None,
        sources: str | list[str],
        *,
        total: int | None = None,
        sizes: list[int] | None = None,
    ) -> None:
        self.texts = texts
        self.ids = ids
        self.sources = sources
        self._total = total
        self._sizes = sizes

    def __len__(self) -> int:
        return len(self.texts)

    def sizes(self) -> list[int]:
        if self._sizes is None:
            self._sizes = list(map(len, map(str.encode, self.texts)))
        return self._sizes

    def total(self) -> int:
        # Per text, not len("".join(texts).encode()): joining texts of different str kinds widens the
        # whole batch to UCS-4 first, which measured 13x slower.
        if self._total is None:
            if self._sizes is not None:
                self._total = sum(self._sizes)
            else:  # ASCII texts (len is their size, str.isascii is O(1)) are not encoded
                wide = list(itertools.filterfalse(str.isascii, self.texts))
                self._total = sum(map(len, self.texts)) - sum(map(len, wide)) + sum(map(len, map(str.encode, wide)))
        return self._total

    def source_at(self, i: int) -> str:
        return self.sources if isinstance(self.sources, str) else self.sources[i]

    def take(self, index: slice | list[int]) -> RawBatch:
        """A sub-batch: a slice, or a list of positions in increasing order."""
        if isinstance(index, slice):
            if index == slice(None):
                return self
            pick: Callable[[list[Any]], list[Any]] = lambda xs: xs[index]  # noqa: E731
        else:
            pick = lambda xs: [xs[i] for i in index]  # noqa: E731
        sources = self.sources if isinstance(self.sources, str) else pick(self.sources)
        ids = None if self.ids is None else pick(self.ids)
        sizes = None if self._sizes is None else pick(self._sizes)
        return RawBatch(pick(self.texts), ids, sources, sizes=sizes)


@dataclass(frozen=True)
class InputFile:
    """One thing to read: a local file or folder, stdin, or a hub dataset."""

    kind: str  # text | jsonl | parquet | csv | tsv | arrow | hf | stdin
    location: str  # path, "-" or the hub spec after "hf:"
    source: str  # default source name of its documents
    key: str  # stable name used in the sampling hash


# ---------------------------------------------------------------------------------------------------
# Input resolution


def format_of(path: str | os.PathLike[str]) -> str | None:
    """Format from the file name (compression suffix ignored), or None when unknown."""
    p = Path(path)
    name = p.name.lower()
    if compression_of(p):
        name = name.rsplit(".", 1)[0]
    return FORMAT_OF_SUFFIX.get(Path(name).suffix)


def source_name(path: str | os.PathLike[str]) -> str:
    """The file's stem without compression suffix: ``web.jsonl.gz`` -> ``web``."""
    name = Path(path).name
    if compression_of(name):
        name = name.rsplit(".", 1)[0]
    return Path(name).stem or name


def _is_dataset_folder(path: Path) -> bool:
    return (path / DATASET_DICT_MARKER).is_file() or all((path / m).is_file() for m in DATASET_MARKERS)


def _check_file(path: Path, kind: str) -> None:
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied", hint="check the file's permissions")
    if kind in ("parquet", "csv", "tsv") and compression_of(path):
        raise InputError(f"{path}: compressed {kind} files are not supported", hint="decompress it first")


def _file_input(path: Path, fmt: str, key: str) -> InputFile:
    kind = fmt if fmt != "auto" else (format_of(path) or "text")  # unknown suffix: plain text
    _check_file(path, kind)
    return InputFile(kind=kind, location=str(path), source=source_name(path), key=key)


def _folder_inputs(root: Path, fmt: str, shown: str) -> Iterator[InputFile]:
    """The supported files under ``root``, recursively, in sorted order of their path parts, streamed.

    A depth-first walk whose entries are sorted by name at each level gives the same order as sorting
    every path, without holding the whole tree: only the names of the folders on the current path are
    in memory (a folder of a million files costs its names, not a million InputFile objects), and
    the first file is read before the last is listed. Hidden files and folders are skipped; symlinked
    folders are not followed (as ``os.walk``) unless they are ``save_to_disk`` datasets."""
    if _is_dataset_folder(root):
        yield InputFile(kind="arrow", location=str(root), source=root.name, key=root.name)
        return
    found = False
    for item in _walk_sorted(root, root, fmt):
        found = True
        yield item
    if not found:
        wanted = f"{fmt} files" if fmt != "auto" else f"supported files ({SUPPORTED_HINT})"
        raise InputError(f"{shown}: folder has no {wanted}", hint="point at the data files or another folder")


def _walk_sorted(root: Path, here: Path, fmt: str) -> Iterator[InputFile]:
    import heapq

    files: list[str] = []
    dirs: list[str] = []
    try:
        with os.scandir(here) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    continue
                if is_dir:
                    dirs.append(name)
                    continue
                kind = format_of(name)
                if kind is None or (fmt != "auto" and kind != fmt):
                    continue
                if kind not in COMPRESSIBLE and compression_of(name):
                    continue
                files.append(name)
    except OSError as exc:
        raise InputError(f"{here}: cannot list folder ({exc.strerror})", hint="check its permissions") from None
    files.sort()
    dirs.sort()
    for name, is_dir in heapq.merge(((f, False) for f in files), ((d, True) for d in dirs)):
        path = here / name
        rel = path.relative_to(root).as_posix()
        if not is_dir:
            kind = format_of(name) or "text"
            _check_file(path, kind)
            yield InputFile(kind=kind, location=str(path), source=source_name(path), key=rel)
        elif _is_dataset_folder(path):
            yield InputFile(kind="arrow", location=str(path), source=name, key=rel)
        elif not path.is_symlink():
            yield from _walk_sorted(root, path, fmt)
    del files, dirs


def parse_hub_spec(spec: str) -> tuple[str, str | None, str]:
    """``NAME[:CONFIG][@SPLIT]`` (the part after ``hf:``) -> (name, config, split)."""
    rest, _, split = spec.partition("@")
    name, _, config = rest.partition(":")
    if not name:
        raise InputError(f"bad hub dataset 'hf:{spec}'", hint="write it as hf:NAME[:CONFIG][@SPLIT]")
    return name, config or None, split or "train"


def resolve_inputs(inputs: tuple[str, ...], fmt: str) -> list[InputFile]:
    """Expand files, folders (recursively, sorted), globs, ``-`` and ``hf:`` names, checking they exist."""
    return list(iter_inputs(inputs, fmt))


def iter_inputs(inputs: tuple[str, ...], fmt: str) -> Iterator[InputFile]:
    """:func:`resolve_inputs` as a stream: every input is checked first (a missing path fails before any
    reading), then folders are expanded while the files before them are read."""
    plan: list[Iterable[InputFile]] = []
    for item in inputs:
        if item == "-":
            plan.append([InputFile(kind="stdin", location="-", source="stdin", key="stdin")])
            continue
        if item.startswith("hf:"):
            name, _, _ = parse_hub_spec(item[3:])
            plan.append([InputFile(kind="hf", location=item[3:], source=name, key=item)])
            continue
        path = Path(item).expanduser()
        if path.is_dir():
            plan.append(_folder_inputs(path, fmt, item))
        elif path.is_file():
            plan.append([_file_input(path, fmt, path.name)])
        elif glob.has_magic(item):
            matches = sorted(glob.glob(os.path.expanduser(item), recursive=True))
            if not matches:
                raise InputError(f"no files match {item!r}", hint="check the pattern (quote it so the shell keeps it)")
            for match in matches:
                mp = Path(match)
                if mp.is_dir():
                    plan.append(_folder_inputs(mp, fmt, match))
                elif fmt == "auto" and format_of(mp) is None:
                    continue  # a glob like data/* also matches READMEs: keep supported files only
                else:
                    plan.append([_file_input(mp, fmt, mp.name)])
        else:
            raise InputError(f"{item}: no such file or directory", hint="check the path")
    return itertools.chain.from_iterable(plan)


# ---------------------------------------------------------------------------------------------------
# Plain text


def _binary_error(label: str, offset: int | str) -> InputError:
    return InputError(
        f"{label}: looks like a binary file (NUL byte at byte offset {offset}), not UTF-8 text",
        hint="pass a text, JSONL, Parquet or CSV file (UTF-16 text must be converted to UTF-8 first)",
    )


def _utf8_error(label: str, offset: int | str, exc: UnicodeDecodeError) -> InputError:
    return InputError(
        f"{label}: invalid UTF-8 at byte offset {offset} ({exc.reason})",
        hint="re-encode the file as UTF-8, or pass --errors replace to substitute U+FFFD",
    )


def _long_line_error(label: str, offset: int | str, limit: int, what: str = "the line starting") -> InputError:
    from tokcli.resources import format_size

    return InputError(
        f"{label}: {what} at byte offset {offset} is longer than --max-line-bytes "
        f"({format_size(limit)}), so it was not read into memory",
        hint="if such long documents are intended raise --max-line-bytes (e.g. --max-line-bytes 2GiB); "
        "otherwise split the input into lines (one document per line) or check it is really text",
    )


def _read_block(fh: IO[bytes], size: int, label: str) -> bytes:
    try:
        return fh.read(size)
    except (TokcliError, MemoryError):
        raise
    except Exception as exc:  # gzip EOFError/BadGzipFile, zlib.error, zstd.ZstdError, OSError
        raise InputError(
            f"{label}: truncated or corrupt file ({type(exc).__name__}: {exc})",
            hint="re-download or re-compress the file",
        ) from exc


def _blocks(fh: IO[bytes], label: str, max_line: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[tuple[int, bytes]]:
    """(file offset, bytes) blocks of about BLOCK bytes, each ending at a newline (the last may not).

    A line longer than ``max_line`` bytes raises InputError once that many bytes were read (the
    pieces of a long line are collected in a list and joined once: appending to one bytes object
    would copy it again for every block)."""
    offset = 0
    parts: list[bytes] = []  # the unfinished line: the tail of a block, then blocks without a newline
    pending = 0
    while chunk := _read_block(fh, BLOCK, label):
        nul = chunk.find(b"\0")
        if nul >= 0:
            raise _binary_error(label, offset + pending + nul)
        cut = chunk.rfind(b"\n")
        if cut < 0:
            parts.append(chunk)
            pending += len(chunk)
            if pending > max_line:
                raise _long_line_error(label, offset, max_line)
            continue
        if parts:
            first_end = chunk.find(b"\n")
            if pending + first_end + 1 > max_line:
                raise _long_line_error(label, offset, max_line)
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
        raise _utf8_error(label, offset + exc.start, exc) from None


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
        blocks: list[bytes] = []
        size = 0
        for _, block in _blocks(fh, label, max_line_bytes):
            size += len(block)
            if size > max_line_bytes:
                raise _long_line_error(label, 0, max_line_bytes, "the document (doc_sep=file: the whole file) starting")
            blocks.append(block)
        data = b"".join(blocks)
        del blocks
        data = data.removeprefix(codecs.BOM_UTF8)
        text = _decode(data, 0, label, errors)
        if text.strip():
            yield RawBatch([text], None, source)
        return
    first = True
    carry = ""
    for offset, raw in _blocks(fh, label, max_line_bytes):
        block = raw
        if first:
            first = False
            block = raw.removeprefix(codecs.BOM_UTF8)
        text = _decode(block, offset + len(raw) - len(block), label, errors)
        has_cr = "\r" in text
        if doc_sep == "line":
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
        else:
            if has_cr:
                text = text.replace("\r\n", "\n")
            parts = _PARA_SEP.split(carry + text)
            carry = parts.pop()
            # characters <= bytes: the UTF-8 size is counted only when the paragraph may be too long
            if len(carry) > max_line_bytes and len(carry.encode("utf-8", "surrogatepass")) > max_line_bytes:
                end = offset + len(raw)
                raise _long_line_error(label, end, max_line_bytes, "a paragraph (doc_sep=blank) ending")
            paras = [p for p in (q.strip("\n") for q in parts) if p.strip()]
            if paras:
                yield RawBatch(paras, None, source)
    if carry.strip("\n").strip():
        yield RawBatch([carry.strip("\n")], None, source)


# ---------------------------------------------------------------------------------------------------
# JSON lines


def _guess_text_field(record: dict[str, Any]) -> str:
    strings = [k for k, v in record.items() if isinstance(v, str)]
    return max(strings, key=lambda k: len(record[k])) if strings else next(iter(record), "text")


def missing_field_error(where: str, field: str, fields: list[str], example: dict[str, Any] | None) -> InputError:
    guess = _guess_text_field(example) if example else (fields[0] if fields else "text")
    listed = ", ".join(repr(f) for f in fields) or "none"
    return InputError(
        f"{where}: no field {field!r} in the record (fields: {listed})",
        hint=f"choose the text field with --text-field, e.g. --text-field {guess}",
    )


def _type_error(where: str, field: str, value: Any) -> InputError:
    return InputError(
        f"{where}: field {field!r} is a {type(value).__name__}, expected a string",
        hint="choose the field that holds the text with --text-field",
    )


def _jsonl_slow_path(
    line: bytes, lineno: int, label: str, path: str | None, text_field: str, errors: str
) -> tuple[dict[str, Any], Any] | None:
    """Explain (or recover from) a line the fast loop could not handle; None for a blank line."""
    import orjson

    if not line.strip():
        return None
    where = f"{label}:{lineno}"
    nul = line.find(b"\0")
    if nul >= 0:
        raise _binary_error(where, _offset_in_file(path, lineno, nul))
    try:
        decoded = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        if errors == "strict":
            raise _utf8_error(where, _offset_in_file(path, lineno, exc.start), exc) from None
        decoded = line.decode("utf-8", "replace")
    if lineno == 1:
        decoded = decoded.removeprefix("\ufeff")
    try:
        record = orjson.loads(decoded)
    except orjson.JSONDecodeError as exc:
        raise InputError(
            f"{where}: malformed JSON ({exc})",
            hint="fix or remove that line; JSON lines files hold one JSON object per line",
        ) from None
    if not isinstance(record, dict):
        raise InputError(
            f"{where}: expected a JSON object, found a {type(record).__name__}",
            hint='JSON lines files hold one object per line, e.g. {"text": "..."}',
        )
    if text_field not in record:
        raise missing_field_error(where, text_field, list(record), record)
    return record, record[text_field]


def _offset_in_file(path: str | None, lineno: int, column: int) -> int | str:
    """Byte offset of ``column`` on line ``lineno``: re-reads the file (errors only); stdin gives the column.

    Only the lines before ``lineno`` are read (they were short enough to be read the first time)."""
    if path is None:
        return f"{column} of line {lineno}"
    offset = 0
    with open_binary(path) as fh:
        for _ in range(lineno - 1):
            offset += len(fh.readline())
    return offset + column


def read_jsonl(
    fh: IO[bytes],
    label: str,
    path: str | None,
    source: str,
    text_field: str,
    id_field: str,
    errors: str,
    batch_size: int,
    keep_empty: bool = False,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[RawBatch]:
    """JSON lines with orjson; a ``.json`` file holding one array of objects is also accepted.

    Empty texts are dropped unless ``keep_empty``; blank lines are always skipped. A line longer than
    ``max_line_bytes`` raises InputError after that many bytes were read, never more."""
    head = _peek(fh)
    if (nul := head.find(b"\0")) >= 0:  # never valid JSON: fail before reading a first line of NULs
        raise _binary_error(f"{label}:1", nul)
    if head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] == b"[":
        yield from _read_json_array(fh, label, source, text_field, id_field, errors, batch_size, max_line_bytes)
        return
    reader = _JsonlReader(label, path, text_field, id_field, errors, keep_empty, max_line_bytes)
    texts: list[str] = []
    ids: list[str | None] = []
    try:
        for chunk_texts, chunk_ids in reader.chunks(fh):
            texts += chunk_texts
            ids += chunk_ids
            while len(texts) >= batch_size:
                yield _id_batch(texts[:batch_size], ids[:batch_size], source)
                del texts[:batch_size], ids[:batch_size]
    except (TokcliError, MemoryError):
        raise
    except Exception as exc:  # decompression failures surface while reading
        raise InputError(
            f"{label}: truncated or corrupt file after line {reader.lineno} ({type(exc).__name__}: {exc})",
            hint="re-download or re-compress the file",
        ) from exc
    if texts:
        yield _id_batch(texts, ids, source)


def _id_batch(texts: list[str], ids: list[str | None], source: str) -> RawBatch:
    return RawBatch(texts, None if ids.count(None) == len(ids) else ids, source)


class _JsonlReader:
    """The documents of a JSON lines stream, in chunks of (texts, ids).

    The reference behaviour is :meth:`lines`: ``readline(max_line_bytes + 1)`` and one ``orjson.loads``
    per line (so a longer line is never read whole). :meth:`chunks` gives the same documents and errors
    faster: it reads blocks of whole lines and parses a block with one ``map`` when every line in it is
    short enough and a JSON object with a string text (no Python loop per line: ~0.15 s less per 50 MB);
    any other block goes through :meth:`lines` (blank lines, BOM, bad records, errors, long lines), and
    a line still unfinished after ``max_line_bytes`` sends the rest of the stream there.
    """

    def __init__(
        self, label: str, path: str | None, text_field: str, id_field: str, errors: str, keep_empty: bool, limit: int
    ) -> None:
        self.label, self.path, self.text_field, self.id_field = label, path, text_field, id_field
        self.errors, self.keep_empty, self.limit = errors, keep_empty, limit
        self.lineno = 0  # lines read so far

    def chunks(self, fh: IO[bytes]) -> Iterator[tuple[list[str], list[str | None]]]:
        parts: list[bytes] = []  # the unfinished line
        pending = 0
        while chunk := fh.read(BLOCK):
            cut = chunk.rfind(b"\n")
            if cut < 0:
                parts.append(chunk)
                pending += len(chunk)
                if pending > self.limit:  # what readline(limit + 1) would now cut: the reference from here on
                    yield from self.lines(io.BufferedReader(_Prefixed(b"".join(parts), fh), buffer_size=BLOCK))
                    return
                continue
            parts.append(chunk[: cut + 1])
            block = b"".join(parts)
            parts = [chunk[cut + 1 :]]
            pending = len(parts[0])
            yield from self.block(block)
        if pending:
            yield from self.block(b"".join(parts))

    def block(self, block: bytes) -> Iterator[tuple[list[str], list[str | None]]]:
        """The documents of ``block``, whole lines (each ends with a newline, or the stream ends)."""
        fast = self._parse(block)
        if fast is None:
            yield from self.lines(io.BytesIO(block))
        else:
            yield fast

    def _parse(self, block: bytes) -> tuple[list[str], list[str | None]] | None:
        """One ``map`` over the lines; None unless each is a short JSON object with a string text."""
        import orjson

        lines = block.split(b"\n")
        if not lines[-1]:
            lines.pop()
        if len(block) > self.limit and max(map(len, lines), default=0) > self.limit:
            return None
        try:
            records = list(map(orjson.loads, lines))
            texts = list(map(operator.itemgetter(self.text_field), records))
        except MemoryError:
            raise
        except Exception:
            return None
        if set(map(type, texts)) != {str} or ("" in texts and not self.keep_empty):
            return None
        self.lineno += len(lines)
        ids = list(map(dict.get, records, itertools.repeat(self.id_field)))
        if ids.count(None) != len(ids) and set(map(type, ids)) != {str}:
            ids = [i if i is None or i.__class__ is str else str(i) for i in ids]
        return texts, ids

    def lines(self, fh: IO[bytes]) -> Iterator[tuple[list[str], list[str | None]]]:
        """The reference: line by line (chunks of one document)."""
        import orjson

        loads = orjson.loads
        limit, label, path, text_field = self.limit, self.label, self.path, self.text_field
        # readline(limit) instead of iterating the file: a line without a newline is never read whole
        for line in iter(functools.partial(fh.readline, limit + 1), b""):
            self.lineno += 1
            lineno = self.lineno
            try:
                record = loads(line)
                text = record[text_field]
            except MemoryError:
                raise
            except Exception:
                if len(line) > limit:
                    _too_long_jsonl_line(line, lineno, label, path, limit)
                found = _jsonl_slow_path(line, lineno, label, path, text_field, self.errors)
                if found is None:
                    continue
                record, text = found
            if text.__class__ is not str:
                if text is None:
                    continue
                raise _type_error(f"{label}:{lineno}", text_field, text)
            if not text and not self.keep_empty:
                continue
            ident = record.get(self.id_field)
            yield [text], [ident if ident is None or ident.__class__ is str else str(ident)]


def _too_long_jsonl_line(line: bytes, lineno: int, label: str, path: str | None, limit: int) -> None:
    nul = line.find(b"\0")
    if nul >= 0:
        raise _binary_error(f"{label}:{lineno}", _offset_in_file(path, lineno, nul))
    raise _long_line_error(f"{label}:{lineno}", _offset_in_file(path, lineno, 0), limit)


def _peek(fh: IO[bytes]) -> bytes:
    peek = getattr(fh, "peek", None)
    if peek is None:
        return b""
    try:
        return bytes(peek(64))[:64]
    except MemoryError:
        raise
    except Exception as exc:
        raise InputError(f"cannot read input: {type(exc).__name__}: {exc}", hint="check the file") from exc


def _read_json_array(
    fh: IO[bytes],
    label: str,
    source: str,
    text_field: str,
    id_field: str,
    errors: str,
    batch_size: int,
    max_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[RawBatch]:
    """A whole-file JSON array (not streamed: the file is parsed at once, if at most ``max_bytes``)."""
    import orjson

    chunks: list[bytes] = []
    size = 0
    while chunk := _read_block(fh, BLOCK, label):
        size += len(chunk)
        if size > max_bytes:
            error = _long_line_error(label, 0, max_bytes, "the JSON array (parsed whole) starting")
            raise InputError(
                error.message,
                hint="convert it to JSON lines (one object per line, e.g. jq -c '.[]'), which is streamed, "
                "or raise --max-line-bytes",
            )
        chunks.append(chunk)
    data = b"".join(chunks).removeprefix(codecs.BOM_UTF8)
    del chunks
    try:
        records = orjson.loads(data if errors == "strict" else data.decode("utf-8", "replace"))
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{label}: malformed JSON ({exc})", hint="check the file is valid JSON") from None
    texts: list[str] = []
    ids: list[str | None] = []
    for n, record in enumerate(records, 1):
        where = f"{label}: record {n}"
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected a JSON object, found a {type(record).__name__}")
        if text_field not in record:
            raise missing_field_error(where, text_field, list(record), record)
        text = record[text_field]
        if text is None or text == "":
            continue
        if not isinstance(text, str):
            raise _type_error(where, text_field, text)
        texts.append(text)
        ident = record.get(id_field)
        ids.append(None if ident is None else str(ident))
        if len(texts) >= batch_size:
            yield RawBatch(texts, ids, source)
            texts, ids = [], []
    if texts:
        yield RawBatch(texts, ids, source)


# ---------------------------------------------------------------------------------------------------
# stdin


class _Prefixed(io.RawIOBase):
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


def open_stdin(stream: IO[bytes]) -> tuple[IO[bytes], bytes]:
    """A buffered, decompressed stdin and its first bytes (for format sniffing)."""
    if stream.isatty():
        raise InputError(
            "'-' reads stdin, but stdin is a terminal",
            hint="pass a file, or pipe the input: cat data.jsonl | tokcli ... -",
        )
    head = _read_block(stream, 1 << 16, "stdin")
    fh: IO[bytes] = io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 20)
    if head[:2] == b"\x1f\x8b":
        import gzip

        fh = gzip.GzipFile(fileobj=fh, mode="rb")  # type: ignore[assignment]
    elif head[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard

        fh = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(fh))
    else:
        return fh, head
    return fh, _peek(fh)


def sniff_format(head: bytes) -> str:
    """``jsonl`` when the first non-blank character is ``{`` or ``[``, else ``text``."""
    return "jsonl" if head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] in (b"{", b"[") else "text"


# ---------------------------------------------------------------------------------------------------
# HF datasets (Parquet, CSV/TSV, save_to_disk folders, hub)


def _offline() -> bool:
    return any(
        os.environ.get(v, "").strip().upper() in ("1", "ON", "YES", "TRUE")
        for v in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE")
    )


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the hub endpoint accepts a TCP connection within ``timeout`` seconds (DNS included)."""
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)  # getaddrinfo itself has no timeout
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def _load_hub(spec: str) -> Any:
    import datasets

    name, config, split = parse_hub_spec(spec)
    shown = f"hf:{spec}"
    if not _offline() and not hub_reachable():
        raise InputError(
            f"{shown}: the Hugging Face hub ({os.environ.get('HF_ENDPOINT', 'https://huggingface.co')}) "
            "cannot be reached",
            hint="check the network, or set HF_DATASETS_OFFLINE=1 to use a cached copy, "
            "or save the dataset to disk and pass its folder",
        )
    try:
        return datasets.load_dataset(name, config, split=split, streaming=True)
    except ConnectionError as exc:
        raise InputError(
            f"{shown}: not available offline and not in the local cache ({exc})",
            hint="run once with network access (HF_DATASETS_OFFLINE unset), or pass a local copy",
        ) from None
    except MemoryError:
        raise
    except Exception as exc:
        raise InputError(f"{shown}: cannot load ({type(exc).__name__}: {_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _csv_header(path: str, sep: str) -> list[str]:
    import csv

    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        row = next(csv.reader(fh, delimiter=sep, quoting=csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL), [])
    return row


def _load_local(kind: str, path: str, text_field: str) -> Any:
    import datasets

    try:
        if kind == "arrow":
            ds = datasets.load_from_disk(path)
            if isinstance(ds, datasets.DatasetDict):
                splits = list(ds)
                if "train" in ds:
                    return ds["train"]
                if len(splits) == 1:
                    return ds[splits[0]]
                raise InputError(
                    f"{path}: saved dataset has several splits ({', '.join(splits)}) and no 'train'",
                    hint=f"pass the split's folder, e.g. {Path(path) / splits[0]}",
                )
            return ds
        if kind == "parquet":
            return datasets.load_dataset("parquet", data_files=[path], split="train", streaming=True)
        sep = "\t" if kind == "tsv" else ","
        header = _csv_header(path, sep)
        if text_field not in header:
            raise missing_field_error(f"{path}:1", text_field, header, None)
        # Every column as a string, empty cells as "" (pandas would turn "NA" or "null" into NaN).
        features = datasets.Features({name: datasets.Value("string") for name in header})
        extra: dict[str, Any] = {"quoting": 3} if kind == "tsv" else {}  # TSV: quotes are ordinary characters
        return datasets.load_dataset(
            "csv",
            data_files=[path],
            split="train",
            streaming=True,
            sep=sep,
            features=features,
            na_filter=False,
            keep_default_na=False,
            **extra,
        )
    except (TokcliError, MemoryError):
        raise
    except Exception as exc:
        raise InputError(f"{path}: cannot read as {kind} ({type(exc).__name__}: {_first_line(exc)})") from None


def read_hf(item: InputFile, text_field: str, id_field: str, batch_size: int, errors: str) -> Iterator[RawBatch]:
    """Arrow batches from HF datasets, text column converted to Python strings in one call per batch."""
    import pyarrow as pa

    label = f"hf:{item.location}" if item.kind == "hf" else item.location
    dataset = _load_hub(item.location) if item.kind == "hf" else _load_local(item.kind, item.location, text_field)
    try:
        batches = dataset.with_format("arrow").iter(batch_size=batch_size)
        for table in batches:
            names = table.column_names
            if text_field not in names:
                raise missing_field_error(label, text_field, names, None)
            column = table.column(text_field)
            if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
                    column = pa.array(
                        [None if b is None else b.decode("utf-8", errors) for b in column.to_pylist()], pa.string()
                    )
                else:
                    raise _type_error(label, text_field, column.type)
            texts = column.to_pylist()
            ids = None
            if id_field in names:
                raw_ids = table.column(id_field).to_pylist()
                ids = [None if v is None else (v if isinstance(v, str) else str(v)) for v in raw_ids]
            if None in texts or "" in texts:
                keep = [i for i, t in enumerate(texts) if t]
                texts = [texts[i] for i in keep]
                ids = None if ids is None else [ids[i] for i in keep]
            if texts:
                yield RawBatch(texts, ids, item.source)
    except (TokcliError, MemoryError):
        raise
    except UnicodeDecodeError as exc:
        raise _utf8_error(label, "?", exc) from None
    except Exception as exc:
        raise InputError(f"{label}: cannot read ({type(exc).__name__}: {_first_line(exc)})") from None
