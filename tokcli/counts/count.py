"""``tokcli count``: pre-token counts of a corpus, written as the counts store (:mod:`tokcli.counts.store`:
sorted Parquet parts plus ``manifest.json``).

Each split (:mod:`tokcli.parallel.plan`) is normalised and pre-tokenized exactly as the chosen pipeline
does (an hf-bpe preset as ``tokcli train`` builds it, a sentencepiece normalisation rule, or an existing
``tokenizer.json``; :mod:`tokcli.pretok.spec`) and its words counted (map). Word counts are routed to
``partitions`` reducers by a stable hash (:mod:`tokcli.counts.parts`), summed and sorted (reduce).
Sums are commutative and every part is sorted, so the parts' bytes depend only on the inputs, the
pre-tokenizer and ``partitions``: not on the engine, the number of workers, the split size or the order
in which tasks finish.

The output folder is written in a staging folder next to it and renamed into place at the end, so a
killed run leaves no partial output.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from tokcli.corpus import CorpusConfig
from tokcli.counts.parts import (
    PartInfo,
    counts_table,
    partitions_of,
    read_spills,
    spill_path,
    sum_duplicates,
    write_part,
    write_spill,
)
from tokcli.counts.store import FORMAT, MANIFEST
from tokcli.errors import ConfigError, InputError, OutputError, UsageError
from tokcli.files import TEMP_PREFIX, atomic_write
from tokcli.parallel.base import Engine
from tokcli.parallel.engine import InProcess, open_engine
from tokcli.parallel.options import DEFAULT_SPLIT_SIZE, ScaleConfig
from tokcli.parallel.plan import Split, plan_splits, read_split
from tokcli.pretok.presets import Digits, Normalizer
from tokcli.pretok.spec import PretokenizerSpec, parse_pretok
from tokcli.pretok.words import WordCount
from tokcli.version import __version__

Progress = Callable[[str, int, int], None]  # (stage, tasks done, tasks)


@dataclass(frozen=True)
class CountConfig:
    """Options of ``tokcli count`` (YAML section ``count``)."""

    output: str | None = field(default=None, metadata={"help": "counts folder to write", "path": True, "output": True})
    pretok: str = field(
        default="gpt2",
        metadata={
            "help": "pre-tokenize as: an hf-bpe preset (gpt2|cl100k|o200k|llama3|none, with --digits and "
            "--normalizer as for train), spm:RULE (nmt_nfkc|identity|nfkc|nfkc_cf) or a tokenizer.json"
        },
    )
    digits: Digits = field(default="none", metadata={"help": "hf-bpe presets: the digit rule, as train --digits"})
    normalizer: tuple[Normalizer, ...] = field(
        default=(), metadata={"help": "hf-bpe presets: normalizers, as train --normalizer"}
    )
    by: Literal["none", "source"] = field(
        default="none", metadata={"help": "source: keep one count per input source (file stem), for infer-mixture"}
    )
    partitions: int = field(default=4, metadata={"help": "Parquet parts (reducers) the counts are split into"})

    def __post_init__(self) -> None:
        if not 1 <= self.partitions <= 10_000:
            raise ConfigError(f"count.partitions must be between 1 and 10000, not {self.partitions}")


# ---------------------------------------------------------------------------------------------------
# Map and reduce tasks (top-level functions: they run in worker processes)


@dataclass(frozen=True)
class MapTask:
    """Count ``splits`` and spill the counts to ``spill``; or, when ``folder`` is set (the run's only map
    task), write the finished parts there (no spill, no reduce)."""

    splits: tuple[Split, ...]
    corpus: CorpusConfig
    spec: PretokenizerSpec
    by_source: bool
    partitions: int
    spill: str
    folder: str | None = None


@dataclass(frozen=True)
class SplitStats:
    docs: dict[str, int]
    bytes: dict[str, int]
    words: dict[str, int]
    parts: tuple[PartInfo, ...] = ()  # written by a task with ``folder``


def count_split(task: MapTask) -> SplitStats:
    """Map: count the splits' words; spill them, one Arrow file per partition, or write the parts."""
    per_source, docs, nbytes = _count_words(task)
    sources: list[str] = []
    words: list[bytes] = []
    numbers: list[int] = []
    totals: dict[str, int] = {}
    for key, total in per_source.items():
        found = total.counts()
        words += found
        numbers += found.values()
        sources += [key] * len(found)
        totals[key] = sum(found.values())
    table = counts_table(sources, words, numbers, task.by_source)
    infos: list[PartInfo] = []
    for p, data in enumerate(partitions_of(table, words, task.partitions)):
        if task.folder is not None:
            infos.append(write_part(Path(task.folder), p, data, task.by_source))
        else:
            write_spill(spill_path(task.spill, task.splits[0].index, p), data)
    return SplitStats(docs=docs, bytes=nbytes, words=totals, parts=tuple(infos))


