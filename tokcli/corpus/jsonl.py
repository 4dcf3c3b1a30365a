"""JSON lines (also a ``.json`` file holding one array of objects), parsed with ``orjson``.

Line numbers and byte offsets in every error; blocks of whole lines are parsed with one ``map`` when
they are clean (:class:`JsonlReader`). Why not HF's ``"json"`` builder: see :mod:`tokcli.corpus.formats`.
"""

from __future__ import annotations

import codecs
import functools
import io
import itertools
import operator
import re
from collections.abc import Iterator
from typing import IO, Any

from tokcli.corpus import streams
from tokcli.corpus.batch import InputFile, RawBatch
from tokcli.corpus.input_errors import binary_error, field_type_error, long_line_error, missing_field_error, utf8_error
from tokcli.corpus.options import DEFAULT_MAX_LINE_BYTES, ReadOptions
from tokcli.corpus.streams import Prefixed, open_input, peek, read_block
from tokcli.errors import InputError, TokcliError
from tokcli.files import open_binary


def read(item: InputFile, options: ReadOptions) -> Iterator[RawBatch]:
    """The format reader for JSON lines (one signature with the others, see :mod:`tokcli.corpus.formats`)."""
    with open_input(item) as fh:
        yield from read_jsonl(
            fh,
            item.label,
            item.path,
            item.source,
            options.text_field,
            options.id_field,
            options.errors,
            options.batch_size,
            options.keep_empty,
            max_line_bytes=options.max_line_bytes,
        )


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
    head = peek(fh)
    if (nul := head.find(b"\0")) >= 0:  # never valid JSON: fail before reading a first line of NULs
        raise binary_error(f"{label}:1", nul)
    if head.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] == b"[":
        yield from _read_json_array(fh, label, source, text_field, id_field, errors, batch_size, max_line_bytes)
        return
    reader = JsonlReader(label, path, text_field, id_field, errors, keep_empty, max_line_bytes)
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


class JsonlReader:
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
        while chunk := fh.read(streams.BLOCK):
            cut = chunk.rfind(b"\n")
            if cut < 0:
                parts.append(chunk)
                pending += len(chunk)
                if pending > self.limit:  # what readline(limit + 1) would now cut: the reference from here on
                    yield from self.lines(io.BufferedReader(Prefixed(b"".join(parts), fh), buffer_size=streams.BLOCK))
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
                raise field_type_error(f"{label}:{lineno}", text_field, text)
            if not text and not self.keep_empty:
                continue
            ident = record.get(self.id_field)
            yield [text], [ident if ident is None or ident.__class__ is str else str(ident)]


def _too_long_jsonl_line(line: bytes, lineno: int, label: str, path: str | None, limit: int) -> None:
    nul = line.find(b"\0")
    if nul >= 0:
        raise binary_error(f"{label}:{lineno}", _offset_in_file(path, lineno, nul))
    raise long_line_error(f"{label}:{lineno}", _offset_in_file(path, lineno, 0), limit)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _with_lone_surrogates(decoded: str, errors: str) -> Any:
    """With ``--errors replace``: a record whose strings hold lone surrogate escapes (``"\\ud83d"``, valid
    JSON syntax that orjson refuses), each surrogate read as U+FFFD, as tiktoken encodes such a string.
    None when that is not the problem or errors are strict."""
    import json

    if errors == "strict":
        return None
    try:
        record = json.loads(decoded)
    except ValueError:
        return None
    return _replace_surrogates(record)


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_replace_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    return value


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
        raise binary_error(where, _offset_in_file(path, lineno, nul))
    try:
        decoded = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        if errors == "strict":
            raise utf8_error(where, _offset_in_file(path, lineno, exc.start), exc) from None
        decoded = line.decode("utf-8", "replace")
    if lineno == 1:
        decoded = decoded.removeprefix("\ufeff")
    try:
        record = orjson.loads(decoded)
    except orjson.JSONDecodeError as exc:
        record = _with_lone_surrogates(decoded, errors)
        if record is None:
            hint = "fix or remove that line; JSON lines files hold one JSON object per line"
            if "surrogate" in str(exc):
                hint = (
                    "a lone surrogate escape (e.g. \\ud83d, which Python's json.dumps writes): "
                    "--errors replace reads it as U+FFFD"
                )
            raise InputError(f"{where}: malformed JSON ({exc})", hint=hint) from None
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
    records = _parse_json_array(fh, label, errors, max_bytes)
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
            raise field_type_error(where, text_field, text)
        texts.append(text)
        ident = record.get(id_field)
        ids.append(None if ident is None else str(ident))
        if len(texts) >= batch_size:
            yield RawBatch(texts, ids, source)
            texts, ids = [], []
    if texts:
        yield RawBatch(texts, ids, source)


def _parse_json_array(fh: IO[bytes], label: str, errors: str, max_bytes: int) -> Any:
    """The parsed JSON of the whole file, refused once more than ``max_bytes`` were read."""
    import orjson

    chunks: list[bytes] = []
    size = 0
    while chunk := read_block(fh, streams.BLOCK, label):
        size += len(chunk)
        if size > max_bytes:
            error = long_line_error(label, 0, max_bytes, "the JSON array (parsed whole) starting")
            raise InputError(
                error.message,
                hint="convert it to JSON lines (one object per line, e.g. jq -c '.[]'), which is streamed, "
                "or raise --max-line-bytes",
            )
        chunks.append(chunk)
    data = b"".join(chunks).removeprefix(codecs.BOM_UTF8)
    del chunks
    try:
        return orjson.loads(data if errors == "strict" else data.decode("utf-8", "replace"))
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{label}: malformed JSON ({exc})", hint="check the file is valid JSON") from None
