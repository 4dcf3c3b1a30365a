"""Stream documents through a tokenizer into one of the output writers.

Documents are cut into batches of at most ``batch_size`` documents and ``batch_bytes`` characters, so
memory stays bounded whatever the input size (one huge ``encode_batch`` call on 50 MB of text peaks at
several GiB in ``tokenizers``). One worker thread encodes batch *k* (the libraries release the GIL and
use their own threads) while the caller's thread reads batch *k+1* and writes batch *k-1*.

``count``, ``bin`` and ``npy`` take the ids as arrays when the engine gives them
(:meth:`LoadedTokenizer.encode_batch_array`, tiktoken) and no special tokens are added: no Python list
of ids is made, and the output is byte for byte that of the list path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from tokcli.corpus import Corpus, Document
from tokcli.encode.options import BINARY_FORMATS, EncodeConfig, resolve_format
from tokcli.encode.writers import (
    BinaryWriter,
    CountWriter,
    IdsWriter,
    JsonlWriter,
    TextWriter,
    TokensWriter,
    choose_dtype,
)
from tokcli.errors import ConfigError, OutputError, UsageError
from tokcli.files import atomic_write
from tokcli.loading.base import LoadedTokenizer, default_threads

if TYPE_CHECKING:
    from tokcli.loading.base import IdArrays

    # a batch's ids: lists, or (all ids in order, count per document) from encode_batch_array
    Encoded = list[list[int]] | IdArrays

# formats that need only the counts or a flat array of ids (no per-document list)
ARRAY_FORMATS = ("count", "npy", "bin")


@dataclass(frozen=True)
class EncodeProgress:
    """Totals so far, passed to the progress callback after every batch."""

    docs: int
    tokens: int
    chars: int


@dataclass(frozen=True)
class EncodeResult:
    """What an encode run did; the CLI prints ``tokens`` (the total count) on stderr."""

    docs: int
    tokens: int
    chars: int
    format: str
    output: Path | None  # None: written to the given stream
    index: Path | None  # npy/bin only
    dtype: str | None  # npy/bin only
    eos_id: int | None
    tokenizer: str
    engine: str


def resolve_eos(tokenizer: LoadedTokenizer, eos: str | None) -> int | None:
    """The id of ``eos``: an integer is an id; anything else a token as written in the vocabulary."""
    if eos is None or eos == "":
        return None
    token_id = int(eos) if eos.isdigit() else tokenizer.token_to_id(eos)
    if token_id is None or not tokenizer.check_id(token_id):
        known = ", ".join(sorted(tokenizer.special_tokens)[:5]) or "none"
        raise ConfigError(
            f"encode.eos {eos!r} is not a token or id of tokenizer {tokenizer.name}",
            hint=f"give a token or an id below {tokenizer.vocab_size} (special tokens: {known})",
        )
    return token_id


def batches(
    documents: Iterable[Document | str], batch_size: int, batch_chars: int
) -> Iterator[tuple[list[str], list[str | None], int]]:
    """(texts, document ids, characters) per batch."""
    texts: list[str] = []
    ids: list[str | None] = []
    chars = 0
    for doc in documents:
        if isinstance(doc, str):
            text, doc_id = doc, None
        else:
            text, doc_id = doc.text, doc.id
        texts.append(text)
        ids.append(doc_id)
        chars += len(text)
        if len(texts) >= batch_size or chars >= batch_chars:
            yield texts, ids, chars
            texts, ids, chars = [], [], 0
    if texts:
        yield texts, ids, chars


def corpus_documents(corpus: Corpus, config: EncodeConfig) -> Iterator[Document | str]:
    """What to feed :func:`encode_documents` from a corpus: whole documents only when their ids are
    written (``jsonl``), else the reader's cheaper text batches (no per-document object)."""
    if config.format == "jsonl":
        return iter(corpus.documents())
    return itertools.chain.from_iterable(corpus.text_batches(config.batch_size))


def _special_file(output: str | None) -> bool:
    path = Path(str(output))
    return path.exists() and not path.is_file()