def _count_words(task: MapTask) -> tuple[dict[str, WordCount], dict[str, int], dict[str, int]]:
    """The words of the task's splits per source ("" for all without ``by_source``), and the documents
    and bytes read per source."""
    per_source: dict[str, WordCount] = {}
    docs: dict[str, int] = {}
    nbytes: dict[str, int] = {}
    cutter = task.spec.cutter()
    for split in task.splits:
        for batch in read_split(split, task.corpus):
            source = batch.sources if isinstance(batch.sources, str) else split.source
            key = source if task.by_source else ""
            total = per_source.get(key)
            if total is None:
                total = per_source[key] = cutter.new_count()
            total.add(batch.texts)
            docs[source] = docs.get(source, 0) + len(batch)
            nbytes[source] = nbytes.get(source, 0) + batch.total()
    return per_source, docs, nbytes


@dataclass(frozen=True)
class ReduceTask:
    part: int
    splits: tuple[int, ...]  # the first split of every map task (its spill files' names)
    spill: str
    folder: str
    by_source: bool


def reduce_part(task: ReduceTask) -> PartInfo:
    """Reduce: sum one partition over all map tasks, sort, and write it as Parquet."""
    table = read_spills([spill_path(task.spill, split, task.part) for split in task.splits])
    if len(task.splits) == 1:
        return write_part(Path(task.folder), task.part, table, task.by_source)
    return write_part(Path(task.folder), task.part, sum_duplicates(table, by_source=task.by_source), None)


# ---------------------------------------------------------------------------------------------------
# Driver


@dataclass(frozen=True)
class CountResult:
    output: Path
    manifest: dict[str, Any]
    engine: str
    workers: int
    wall_s: float
    ray_address: str | None = None
    word_cutter: str = "hf"  # regex (the fast path), hf or sentencepiece

    def report(self) -> dict[str, Any]:
        keep = (
            "by",
            "distinct",
            "docs",
            "bytes",
            "words",
            "partitions",
            "pretok",
            "splits",
            "sources",
            "words_encoding",
        )
        body = {k: self.manifest[k] for k in keep if k in self.manifest}
        return {
            **body,
            "output": str(self.output),
            "engine": self.engine,
            "workers": self.workers,
            "wall_s": self.wall_s,
            "word_cutter": self.word_cutter,
        } | ({"ray_address": self.ray_address} if self.ray_address else {})


# Without --workers, a local count starts one worker per this many bytes of input at most: a spawned
# worker's start and first imports cost about what counting this much takes (docs/benchmarks.md,
# "Scale-out": where a second worker starts to pay).
BYTES_PER_WORKER = 4_000_000
AUTO_SPLITS = 32  # count's default: the input in about this many splits ...
AUTO_SPLIT_MIN = 1_000_000  # ... of at least 1 MB, and at most DEFAULT_SPLIT_SIZE


