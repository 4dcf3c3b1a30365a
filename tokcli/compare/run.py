"""``tokcli compare``: every tokenizer over every corpus, each corpus read once and encoded once per tokenizer.

Rows are (tokenizer, corpus) pairs carrying the metrics of :mod:`tokcli.metrics`; on parallel corpora
each row also has the token premium against the reference language (Petrov et al., NeurIPS 2023:
tokens(language) / tokens(reference), special tokens never added). The summary has one row per
tokenizer: totals over all corpora, digit grouping, vocabulary overlap with the other tokenizers.

The run (:class:`Comparison`) is a pipeline: read each corpus in batches, encode a batch with every
tokenizer on a worker thread, measure it on this thread while the next batch is encoded, then report
(:mod:`tokcli.compare.summary`).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from tokcli.compare.offsets import OffsetAligner
from tokcli.compare.options import CompareConfig, CompareResult, CorpusSpec
from tokcli.compare.summary import Cell, Report
from tokcli.corpus import Corpus, CorpusConfig
from tokcli.errors import InputError, TokcliError
from tokcli.metrics import MetricsAccumulator, TextBatch

if TYPE_CHECKING:
    from tokcli.loading.base import IdArrays, LoadedTokenizer

    _Encoded = dict[str, tuple[list[list[int]] | IdArrays, float]]  # ids (lists or arrays), encoding seconds

ProgressCallback = Callable[[str, int], None]


def keep_freed_memory() -> None:
    """Have glibc reuse freed memory instead of returning it to the system (Linux; elsewhere nothing).

    compare allocates and frees arrays of a batch's size, batch after batch. By default glibc serves
    requests above a moving threshold with fresh mappings and gives the top of the heap back as soon
    as 128 KB lie free there, so every batch's arrays were faulted in afresh (85,000 page faults,
    0.1-0.4 s of system time on 20 MB of text, against 39,000 for ``encode --format count``). With
    allocations up to 32 MB taken from the heap and up to 64 MB kept at its top there are 22,000.
    The setting is process-wide, so the CLI calls this, not :func:`run_compare`.
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-2, 64 << 20)  # M_TOP_PAD
    except (OSError, AttributeError):  # not glibc
        pass


def run_compare(
    config: CompareConfig,
    corpus_config: CorpusConfig,
    tokenizers: Sequence[LoadedTokenizer],
    corpora: Sequence[CorpusSpec],
    *,
    progress: ProgressCallback | None = None,
) -> CompareResult:
    """Measure every tokenizer on every corpus. Each corpus is read once; each batch is encoded once
    per tokenizer and every metric is computed from that one encoding."""
    return Comparison(config, corpus_config, tokenizers, corpora, progress=progress).run()