def check_output_config(tokenizer: LoadedTokenizer, config: EncodeConfig) -> None:
    """Reject batch sizes, thread counts, outputs and dtypes ``config`` cannot encode with, before any
    input is read (``config.format`` is resolved: not ``auto``)."""
    if config.batch_size < 1 or config.batch_bytes < 1:
        raise ConfigError("encode.batch_size and encode.batch_bytes must be at least 1", hint="e.g. --batch-size 1000")
    if config.threads < 0:
        raise ConfigError("encode.threads must be 0 (all CPUs) or more", hint="e.g. --threads 4")
    if config.format in BINARY_FORMATS and (config.output in (None, "", "-") or _special_file(config.output)):
        raise UsageError(
            f"--format {config.format} writes a binary file and its index", hint="give a file path with -o/--output"
        )
    if config.dtype == "uint16" and tokenizer.vocab_size > 1 << 16:
        raise ConfigError(
            f"encode.dtype uint16 cannot hold the ids of {tokenizer.name} (vocabulary size {tokenizer.vocab_size})",
            hint="use --dtype uint32 or auto",
        )


def binary_dtype(config: EncodeConfig, tokenizer: LoadedTokenizer, eos_id: int | None) -> str:
    """The dtype of binary ids (``encode.dtype``; ``auto``: the smallest that holds every id and the eos id)."""
    dtype = choose_dtype(config.dtype, tokenizer.vocab_size, eos_id)
    if dtype == "uint16" and eos_id is not None and eos_id >= 1 << 16:
        raise ConfigError(f"encode.eos id {eos_id} does not fit uint16", hint="use --dtype uint32")
    return dtype


def open_text_output(path: Path, *, if_changed: bool = False) -> contextlib.AbstractContextManager[IO[str]]:
    """A regular file is replaced atomically; a device or FIFO (``/dev/stdout``, a pipe) is written in place.

    (Replacing ``/dev/null`` with a temporary file would destroy the device node.)
    """
    if path.exists() and not path.is_file():
        try:
            return open(path, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror}", hint="check the path") from exc
    return atomic_write(path, "w", if_changed=if_changed)


def _text_writer(config: EncodeConfig, tokenizer: LoadedTokenizer, stream: IO[str]) -> TextWriter:
    if config.format == "tokens":
        return TokensWriter(stream, tokenizer.token_bytes_table)
    if config.format == "jsonl":
        return JsonlWriter(stream)
    if config.format == "count":
        return CountWriter(stream)
    return IdsWriter(stream)


def encode_documents(
    tokenizer: LoadedTokenizer,
    documents: Iterable[Document | str],
    config: EncodeConfig,
    *,
    stdout: IO[str] | None = None,
    progress: Callable[[EncodeProgress], None] | None = None,
    if_changed: bool = False,
) -> EncodeResult:
    """Encode ``documents`` and write them as ``config.format`` to ``config.output`` (or ``stdout``).

    ``format="auto"`` means ``ids`` here; the CLI turns it into ``tokens`` when stdout is a terminal.
    """
    if config.format == "auto":
        config = dataclasses.replace(
            config, format=resolve_format(config.format, to_terminal=False, output=config.output)
        )
    check_output_config(tokenizer, config)
    threads = config.threads or default_threads()
    eos_id = resolve_eos(tokenizer, config.eos)
    output = None if config.output in (None, "", "-") else Path(str(config.output))
    totals = _Totals(progress)
    with contextlib.ExitStack() as stack:
        sink = _open_sink(stack, config, tokenizer, output, eos_id, stdout=stdout, if_changed=if_changed)
        encode = _batch_encoder(tokenizer, config, threads)
        _encode_overlapped(batches(documents, config.batch_size, config.batch_bytes), encode, sink.write, totals)
    return EncodeResult(
        docs=totals.docs,
        tokens=totals.tokens,
        chars=totals.chars,
        format=config.format,
        output=output,
        index=sink.index,
        dtype=sink.dtype,
        eos_id=eos_id,
        tokenizer=tokenizer.name,
        engine=tokenizer.info.engine,
    )