def count_split_size(total_bytes: int) -> int:
    """Count's default split size, from the input's size alone (never the workers): counts do not depend on
    the splits, so a small input is cut finely enough to keep every worker busy (one 64MB split would
    leave a 20MB input on one worker); big inputs get 64MB splits as encode does."""
    return min(DEFAULT_SPLIT_SIZE, max(AUTO_SPLIT_MIN, -(-total_bytes // AUTO_SPLITS)))


def plan_count(corpus: CorpusConfig, split_size: int | None) -> list[Split]:
    """The splits of a count: ``split_size``, or count's default for this input (planned again only when
    it is not 64MB, so a big input's file and Parquet metadata are read once)."""
    splits = plan_splits(corpus, split_size or DEFAULT_SPLIT_SIZE, command="tokcli count")
    if split_size is None:
        size = count_split_size(sum(s.size for s in splits))
        if size != DEFAULT_SPLIT_SIZE:
            splits = plan_splits(corpus, size, command="tokcli count")
    return splits


@dataclass(frozen=True)
class CountPlan:
    """One count's tasks: what is counted and how, and the staging folder (``stage``) and spill folder
    its files go to."""

    corpus: CorpusConfig
    spec: PretokenizerSpec
    splits: tuple[Split, ...]
    by_source: bool
    partitions: int
    stage: Path
    spill: Path

    def map_tasks(self, *, one_task: bool) -> list[MapTask]:
        """One task per split; or, with ``one_task`` (or one split), one task that counts every split
        and writes the parts itself (no spill, no reduce)."""
        groups = [self.splits] if one_task else [(s,) for s in self.splits]
        direct = str(self.stage) if len(groups) == 1 else None
        return [
            MapTask(group, self.corpus, self.spec, self.by_source, self.partitions, str(self.spill), direct)
            for group in groups
        ]

    def reduce_tasks(self, maps: list[MapTask]) -> list[ReduceTask]:
        first = tuple(task.splits[0].index for task in maps)
        return [ReduceTask(p, first, str(self.spill), str(self.stage), self.by_source) for p in range(self.partitions)]


@dataclass
class Totals:
    """Documents, bytes and words per source, summed over the map tasks, and the parts written."""

    docs: Counter[str] = field(default_factory=Counter)
    bytes: Counter[str] = field(default_factory=Counter)
    words: Counter[str] = field(default_factory=Counter)
    parts: list[PartInfo] = field(default_factory=list)

    def add(self, stats: SplitStats) -> None:
        self.docs.update(stats.docs)
        self.bytes.update(stats.bytes)
        self.words.update(stats.words)
        self.parts += stats.parts


def run_count(
    config: CountConfig,
    corpus: CorpusConfig,
    scale: ScaleConfig,
    *,
    progress: Progress | None = None,
) -> CountResult:
    """Count, reduce and move the finished folder to ``config.output``."""
    if not config.output:
        raise UsageError("count needs an output folder", hint="give -o/--output DIR")
    output = Path(config.output)
    spec = parse_pretok(config.pretok, config.digits, config.normalizer)
    splits = tuple(plan_count(corpus, scale.split_size))
    started = time.monotonic()
    cutter = spec.word_cutter  # proves (or loads) the fast path here, before any worker needs it
    worth = max(1, -(-sum(s.size for s in splits) // BYTES_PER_WORKER))
    with staged_folder(output) as stage:
        plan = CountPlan(corpus, spec, splits, config.by == "source", config.partitions, stage, stage / ".spill")
        plan.spill.mkdir()
        with open_engine(scale, tasks=len(splits), worth=worth) as engine:
            totals = map_and_reduce(engine, plan, progress)
            ran = (engine.name, engine.workers, engine.address)
        shutil.rmtree(plan.spill)
        manifest = count_manifest(config, plan, totals)
        with atomic_write(stage / MANIFEST, "wb") as handle:
            handle.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    wall_s = round(time.monotonic() - started, 3)
    return CountResult(output, manifest, ran[0], ran[1], wall_s, ran[2], word_cutter=cutter)


def map_and_reduce(engine: Engine, plan: CountPlan, progress: Progress | None) -> Totals:
    """Run the map tasks, then one reduce task per part (unless the only map task wrote the parts)."""
    # in this process (--workers 1) one task counts every split and writes the parts itself
    maps = plan.map_tasks(one_task=isinstance(engine, InProcess) or len(plan.splits) == 1)
    totals = Totals()
    for done, stats in enumerate(engine.map(count_split, maps), 1):
        totals.add(stats)
        if progress is not None:
            progress("counting", done, len(maps))
    if sum(totals.docs.values()) == 0:
        raise InputError(f"no documents in {', '.join(plan.corpus.inputs)}", hint="check the inputs and --text-field")
    if maps[0].folder is None:
        reduces = plan.reduce_tasks(maps)
        for done, info in enumerate(engine.map(reduce_part, reduces), 1):
            totals.parts.append(info)
            if progress is not None:
                progress("reducing", done, len(reduces))
    return totals


def count_manifest(config: CountConfig, plan: CountPlan, totals: Totals) -> dict[str, Any]:
    """What was counted and how (``manifest.json``)."""
    docs, nbytes, words, parts = totals.docs, totals.bytes, totals.words, totals.parts
    sources = {
        name: {"docs": docs[name], "bytes": nbytes[name]} | ({"words": words[name]} if plan.by_source else {})
        for name in sorted(docs)
    }
    return {
        "format": FORMAT,
        "version": 1,
        "pretok": plan.spec.describe(),
        "words_encoding": plan.spec.words_encoding,
        "by": config.by,
        "partitions": config.partitions,
        "parts": [{"file": p.file, "rows": p.rows, "sha256": p.sha256} for p in parts],
        "distinct": sum(p.rows for p in parts),
        "docs": sum(docs.values()),
        "bytes": sum(nbytes.values()),
        "words": sum(words.values()),
        "sources": sources,
        "splits": len(plan.splits),
        "inputs": list(plan.corpus.inputs),
        "tokcli": __version__,
    }


@contextlib.contextmanager
def staged_folder(output: Path) -> Iterator[Path]:
    """A fresh folder next to ``output`` that replaces it on success and is removed on any failure.

    An existing ``output`` must be an earlier result (it holds a manifest.json) or empty."""
    parent = output.parent if str(output.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"cannot write {output}: folder {parent} does not exist", hint="create it first")
    if output.exists() and (not output.is_dir() or (any(output.iterdir()) and not (output / MANIFEST).is_file())):
        raise OutputError(
            f"{output} exists and is not a tokcli output folder (no {MANIFEST})",
            hint="remove it or choose another -o folder",
        )
    try:
        stage = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{output.name}-", dir=parent))
    except OSError as exc:
        raise OutputError(f"cannot write in {parent}: {exc.strerror}", hint="check permissions and free space") from exc
    try:
        yield stage
        os.chmod(stage, 0o777 & ~_umask())
        old = None
        if output.exists():
            old = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{output.name}-old-", dir=parent))
            os.replace(output, old / "x")
        os.replace(stage, output)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
