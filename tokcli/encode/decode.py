"""``tokcli decode``: ids (the ``ids`` or ``jsonl`` output of encode) back to text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Literal

import orjson

from tokcli.errors import InputError
from tokcli.loading.base import LoadedTokenizer


@dataclass(frozen=True)
class DecodedDocument:
    text: str
    id: str | None = None


def _parse_line(line: str, fmt: str, where: str) -> tuple[list[int], str | None]:
    stripped = line.strip()
    if fmt == "jsonl" or (fmt == "auto" and stripped.startswith("{")):
        try:
            record = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"{where}: invalid JSON: {exc}", hint="each line must be a JSON object") from None
        ids = record.get("ids") if isinstance(record, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise InputError(f"{where}: expected an object with an 'ids' list of integers", hint="use encode's jsonl")
        doc_id = record.get("id")
        return ids, None if doc_id is None else str(doc_id)
    try:
        return [int(word) for word in stripped.split()], None
    except ValueError:
        bad = next(w for w in stripped.split() if not w.lstrip("-").isdigit())
        raise InputError(
            f"{where}: {bad[:40]!r} is not a token id", hint="lines must hold space-separated ids"
        ) from None


def decode_lines(
    tokenizer: LoadedTokenizer,
    lines: Iterable[str],
    *,
    input_format: Literal["auto", "ids", "jsonl"] = "auto",
    source: str = "<stdin>",
    batch_size: int = 1000,
) -> Iterator[DecodedDocument]:
    """Decode each line (one document each); errors name ``source`` and the line number."""
    batch: list[list[int]] = []
    doc_ids: list[str | None] = []

    def flush() -> Iterator[DecodedDocument]:
        for text, doc_id in zip(tokenizer.decode_batch(batch), doc_ids, strict=True):
            yield DecodedDocument(text=text, id=doc_id)
        batch.clear()
        doc_ids.clear()

    size = tokenizer.vocab_size
    for lineno, line in _text_lines(lines, source):
        where = f"{source}:{lineno}"
        ids, doc_id = _parse_line(line, input_format, where)
        for token_id in ids:
            if not 0 <= token_id < size:
                raise InputError(
                    f"{where}: id {token_id} is out of range for tokenizer {tokenizer.name} (vocabulary size {size})",
                    hint="decode with the tokenizer that encoded the ids",
                )
        batch.append(ids)
        doc_ids.append(doc_id)
        if len(batch) >= batch_size:
            yield from flush()
    if batch:
        yield from flush()


def _text_lines(lines: Iterable[str], source: str) -> Iterator[tuple[int, str]]:
    """(line number, line); a file that is not UTF-8 text is one error naming it (text is decoded in
    blocks, so the line where reading stopped is not the line of the bad byte: none is named)."""
    lineno = 0
    iterator = iter(lines)
    while True:
        try:
            line = next(iterator)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise InputError(
                f"{source}: not UTF-8 text",
                hint="decode reads encode's ids or jsonl output (text), or its bin/npy files",
            ) from None
        lineno += 1
        yield lineno, line


def decode_binary(
    tokenizer: LoadedTokenizer, path: str, *, batch_size: int = 1000
) -> Iterator[DecodedDocument]:
    """The documents of a ``.bin``/``.npy`` file ``encode`` wrote (checked against its index), decoded."""
    from tokcli.encode.binary import read_binary

    batch: list[list[int]] = []
    size = tokenizer.vocab_size
    for ids in read_binary(path).documents():
        if ids and not 0 <= max(ids) < size:
            raise InputError(
                f"{path}: id {max(ids)} is out of range for tokenizer {tokenizer.name} (vocabulary size {size})",
                hint="decode with the tokenizer that encoded the ids",
            )
        batch.append(ids)
        if len(batch) >= batch_size:
            yield from (DecodedDocument(text=t) for t in tokenizer.decode_batch(batch))
            batch.clear()
    if batch:
        yield from (DecodedDocument(text=t) for t in tokenizer.decode_batch(batch))


def write_decoded(documents: Iterable[DecodedDocument], stream: IO[str], *, fmt: Literal["text", "jsonl"]) -> int:
    """Write decoded documents as text lines or ``{"id","text"}`` JSON lines; returns the count."""
    count = 0
    for doc in documents:
        if fmt == "jsonl":
            record = {"text": doc.text} if doc.id is None else {"id": doc.id, "text": doc.text}
            stream.write(orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode())
        else:
            stream.write(doc.text)
        stream.write("\n")
        count += 1
    return count
