"""Per-category replay counts: read each category's sample, pre-tokenize and count its words, replay the
merges on them (:mod:`tokcli.mixture.replay`), in up to ``threads`` worker processes, with the count cache
(:mod:`tokcli.mixture.cache`) keyed by (merges, pre-tokenizer, sample, T)."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokcli.bpe.pairs import SymbolSplit
from tokcli.errors import InputError
from tokcli.mixture import cache
from tokcli.mixture.merges import MergeTable
from tokcli.mixture.replay import ReplayCounts, drop_invalid_pairs, replay
from tokcli.pretok.spec import PretokenizerSpec

if TYPE_CHECKING:
    from concurrent.futures import Future


@dataclass
class Counted:
    """One category's replay counts, whether they came from the cache, and the seconds they took."""

    counts: ReplayCounts
    cached: bool
    seconds: float


# ---------------------------------------------------------------- in worker processes

_WORKER: dict[str, Any] = {}


def _init_worker(merges: list[tuple[bytes, bytes]], split: SymbolSplit, spec: PretokenizerSpec) -> None:
    _WORKER["table"] = MergeTable.build(merges, split)
    _WORKER["spec"] = spec


def _replay_counted(words: Counter[bytes], steps: int, sample_bytes: int) -> ReplayCounts:
    spec: PretokenizerSpec = _WORKER["spec"]
    counts = replay(words, _WORKER["table"], steps, sample_bytes=sample_bytes)
    if spec.kind == "spm":
        counts = drop_invalid_pairs(counts, _WORKER["table"], spec.max_piece_chars, spec.space_rule)
    return counts


def _count_one(texts: list[str], steps: int, sample_bytes: int) -> ReplayCounts:
    return _replay_counted(_WORKER["spec"].count(texts), steps, sample_bytes)


def _replay_words(item: tuple[Counter[bytes], int], steps: int) -> ReplayCounts:
    return _replay_counted(item[0], steps, item[1])


# ---------------------------------------------------------------- in the calling process


def replay_word_counts(
    word_counts: Mapping[str, tuple[Counter[bytes], int]],
    table: MergeTable,
    pretokenizer: PretokenizerSpec,
    steps: int,
    *,
    threads: int | None = None,
) -> dict[str, Counted]:
    """Replay counts from ready word counts (name -> (word counts, sample bytes)): one task per category."""
    from tokcli.loading.base import default_threads
    from tokcli.parallel.procpool import running_pool

    names = list(word_counts)
    workers = max(1, min(threads or default_threads(), len(names)))
    started = time.monotonic()
    if workers == 1:
        _init_worker(table.merge_bytes[:steps], table.split, pretokenizer)
        replays = [_replay_words(word_counts[n], steps) for n in names]
    else:
        initargs = (table.merge_bytes[:steps], table.split, pretokenizer)
        with running_pool(workers, _init_worker, initargs) as pool:
            replays = list(pool.map(_replay_words, [word_counts[n] for n in names], [steps] * len(names)))
    out = {}
    for name, counts in zip(names, replays, strict=True):
        if counts.total == 0:
            raise InputError(f"category {name}: its counts have no byte pairs", hint="count some text for it")
        out[name] = Counted(counts, False, time.monotonic() - started)
    return out


def read_sample(texts: Iterable[str], limit: int) -> tuple[list[str], int, str]:
    """Documents until ``limit`` bytes are reached (the last one may cross it), their bytes and hash."""
    digest = hashlib.blake2b(digest_size=16)
    out: list[str] = []
    size = 0
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
        out.append(text)
        size += len(data)
        if size >= limit:
            break
    return out, size, digest.hexdigest()


def count_categories(
    categories: Mapping[str, Iterable[str]],
    table: MergeTable,
    pretokenizer: PretokenizerSpec,
    steps: int,
    *,
    sample_bytes: int = 100_000_000,
    threads: int | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> dict[str, Counted]:
    """Replay counts of every category, counted in up to ``threads`` processes (never more) and
    cached on disk by (merges, pre-tokenizer, sample, T)."""
    from tokcli.loading.base import default_threads

    counter = _CategoryCounter(table, pretokenizer, steps, sample_bytes, cache_dir, use_cache)
    workers = max(1, min(threads or default_threads(), len(categories)))
    if workers == 1:
        counter.count_here(categories)
    else:
        counter.count_in_pool(categories, workers)
    return {name: counter.results[name] for name in categories}


class _CategoryCounter:
    """One :func:`count_categories` call: samples are read (and looked up in the cache) one at a time in
    this process, counted here or in a pool, and stored in the cache when counted."""

    def __init__(
        self,
        table: MergeTable,
        pretokenizer: PretokenizerSpec,
        steps: int,
        sample_bytes: int,
        cache_dir: str | Path | None,
        use_cache: bool,
    ) -> None:
        self.table, self.pretokenizer, self.steps, self.sample_bytes = table, pretokenizer, steps, sample_bytes
        self.use_cache = use_cache
        self.folder = Path(cache_dir) if cache_dir is not None else cache.default_cache_dir()
        self.merges_digest = table.digest(steps)
        self.identity = pretokenizer.identity  # reads the tokenizer's file: once per call
        self.results: dict[str, Counted] = {}
        self.started: dict[str, float] = {}
        self.keys: dict[str, str] = {}

    def samples(self, categories: Mapping[str, Iterable[str]]) -> Iterator[tuple[str, list[str], int]]:
        """(name, documents, bytes) of each category not found in the cache (those go to ``results``)."""
        for name, texts in categories.items():
            clock = time.monotonic()
            sample, size, digest = read_sample(texts, self.sample_bytes)
            self.keys[name] = cache.cache_key(self.merges_digest, self.identity, digest, self.steps)
            hit = cache.load(self.folder, self.keys[name]) if self.use_cache else None
            if hit is not None and hit.merges == self.steps:
                self.results[name] = Counted(hit, True, time.monotonic() - clock)
                continue
            if not size:
                raise InputError(f"category {name} has no text", hint="check its path and format")
            self.started[name] = clock
            yield name, sample, size

    def finish(self, name: str, counts: ReplayCounts) -> None:
        if counts.total == 0:
            raise InputError(
                f"category {name}: its sample has no byte pairs to count ({counts.sample_bytes} bytes read)",
                hint="give the category some text (check its path)",
            )
        if self.use_cache:
            cache.store(self.folder, self.keys[name], counts)
        self.results[name] = Counted(counts, False, time.monotonic() - self.started[name])

    def _initargs(self) -> tuple[list[tuple[bytes, bytes]], SymbolSplit, PretokenizerSpec]:
        return self.table.merge_bytes[: self.steps], self.table.split, self.pretokenizer

    def count_here(self, categories: Mapping[str, Iterable[str]]) -> None:
        _init_worker(*self._initargs())
        for name, sample, size in self.samples(categories):
            self.finish(name, _count_one(sample, self.steps, size))

    def count_in_pool(self, categories: Mapping[str, Iterable[str]], workers: int) -> None:
        """At most ``workers`` samples in memory at once: the next is read when a count comes back."""
        from concurrent.futures import FIRST_COMPLETED, wait

        from tokcli.parallel.procpool import running_pool

        with running_pool(workers, _init_worker, self._initargs()) as pool:
            running: dict[Future[ReplayCounts], str] = {}

            def drain(block_until: int) -> None:
                while len(running) > block_until:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        self.finish(running.pop(future), future.result())

            for name, sample, size in self.samples(categories):
                drain(workers - 1)
                running[pool.submit(_count_one, sample, self.steps, size)] = name
            drain(0)