class Comparison:
    """One run of compare, step by step: :meth:`batches` reads the corpora, :meth:`encode` encodes a
    batch with every tokenizer (on the worker thread), :meth:`measure` adds a batch's encodings to the
    corpus's cells, :meth:`complete` files them when the corpus ends, :meth:`report` builds the result."""

    def __init__(
        self,
        config: CompareConfig,
        corpus_config: CorpusConfig,
        tokenizers: Sequence[LoadedTokenizer],
        corpora: Sequence[CorpusSpec],
        *,
        progress: ProgressCallback | None = None,
    ) -> None:
        from tokcli.loading.base import default_threads

        if not tokenizers:
            raise InputError("no tokenizer given", hint="pass one or more -t SPEC")
        self.config = config
        self.corpus_config = corpus_config
        self.tokenizers = tokenizers
        self.corpora = corpora
        self.progress = progress
        self.threads = config.threads or default_threads()
        self.aligners: dict[str, OffsetAligner] = {}  # these two are built while the first batch is encoded
        self.fallback_ids: dict[str, tuple[int, ...]] = {}
        self.cells: dict[tuple[str, str], Cell] = {}  # (tokenizer, corpus) of every complete corpus
        self.current: dict[str, Cell] = {}  # per tokenizer, of the corpus being measured
        self.errors: list[str] = []
        self.corpus_sizes: dict[str, int] = {}
        self.failed: set[str] = set()

    def run(self) -> CompareResult:
        """Encode and measure every corpus, then report."""
        # The tokenizer libraries release the GIL: batch k+1 (of this corpus or the next) is encoded while
        # batch k is measured. The end of a corpus only waits in the queue, so the worker never idles
        # between corpora; everything is measured in stream order.
        self.warm_up()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokcli-compare") as pool:
            queue: deque[tuple[CorpusSpec, list[str] | None, Future[_Encoded] | None]] = deque()
            in_flight = 0
            for spec, texts in self.batches():
                job = pool.submit(self.encode, texts) if texts is not None else None
                queue.append((spec, texts, job))
                in_flight += job is not None
                while queue and (queue[0][2] is None or in_flight > 1):
                    spec, texts, job = queue.popleft()
                    self._take(spec, texts, job)
                    in_flight -= job is not None
            for spec, texts, job in queue:
                self._take(spec, texts, job)
        return self.report()

    def batches(self) -> Iterator[tuple[CorpusSpec, list[str] | None]]:
        """(corpus, batch) for every corpus in turn, then (corpus, None) when a corpus is complete.
        With --keep-going a corpus that fails is recorded and skipped."""
        for spec in self.corpora:
            # Parallel files must stay line-aligned, so their empty lines are documents too.
            options = dataclasses.replace(self.corpus_config, inputs=spec.paths, mix=(), keep_empty=spec.parallel)
            reader = Corpus(options)
            try:
                for texts in reader.text_batches(self.config.batch_size):
                    yield spec, texts
                    if self.progress is not None:
                        self.progress(spec.name, reader.stats.bytes)
                if reader.stats.docs == 0:
                    raise InputError(f"corpus {spec.name} ({', '.join(spec.paths)}) is empty")
                self.corpus_sizes[spec.name] = reader.stats.bytes
            except TokcliError as exc:
                if not self.config.keep_going:
                    raise
                self.errors.append(f"{spec.name}: {exc}")
                self.failed.add(spec.name)
            yield spec, None

    def warm_up(self) -> None:
        """Build what the first batch would otherwise build while being timed: each tokenizer's lazy state
        (the tiktoken encoding of a tokenizer.json, thread pools) and the metrics' code point tables (a
        second of CPU that held the GIL while the first batch was encoded). The first corpus's mb_per_s
        measured start-up (0.06-0.08 MB/s, 10x below the same corpus measured second)."""
        from tokcli.metrics.text_classes import class_table
        from tokcli.metrics.utf8_batch import utf8_byte_kinds, utf8_pair_classes

        class_table(), utf8_byte_kinds(), utf8_pair_classes()
        texts = ["Warm up, 123 ünïcödé", "a second text"]
        for tok in self.tokenizers:
            if tok.encode_batch_array(texts, threads=self.threads) is None:
                tok.encode_batch(texts, add_special_tokens=False, threads=self.threads)

    def encode(self, texts: list[str]) -> _Encoded:
        """Every tokenizer's ids for one batch, and the seconds each took (runs on the worker thread)."""
        encoded: _Encoded = {}
        for tok in self.tokenizers:
            started = time.perf_counter()
            # tiktoken gives the ids as arrays without making Python lists; other engines give lists
            arrays = tok.encode_batch_array(texts, threads=self.threads)
            ids = (
                arrays
                if arrays is not None
                else tok.encode_batch(texts, add_special_tokens=False, threads=self.threads)
            )
            encoded[tok.name] = (ids, time.perf_counter() - started)
        return encoded

    def _take(self, spec: CorpusSpec, texts: list[str] | None, job: Future[_Encoded] | None) -> None:
        if texts is None or job is None:
            self.complete(spec)
        else:
            self.measure(texts, job)

    def measure(self, texts: list[str], job: Future[_Encoded]) -> None:
        """Every metric of one batch, on this thread while the worker encodes the next batch (which
        is why the ids are flattened here: the worker goes straight on to the next batch)."""
        import numpy as np

        self.current = self.current or self._new_cells()
        batch = TextBatch.of(texts)  # the text in UTF-8 once, for every tokenizer
        for name, (ids, seconds) in job.result().items():
            cell = self.current[name]
            cell.encode_seconds += seconds
            if isinstance(ids, tuple):
                flat, counts = ids
            else:
                counts = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
                flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=int(counts.sum()))
            aligner = self.aligners[name]
            spelled = aligner.token_lengths(batch, flat, counts)
            lengths, ends = spelled if spelled is not None else (None, None)
            cell.accumulator.add_spelled(batch, flat, counts, lengths, aligner.shift or 0, ends)

    def complete(self, spec: CorpusSpec) -> None:
        """File the cells of a corpus that has been read to its end (unless it failed)."""
        if spec.name not in self.failed:
            for tok_name, cell in (self.current or self._new_cells()).items():
                self.cells[(tok_name, spec.name)] = cell
        self.current = {}

    def _new_cells(self) -> dict[str, Cell]:
        if not self.aligners:
            self.aligners.update({t.name: OffsetAligner(t) for t in self.tokenizers})
            self.fallback_ids.update({t.name: tuple(t.byte_fallback_ids) for t in self.tokenizers})
        alpha = self.config.renyi_alpha
        return {
            t.name: Cell(
                MetricsAccumulator(
                    t.vocab_size, byte_fallback_ids=self.fallback_ids[t.name], unk_id=t.unk_id, renyi_alpha=alpha
                )
            )
            for t in self.tokenizers
        }

    def report(self) -> CompareResult:
        """Rows, summary and meta of the corpora measured."""
        measured = [s for s in self.corpora if (self.tokenizers[0].name, s.name) in self.cells]
        report = Report(self.config, self.tokenizers, measured, self.cells, self.aligners)
        rows = report.rows()
        summary = report.summary()
        return CompareResult(meta=self._meta(report.reference), rows=rows, summary=summary, errors=self.errors)

    def _meta(self, reference: str | None) -> dict[str, Any]:
        tokenizers = [
            {
                "name": t.name,
                "path": str(t.info.path),
                "sha256": t.info.sha256,
                "kind": t.info.kind,
                "engine": t.info.engine,
                "vocab_size": t.vocab_size,
            }
            for t in self.tokenizers
        ]
        corpora = [
            {"name": s.name, "paths": list(s.paths), "bytes": self.corpus_sizes.get(s.name), "parallel": s.parallel}
            for s in self.corpora
        ]
        return {
            "add_special_tokens": False,
            "renyi_alpha": self.config.renyi_alpha,
            "bootstrap": self.config.bootstrap,
            "threads": self.threads,
            "tokenizers": tokenizers,
            "corpora": corpora,
            "reference": reference,
            "mb_per_s": "machine-dependent: encode time only, measured in this run",
            "errors": self.errors,
        }
