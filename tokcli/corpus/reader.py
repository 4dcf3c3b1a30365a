"""Streaming corpus reader shared by every command.

Inputs are files, folders (recursively, supported files in sorted order), globs, ``-`` (stdin) and
``hf:NAME[:CONFIG][@SPLIT]`` hub names; formats are plain text, JSON lines (optionally .gz/.zst),
Parquet, CSV/TSV and ``save_to_disk`` folders. Every document carries its text, source name and id.
Which backend reads which format (HF ``datasets`` streaming in Arrow batches, or a measured direct fast
path for local text/JSONL) is explained in :mod:`tokcli.corpus.formats`.

The stream is built in this order, so each option has one meaning whatever else is set:

1. each *source* (the plain inputs together, or each ``mix`` source) is read in order;
2. ``num_shards``/``shard_index``: document number *p* of the source (counted over all its files)
   belongs to shard ``p % num_shards`` -- the shards partition the source exactly (the same rule as
   ``datasets.distributed.split_dataset_by_node`` when files do not divide evenly);
3. ``sample``: a document is kept iff ``blake2b(seed, file key, index in file)`` read as a number in
   [0, 1) is below the fraction (stable across runs and machines, independent of other options);
4. mixing (``mix``): ``mix_by="bytes"`` always draws next from the source with the largest byte
   deficit ``weight * total_bytes - source_bytes``, so the realised byte shares stay within one
   document of the weights; ``mix_by="docs"`` draws a source at random with the weights as
   probabilities (seeded; like ``datasets.interleave_datasets``). When the drawn source runs out the
   mixture STOPS (``stats.stop_reason == "source_exhausted"``) instead of continuing with the others,
   which would silently distort the declared shares;
5. ``shuffle_buffer``: buffer shuffle (seeded);
6. ``skip``: drop the first N documents of the stream built so far, so ``--max-docs N`` and
   ``--skip N`` with the same other options give disjoint train / held-out sets;
7. ``max_docs`` / ``max_bytes``: stop before the document that would exceed either limit.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

from tokcli.corpus.formats import DEFAULT_MAX_LINE_BYTES, InputFile, RawBatch, iter_inputs
from tokcli.errors import ConfigError, InputError, UsageError

InputFormat = Literal["auto", "text", "jsonl", "parquet", "csv", "tsv", "arrow"]
StopReason = Literal["", "end", "max_docs", "max_bytes", "source_exhausted"]


@dataclass(frozen=True)
class MixSource:
    """One source of a declared mixture: ``NAME=WEIGHT:PATH`` on the command line."""

    name: str
    weight: float
    paths: tuple[str, ...] = field(metadata={"path": True})

    def __post_init__(self) -> None:
        fix = "write it as NAME=WEIGHT:PATH, e.g. --mix web=0.7:data/web.jsonl"
        if not self.name:
            raise ConfigError("mixture source without a name", hint=fix)
        if not self.weight > 0:
            raise ConfigError(f"weight must be positive in mixture source {self.name!r}", hint=fix)
        if not self.paths:
            raise ConfigError(f"mixture source {self.name!r} has no paths", hint=fix)

    @classmethod
    def from_string(cls, spec: str) -> MixSource:
        """Parse ``NAME=WEIGHT:PATH[,PATH...]``."""
        name, sep, rest = spec.partition("=")
        weight_text, sep2, path_text = rest.partition(":")
        fix = "write it as NAME=WEIGHT:PATH, e.g. --mix web=0.7:data/web.jsonl"
        if not sep or not sep2 or not name or not path_text:
            raise ConfigError(f"bad mixture source {spec!r}", hint=fix)
        try:
            weight = float(weight_text)
        except ValueError:
            raise ConfigError(f"bad weight {weight_text!r} in mixture source {spec!r}", hint=fix) from None
        if not weight > 0:
            raise ConfigError(f"weight must be positive in mixture source {spec!r}", hint=fix)
        return cls(name=name, weight=weight, paths=tuple(p for p in path_text.split(",") if p))


@dataclass(frozen=True)
class CorpusConfig:
    """Options of the corpus reader (YAML section ``corpus``; flags shared by all commands)."""

    inputs: tuple[str, ...] = field(
        default=(), metadata={"help": "files, folders, globs, '-' or hf:NAME", "path": True}
    )
    format: InputFormat = field(default="auto", metadata={"help": "input format (auto: from extension)"})
    text_field: str = field(default="text", metadata={"help": "field holding the text in records"})
    id_field: str = field(default="id", metadata={"help": "field passed through as the document id"})
    doc_sep: Literal["line", "blank", "file"] = field(
        default="line", metadata={"help": "plain text: one document per line, per blank-line paragraph, per file"}
    )
    max_docs: int | None = field(default=None, metadata={"help": "stop after N documents"})
    max_bytes: int | None = field(
        default=None, metadata={"help": "stop after N bytes of UTF-8 text (e.g. 50MB)", "unit": "bytes"}
    )
    skip: int = field(default=0, metadata={"help": "skip the first N documents"})
    sample: float | None = field(
        default=None, metadata={"help": "keep each document with this probability (deterministic with --seed)"}
    )
    shuffle_buffer: int = field(default=0, metadata={"help": "shuffle within a buffer of N documents (0: off)"})
    seed: int = field(default=0, metadata={"help": "seed for sampling, shuffling and mixtures"})
    num_shards: int = field(default=1, metadata={"help": "split the input into N shards"})
    shard_index: int = field(default=0, metadata={"help": "read only shard I (0-based)"})
    mix: tuple[MixSource, ...] = field(default=(), metadata={"help": "mixture source NAME=WEIGHT:PATH (repeatable)"})
    mix_by: Literal["bytes", "docs"] = field(
        default="bytes", metadata={"help": "mixture weights are shares of bytes or of documents"}
    )
    errors: Literal["strict", "replace"] = field(
        default="strict", metadata={"help": "invalid UTF-8: stop with an error, or replace with U+FFFD"}
    )
    keep_empty: bool = field(
        default=False, metadata={"help": "keep empty lines and texts as empty documents (keeps line alignment)"}
    )
    max_line_bytes: int = field(
        default=DEFAULT_MAX_LINE_BYTES,
        metadata={
            "help": "longest line, paragraph, record or file document read into memory; a longer one is an "
            "error naming its byte offset (default 256MiB)",
            "unit": "bytes",
        },
    )

    def __post_init__(self) -> None:
        def bad(key: str, message: str) -> ConfigError:
            flag = "--" + key.replace("_", "-")
            return ConfigError(f"corpus.{key} ({flag}) {message}")

        for key in ("max_docs", "max_bytes"):
            value = getattr(self, key)
            if value is not None and value < 0:
                raise bad(key, f"must be 0 or more, not {value}")
        if self.max_line_bytes < 1:
            raise bad("max_line_bytes", f"must be at least 1 byte, not {self.max_line_bytes}")
        for key in ("skip", "shuffle_buffer"):
            if getattr(self, key) < 0:
                raise bad(key, f"must be 0 or more, not {getattr(self, key)}")
        if self.sample is not None and not 0 < self.sample <= 1:
            raise bad("sample", f"must be a fraction in (0, 1], not {self.sample}")
        if self.num_shards < 1:
            raise bad("num_shards", f"must be 1 or more, not {self.num_shards}")
        if not 0 <= self.shard_index < self.num_shards:
            last = self.num_shards - 1
            raise bad("shard_index", f"must be between 0 and num_shards-1 = {last}, not {self.shard_index}")
        names = [m.name for m in self.mix]
        if len(set(names)) != len(names):
            raise bad("mix", f"source names must be unique, got {', '.join(names)}")


@dataclass(frozen=True)
class Document:
    """One document: its text, the name of the source it came from, and its id if the input has one."""

    text: str
    source: str
    id: str | None = None


@dataclass
class CorpusStats:
    """Running totals, updated while the corpus streams (read them after iteration ends).

    ``stop_reason`` says why the stream ended: ``end`` (inputs exhausted), ``max_docs``, ``max_bytes``
    or ``source_exhausted`` (a mixture source ran out; ``exhausted_source`` names it).
    """

    docs: int = 0
    bytes: int = 0
    docs_by_source: dict[str, int] = field(default_factory=dict)
    bytes_by_source: dict[str, int] = field(default_factory=dict)
    stop_reason: StopReason = ""
    exhausted_source: str | None = None


ProgressCallback = Callable[[CorpusStats], None]


class Corpus:
    """A configured, not yet started, stream of documents.

    Each call of :meth:`documents` or :meth:`text_batches` starts the stream again (stdin can be read
    only once) and resets :attr:`stats`. ``progress`` is called with the stats after every batch.
    """

    def __init__(
        self,
        config: CorpusConfig,
        *,
        stdin: BinaryIO | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.config = config
        self.stats = CorpusStats()
        self._stdin = stdin
        self._stdin_used = False
        self._progress = progress

    # -- public iteration ---------------------------------------------------------------------------

    def documents(self) -> Iterator[Document]:
        """Documents one by one (stats count exactly the documents taken, even after an early break)."""
        for batch in self._batches(1000):
            taken = 0
            ids: Iterable[str | None] = batch.ids if batch.ids is not None else itertools.repeat(None)
            sources: Iterable[str] = (
                itertools.repeat(batch.sources) if isinstance(batch.sources, str) else batch.sources
            )
            try:
                for text, ident, source in zip(batch.texts, ids, sources, strict=False):
                    taken += 1  # before the yield: a consumer that stops now has taken this document
                    yield Document(text, source, ident)
            finally:
                self._account(batch if taken == len(batch) else batch.take(slice(0, taken)), taken)

    def text_batches(self, batch_size: int = 1000) -> Iterator[list[str]]:
        """Lists of exactly ``batch_size`` texts (the last may be shorter): the fast path for training.

        Stats are updated as each internal batch is handed out, so after an early ``break`` they may
        include up to one batch the caller did not take.
        """
        if batch_size < 1:
            raise UsageError(f"batch size must be 1 or more, not {batch_size}")
        pending: list[str] = []
        for batch in self._batches(batch_size):
            self._account(batch, len(batch))
            texts = batch.texts
            if not pending and len(texts) == batch_size:
                yield texts
                continue
            pending.extend(texts)
            while len(pending) >= batch_size:
                yield pending[:batch_size]
                del pending[:batch_size]
        if pending:
            yield pending

    # -- stats --------------------------------------------------------------------------------------

    def _account(self, batch: RawBatch, n: int) -> None:
        stats = self.stats
        if n == 0:
            return
        if isinstance(batch.sources, str):
            size = batch.total()
            stats.docs_by_source[batch.sources] = stats.docs_by_source.get(batch.sources, 0) + n
            stats.bytes_by_source[batch.sources] = stats.bytes_by_source.get(batch.sources, 0) + size
        else:
            sizes = batch.sizes()
            size = 0
            for source, nbytes in zip(batch.sources, sizes, strict=True):
                stats.docs_by_source[source] = stats.docs_by_source.get(source, 0) + 1
                stats.bytes_by_source[source] = stats.bytes_by_source.get(source, 0) + nbytes
                size += nbytes
        stats.docs += n
        stats.bytes += size
        if self._progress is not None:
            self._progress(stats)

    # -- pipeline -----------------------------------------------------------------------------------

    def _batches(self, batch_size: int) -> Iterator[RawBatch]:
        cfg = self.config
        self.stats = CorpusStats()
        if cfg.mix and cfg.inputs:
            raise UsageError(
                "both inputs and a mixture (--mix) were given",
                hint="pass the data either as inputs or as --mix sources",
            )
        if not cfg.mix and not cfg.inputs:
            raise UsageError("no input given", hint="pass files, folders, globs, '-' (stdin) or hf:NAME")
        seen = [0]  # documents read from the inputs, before any selection (for the empty-input check)
        if cfg.mix:
            _check_stdin_once([p for m in cfg.mix for p in m.paths])
            resolved = [iter_inputs(m.paths, cfg.format) for m in cfg.mix]  # folders expand while read
            streams = [
                self._source_stream(files, batch_size, seen, source=m.name)
                for m, files in zip(cfg.mix, resolved, strict=True)
            ]
            mixer = _mix_bytes if cfg.mix_by == "bytes" else _mix_docs
            stream = mixer(streams, cfg.mix, batch_size, cfg.seed, self.stats)
        else:
            _check_stdin_once(list(cfg.inputs))
            files = iter_inputs(cfg.inputs, cfg.format)  # folders expand while they are read
            stream = self._source_stream(files, batch_size, seen, source=None)
        if cfg.shuffle_buffer > 1:
            stream = _shuffle(stream, cfg.shuffle_buffer, cfg.seed, batch_size)
        if cfg.skip:
            stream = _skip(stream, cfg.skip)
        yield from _limit(stream, cfg.max_docs, cfg.max_bytes, self.stats)
        if not self.stats.stop_reason:
            self.stats.stop_reason = "end"
        if seen[0] == 0 and self.stats.stop_reason in ("end", "source_exhausted"):
            shown = ", ".join(cfg.inputs) if cfg.inputs else ", ".join(p for m in cfg.mix for p in m.paths)
            raise InputError(
                f"no documents in {shown}",
                hint="the input is empty (blank lines and empty texts are skipped); check the path and --text-field",
            )

    def _source_stream(
        self, files: Iterable[InputFile], batch_size: int, seen: list[int], source: str | None
    ) -> Iterator[RawBatch]:
        """One source: its files in order, then sharding and sampling by document position."""
        cfg = self.config
        position = 0  # document number within the source, for sharding
        threshold = None if cfg.sample is None or cfg.sample >= 1 else int(cfg.sample * 2**64)
        for item in files:
            index_in_file = 0
            prefix = hashlib.blake2b(f"{cfg.seed}\0{item.key}\0".encode(), digest_size=8)
            for batch in self._read(item, batch_size):
                n = len(batch)
                seen[0] += n
                if source is not None:
                    batch.sources = source
                picked: slice | list[int] = slice(None)
                if cfg.num_shards > 1:
                    picked = slice((cfg.shard_index - position) % cfg.num_shards, None, cfg.num_shards)
                if threshold is not None:
                    candidates = range(n)[picked] if isinstance(picked, slice) else picked
                    picked = [i for i in candidates if _hash_below(prefix, index_in_file + i, threshold)]
                position += n
                index_in_file += n
                out = batch.take(picked)
                if len(out):
                    yield out

    def _read(self, item: InputFile, batch_size: int) -> Iterator[RawBatch]:
        from tokcli.corpus import formats
        from tokcli.files import open_binary

        cfg = self.config
        if item.kind in ("parquet", "csv", "tsv", "arrow", "hf"):
            yield from formats.read_hf(item, cfg.text_field, cfg.id_field, batch_size, cfg.errors)
            return
        if item.kind == "stdin":
            if self._stdin_used:
                raise InputError("stdin was already read", hint="save the input to a file to read it more than once")
            self._stdin_used = True
            stream = self._stdin if self._stdin is not None else getattr(sys.stdin, "buffer", None)
            if stream is None:
                raise InputError("'-' reads stdin, but there is no stdin", hint="pass a file instead")
            fh, head = formats.open_stdin(stream)
            kind = cfg.format if cfg.format != "auto" else formats.sniff_format(head)
            path, label = None, "stdin"
        else:
            fh = open_binary(item.location)
            kind, path, label = item.kind, item.location, item.location
        with fh:
            if kind == "jsonl":
                yield from formats.read_jsonl(
                    fh,
                    label,
                    path,
                    item.source,
                    cfg.text_field,
                    cfg.id_field,
                    cfg.errors,
                    batch_size,
                    cfg.keep_empty,
                    max_line_bytes=cfg.max_line_bytes,
                )
            elif kind == "text":
                yield from formats.read_text(
                    fh, label, item.source, cfg.doc_sep, cfg.errors, cfg.keep_empty, max_line_bytes=cfg.max_line_bytes
                )
            else:
                raise UsageError(
                    f"{label}: --input-format {kind} cannot be read from stdin",
                    hint="use text or jsonl on stdin, or pass the file",
                )


def _check_stdin_once(inputs: list[str]) -> None:
    if inputs.count("-") > 1:
        raise UsageError("'-' (stdin) is given more than once", hint="stdin can be read only once")


def _hash_below(prefix: Any, index: int, threshold: int) -> bool:
    h = prefix.copy()
    h.update(index.to_bytes(8, "little"))
    return int.from_bytes(h.digest(), "little") < threshold


class _Cursor:
    """Document-by-document access to a stream of batches (for mixing and shuffling)."""

    __slots__ = ("_batch", "_i", "_sizes", "_stream", "count")

    def __init__(self, stream: Iterator[RawBatch]) -> None:
        self._stream = stream
        self._batch: RawBatch | None = None
        self._sizes: list[int] = []
        self._i = 0
        self.count = 0

    def next(self) -> tuple[str, str | None, str, int] | None:
        """(text, id, source, utf-8 size) of the next document, or None at the end."""
        while self._batch is None or self._i >= len(self._batch):
            batch = next(self._stream, None)
            if batch is None:
                return None
            self._batch, self._sizes, self._i = batch, batch.sizes(), 0
        b, i = self._batch, self._i
        self._i += 1
        self.count += 1
        return b.texts[i], None if b.ids is None else b.ids[i], b.source_at(i), self._sizes[i]


class _Collector:
    """Gathers single documents into RawBatches of ``batch_size``."""

    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self._reset()

    def _reset(self) -> None:
        self.texts: list[str] = []
        self.ids: list[str | None] = []
        self.sources: list[str] = []
        self.sizes: list[int] = []

    def add(self, doc: tuple[str, str | None, str, int]) -> RawBatch | None:
        self.texts.append(doc[0])
        self.ids.append(doc[1])
        self.sources.append(doc[2])
        self.sizes.append(doc[3])
        return self.flush() if len(self.texts) >= self.batch_size else None

    def flush(self) -> RawBatch | None:
        if not self.texts:
            return None
        batch = RawBatch(self.texts, self.ids, self.sources, sizes=self.sizes)
        self._reset()
        return batch


def _mix(
    streams: list[Iterator[RawBatch]],
    mix: tuple[MixSource, ...],
    batch_size: int,
    stats: CorpusStats,
    choose: Callable[[list[int]], int],
) -> Iterator[RawBatch]:
    """Interleave the sources, ``choose(bytes_so_far_per_source)`` picking the next one; stop (and
    record it in ``stats``) when the chosen source runs out."""
    cursors = [_Cursor(s) for s in streams]
    got = [0] * len(cursors)
    out = _Collector(batch_size)
    while True:
        i = choose(got)
        doc = cursors[i].next()
        if doc is None:
            if cursors[i].count == 0:
                raise InputError(
                    f"mixture source {mix[i].name!r} has no documents (after sharding/sampling) in "
                    f"{', '.join(mix[i].paths)}",
                    hint="check its paths and --text-field",
                )
            stats.stop_reason, stats.exhausted_source = "source_exhausted", mix[i].name
            break
        got[i] += doc[3]
        if (batch := out.add(doc)) is not None:
            yield batch
    if (batch := out.flush()) is not None:
        yield batch


def _mix_bytes(
    streams: list[Iterator[RawBatch]], mix: tuple[MixSource, ...], batch_size: int, seed: int, stats: CorpusStats
) -> Iterator[RawBatch]:
    """Largest-deficit interleaving: draw next from the source with the largest ``share * total - got``
    (a deterministic water-filling schedule, ties to the larger weight), so every source's realised
    byte share stays within about one document of its weight."""
    total_weight = sum(m.weight for m in mix)
    shares = [m.weight / total_weight for m in mix]
    order = range(len(mix))

    def choose(got: list[int]) -> int:
        total = sum(got)
        return max(order, key=lambda i: (shares[i] * total - got[i], shares[i]))

    return _mix(streams, mix, batch_size, stats, choose)


def _mix_docs(
    streams: list[Iterator[RawBatch]], mix: tuple[MixSource, ...], batch_size: int, seed: int, stats: CorpusStats
) -> Iterator[RawBatch]:
    """Random interleaving with the weights as probabilities (seeded), stopping at the first exhausted
    source, like ``datasets.interleave_datasets(probabilities, seed, stopping_strategy="first_exhausted")``."""
    rng = random.Random(seed)
    cumulative = list(itertools.accumulate(m.weight for m in mix))
    last = len(mix) - 1

    def choose(got: list[int]) -> int:
        return min(bisect.bisect_right(cumulative, rng.random() * cumulative[-1]), last)

    return _mix(streams, mix, batch_size, stats, choose)


def _shuffle(stream: Iterator[RawBatch], size: int, seed: int, batch_size: int) -> Iterator[RawBatch]:
    """Buffer shuffle: each incoming document replaces a random one of ``size`` buffered documents."""
    rng = random.Random(seed)
    cursor = _Cursor(stream)
    buffer: list[tuple[str, str | None, str, int]] = []
    out = _Collector(batch_size)
    while (doc := cursor.next()) is not None:
        if len(buffer) < size:
            buffer.append(doc)
            continue
        i = rng.randrange(size)
        buffer[i], doc = doc, buffer[i]
        if (batch := out.add(doc)) is not None:
            yield batch
    rng.shuffle(buffer)
    for doc in buffer:
        if (batch := out.add(doc)) is not None:
            yield batch
    if (batch := out.flush()) is not None:
        yield batch


def _skip(stream: Iterator[RawBatch], skip: int) -> Iterator[RawBatch]:
    for batch in stream:
        if skip >= len(batch):
            skip -= len(batch)
            continue
        yield batch.take(slice(skip, None)) if skip else batch
        skip = 0


def _limit(
    stream: Iterator[RawBatch], max_docs: int | None, max_bytes: int | None, stats: CorpusStats
) -> Iterator[RawBatch]:
    """Stop before the document that would exceed max_docs or max_bytes."""
    docs = 0
    nbytes = 0
    if max_docs == 0:
        stats.stop_reason = "max_docs"
        return
    for batch in stream:
        n = keep = len(batch)
        reason: StopReason = ""
        if max_docs is not None and docs + n >= max_docs:
            keep, reason = max_docs - docs, "max_docs"
        if max_bytes is not None and nbytes + batch.total() > max_bytes:
            budget = max_bytes - nbytes
            fit = 0
            for size in batch.sizes()[:keep]:
                if size > budget:
                    break
                budget -= size
                fit += 1
            if fit < keep:
                keep, reason = fit, "max_bytes"
        if keep < n:
            batch = batch.take(slice(0, keep))
        docs += keep
        if keep:
            nbytes += batch.total()
            yield batch
        if reason:
            stats.stop_reason = reason
            return