@dataclass(frozen=True)
class _Sink:
    """Where encoded batches go: ``write(ids, doc_ids)``; the dtype and index file of binary formats."""

    write: Callable[[Encoded, list[str | None]], None]
    dtype: str | None = None
    index: Path | None = None


def _open_sink(
    stack: contextlib.ExitStack,
    config: EncodeConfig,
    tokenizer: LoadedTokenizer,
    output: Path | None,
    eos_id: int | None,
    *,
    stdout: IO[str] | None,
    if_changed: bool,
) -> _Sink:
    """The writer of ``config.format``, entered into ``stack`` (closed, and committed, when it exits)."""
    if config.format in BINARY_FORMATS:
        assert output is not None
        dtype = binary_dtype(config, tokenizer, eos_id)
        binary = stack.enter_context(
            BinaryWriter(
                output,
                kind=config.format,
                dtype=dtype,
                eos_id=eos_id,
                tokenizer={"name": tokenizer.name, "sha256": tokenizer.info.sha256},
                if_changed=if_changed,
            )
        )

        def write_binary(ids: Encoded, doc_ids: list[str | None]) -> None:
            if isinstance(ids, tuple):
                binary.write_arrays(*ids)
            else:
                binary.write(ids)

        return _Sink(write_binary, dtype=dtype, index=binary.index_path)

    stream = stack.enter_context(open_text_output(output, if_changed=if_changed)) if output else (stdout or sys.stdout)
    text_writer = _text_writer(config, tokenizer, stream)

    def write_text(ids: Encoded, doc_ids: list[str | None]) -> None:
        if isinstance(ids, tuple):
            assert isinstance(text_writer, CountWriter)
            text_writer.write_counts(ids[1])
        else:
            text_writer.write(ids, doc_ids)

    return _Sink(write_text)


def _batch_encoder(tokenizer: LoadedTokenizer, config: EncodeConfig, threads: int) -> Callable[[list[str]], Encoded]:
    """Encode one batch: as id arrays where the format allows it and the engine gives them, else lists."""
    use_arrays = config.format in ARRAY_FORMATS and not config.add_special_tokens

    def encode(texts: list[str]) -> Encoded:
        if use_arrays:
            arrays = tokenizer.encode_batch_array(texts, threads=threads)
            if arrays is not None:
                return arrays
        return tokenizer.encode_batch(texts, add_special_tokens=config.add_special_tokens, threads=threads)

    return encode


class _Totals:
    """Documents, tokens and characters written so far, reported to ``progress`` after every batch."""

    def __init__(self, progress: Callable[[EncodeProgress], None] | None) -> None:
        self.docs = self.tokens = self.chars = 0
        self.progress = progress

    def add(self, ids: Encoded, batch_chars: int) -> None:
        if isinstance(ids, tuple):
            self.docs += len(ids[1])
            self.tokens += int(ids[1].sum())
        else:
            self.docs += len(ids)
            self.tokens += sum(map(len, ids))
        self.chars += batch_chars
        if self.progress is not None:
            self.progress(EncodeProgress(docs=self.docs, tokens=self.tokens, chars=self.chars))


def _encode_overlapped(
    batches: Iterable[tuple[list[str], list[str | None], int]],
    encode: Callable[[list[str]], Encoded],
    write: Callable[[Encoded, list[str | None]], None],
    totals: _Totals,
) -> None:
    """One worker thread encodes batch *k* while this thread reads batch *k+1* and writes batch *k-1*."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokcli-encode") as pool:
        pending: tuple[Future[Encoded], list[str | None], int] | None = None
        for texts, doc_ids, batch_chars in batches:
            future = pool.submit(encode, texts)
            if pending is not None:
                _write_done(pending, write, totals)
            pending = (future, doc_ids, batch_chars)
        if pending is not None:
            _write_done(pending, write, totals)


def _write_done(
    job: tuple[Future[Encoded], list[str | None], int],
    write: Callable[[Encoded, list[str | None]], None],
    totals: _Totals,
) -> None:
    """Wait for a batch's ids, write them and count them."""
    future, doc_ids, batch_chars = job
    ids = future.result()
    write(ids, doc_ids)
    totals.add(ids, batch_chars)
