"""Streaming corpus reader shared by every command.

Inputs are files, folders (recursively, supported files in sorted order), globs, ``-`` (stdin) and
``hf:NAME[:CONFIG][@SPLIT]`` hub names; formats are plain text, JSON lines (optionally .gz/.zst),
Parquet, CSV/TSV and ``save_to_disk`` folders. Every document carries its text, source name and id.
Which backend reads which format (HF ``datasets`` streaming in Arrow batches, or a measured direct fast
path for local text/JSONL) is explained in :mod:`tokcli.corpus.formats`; the options are in
:mod:`tokcli.corpus.options`, the selection steps below in :mod:`tokcli.corpus.mixing`.

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

import itertools
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import IO, BinaryIO

from tokcli.corpus.batch import CorpusStats, Document, InputFile, RawBatch
from tokcli.corpus.formats import read_input
from tokcli.corpus.inputs import iter_inputs
from tokcli.corpus.mixing import limit_documents, mix_sources, select_documents, shuffle_documents, skip_documents
from tokcli.corpus.options import CorpusConfig, ReadOptions
from tokcli.corpus.stdin import stdin_input
from tokcli.errors import InputError, UsageError

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
        _check_inputs(cfg)
        seen = [0]  # documents read from the inputs, before any selection (for the empty-input check)
        stream = self._sources(ReadOptions.of(cfg, batch_size), seen)
        if cfg.shuffle_buffer > 1:
            stream = shuffle_documents(stream, cfg.shuffle_buffer, cfg.seed, batch_size)
        if cfg.skip:
            stream = skip_documents(stream, cfg.skip)
        yield from limit_documents(stream, cfg.max_docs, cfg.max_bytes, self.stats)
        if not self.stats.stop_reason:
            self.stats.stop_reason = "end"
        if seen[0] == 0 and self.stats.stop_reason in ("end", "source_exhausted"):
            shown = ", ".join(cfg.inputs) if cfg.inputs else ", ".join(p for m in cfg.mix for p in m.paths)
            raise InputError(
                f"no documents in {shown}",
                hint="the input is empty (blank lines and empty texts are skipped); check the path and --text-field",
            )

    def _sources(self, options: ReadOptions, seen: list[int]) -> Iterator[RawBatch]:
        """The plain inputs as one source, or the mixture of the ``mix`` sources."""
        cfg = self.config

        def read(item: InputFile) -> Iterator[RawBatch]:
            return self._read(item, options)

        if not cfg.mix:
            _check_stdin_once(list(cfg.inputs))
            files = iter_inputs(cfg.inputs, cfg.format)  # folders expand while they are read
            return select_documents(files, read, cfg, seen, source=None)
        _check_stdin_once([p for m in cfg.mix for p in m.paths])
        resolved = [iter_inputs(m.paths, cfg.format) for m in cfg.mix]  # folders expand while read
        streams = [
            select_documents(files, read, cfg, seen, source=m.name) for m, files in zip(cfg.mix, resolved, strict=True)
        ]
        return mix_sources(streams, cfg, options.batch_size, self.stats)

    def _read(self, item: InputFile, options: ReadOptions) -> Iterator[RawBatch]:
        """One input by the reader of its format; stdin is opened (once) and sniffed first."""
        if item.kind == "stdin":
            item = stdin_input(self._take_stdin(), options.format)
        yield from read_input(item, options)

    def _take_stdin(self) -> IO[bytes]:
        """The stdin stream, once per Corpus (it cannot be read again)."""
        if self._stdin_used:
            raise InputError("stdin was already read", hint="save the input to a file to read it more than once")
        self._stdin_used = True
        stream = self._stdin if self._stdin is not None else getattr(sys.stdin, "buffer", None)
        if stream is None:
            raise InputError("'-' reads stdin, but there is no stdin", hint="pass a file instead")
        return stream


def _check_inputs(cfg: CorpusConfig) -> None:
    if cfg.mix and cfg.inputs:
        raise UsageError(
            "both inputs and a mixture (--mix) were given",
            hint="pass the data either as inputs or as --mix sources",
        )
    if not cfg.mix and not cfg.inputs:
        raise UsageError("no input given", hint="pass files, folders, globs, '-' (stdin) or hf:NAME")


def _check_stdin_once(inputs: list[str]) -> None:
    if inputs.count("-") > 1:
        raise UsageError("'-' (stdin) is given more than once", hint="stdin can be read only once")
