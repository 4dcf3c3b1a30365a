"""Selecting and arranging documents: sharding and sampling within a source, mixing sources by bytes
or by documents, buffer shuffling, skip, and the document/byte limits (the order and meaning of each
step is in :mod:`tokcli.corpus.reader`)."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tokcli.corpus.batch import CorpusStats, InputFile, RawBatch, StopReason
from tokcli.corpus.options import CorpusConfig, MixSource
from tokcli.errors import InputError


def select_documents(
    files: Iterable[InputFile],
    read: Callable[[InputFile], Iterator[RawBatch]],
    config: CorpusConfig,
    seen: list[int],
    source: str | None,
) -> Iterator[RawBatch]:
    """One source: its files in order (each read by ``read``), then sharding and sampling by document
    position; ``seen[0]`` counts the documents read before either; ``source`` renames a mixture source."""
    cfg = config
    position = 0  # document number within the source, for sharding
    threshold = None if cfg.sample is None or cfg.sample >= 1 else int(cfg.sample * 2**64)
    for item in files:
        index_in_file = 0
        prefix = hashlib.blake2b(f"{cfg.seed}\0{item.key}\0".encode(), digest_size=8)
        for batch in read(item):
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


def mix_sources(
    streams: list[Iterator[RawBatch]], config: CorpusConfig, batch_size: int, stats: CorpusStats
) -> Iterator[RawBatch]:
    """The mixture of the sources' streams (``config.mix``, weighted by ``config.mix_by``)."""
    mixer = _mix_bytes if config.mix_by == "bytes" else _mix_docs
    return mixer(streams, config.mix, batch_size, config.seed, stats)


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


def shuffle_documents(stream: Iterator[RawBatch], size: int, seed: int, batch_size: int) -> Iterator[RawBatch]:
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


def skip_documents(stream: Iterator[RawBatch], skip: int) -> Iterator[RawBatch]:
    for batch in stream:
        if skip >= len(batch):
            skip -= len(batch)
            continue
        yield batch.take(slice(skip, None)) if skip else batch
        skip = 0


def limit_documents(
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
