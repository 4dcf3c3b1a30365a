"""``tokcli count``: pre-token counts of a corpus, as sorted Parquet parts plus ``manifest.json``.

Each split (:mod:`tokcli.parallel.plan`) is normalised and pre-tokenized exactly as the chosen pipeline
does (an hf-bpe preset as ``tokcli train`` builds it, a sentencepiece normalisation rule, or an existing
``tokenizer.json``) and its words counted (map). Word counts are routed to ``partitions`` reducers by a
stable hash (CRC-32 of the word's bytes, the same on every run and machine; never Python's salted
``hash``), summed and sorted (reduce).
Sums are commutative and every part is sorted, so the parts' bytes depend only on the inputs, the
pre-tokenizer and ``partitions``: not on the engine, the number of workers, the split size or the order
in which tasks finish.

Layout of the output folder (written in a staging folder next to it and renamed into place at the end,
so a killed run leaves no partial output)::

    manifest.json              what was counted and how (see :class:`CountsManifest`), written last
    part-00000.parquet ...     columns [source,] word (binary), count (int64); sorted by (source, word)

Words are stored as bytes: the raw bytes of a byte-level pre-token (``words: "bytes"``), or the UTF-8
of the pre-token string (``words: "utf-8"``: sentencepiece words keep their leading ``▁``).
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import itertools
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zlib import crc32

import orjson

from tokcli.corpus import CorpusConfig
from tokcli.errors import ConfigError, InputError, OutputError, UsageError
from tokcli.files import TEMP_PREFIX, atomic_write
from tokcli.parallel.engine import InProcess, open_engine
from tokcli.parallel.options import DEFAULT_SPLIT_SIZE, ScaleConfig
from tokcli.parallel.plan import Split, plan_splits, read_split
from tokcli.pretok.hf import DIGIT_PATTERNS, bpe_pre_tokenizer, hf_normalizer, pattern_of, preset_pattern
from tokcli.pretok.presets import Digits, Normalizer
from tokcli.pretok.regex_cutter import Cutter, splitter
from tokcli.spm_model import MAX_SENTENCE_LENGTH
from tokcli.version import __version__

MANIFEST = "manifest.json"
FORMAT = "tokcli-counts"
SPM_RULES = ("nmt_nfkc", "identity", "nfkc", "nfkc_cf")
HF_PRESETS = ("gpt2", "cl100k", "o200k", "llama3", "none")


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
# Pre-tokenizers


@dataclass(frozen=True)
class PretokSpec:
    """A picklable description of how words are cut; ``describe()`` goes into the manifest."""

    kind: Literal["hf-bpe", "spm", "tokenizer"]
    preset: str = ""
    digits: str = "none"
    normalizer: tuple[str, ...] = ()
    rule: str = ""
    path: str = ""
    sha256: str = ""

    @property
    def words(self) -> Literal["bytes", "utf-8"]:
        if self.kind == "hf-bpe":
            return "bytes"
        if self.kind == "spm":
            return "utf-8"
        return "bytes" if _tokenizer_is_byte_level(self.path) else "utf-8"

    def describe(self) -> dict[str, Any]:
        if self.kind == "hf-bpe":
            return {"kind": "hf-bpe", "preset": self.preset, "digits": self.digits, "normalizer": list(self.normalizer)}
        if self.kind == "spm":
            return {"kind": "spm", "rule": self.rule}
        return {"kind": "tokenizer", "path": self.path, "sha256": self.sha256}


def parse_pretok(text: str, digits: str = "none", normalizer: tuple[str, ...] = ()) -> PretokSpec:
    """``gpt2`` / ``spm:nmt_nfkc`` / ``path/to/tokenizer.json`` -> a spec (ConfigError naming count.pretok)."""
    if text in HF_PRESETS:
        if "none" in normalizer and len(normalizer) > 1:
            raise ConfigError("count.normalizer 'none' cannot be combined with other normalizers")
        return PretokSpec("hf-bpe", preset=text, digits=digits, normalizer=tuple(n for n in normalizer if n != "none"))
    if digits != "none" or normalizer:
        raise UsageError(
            "--digits and --normalizer apply to hf-bpe presets only",
            hint="a tokenizer.json brings its own; for sentencepiece the rule is spm:RULE",
        )
    if text.startswith("spm:"):
        rule = text[4:]
        if rule not in SPM_RULES:
            raise ConfigError(
                f"count.pretok: unknown sentencepiece rule {rule!r}", hint=f"use spm:{'|spm:'.join(SPM_RULES)}"
            )
        return PretokSpec("spm", rule=rule)
    path = Path(text)
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise ConfigError(
            f"count.pretok {text!r} is not a preset, spm:RULE or a tokenizer.json file",
            hint=f"use one of {', '.join(HF_PRESETS)}, spm:{'|spm:'.join(SPM_RULES)}, or a tokenizer.json path",
        )
    from tokcli.files import sha256_file

    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ConfigError(f"count.pretok {path}: not a readable tokenizer.json ({exc})") from None
    if not isinstance(data, dict) or "model" not in data:
        raise ConfigError(f"count.pretok {path}: not a tokenizer.json (no 'model')", hint="give an HF tokenizer.json")
    return PretokSpec("tokenizer", path=str(path.resolve()), sha256=sha256_file(path))


def _tokenizer_is_byte_level(path: str) -> bool:
    data = orjson.loads(Path(path).read_bytes())
    return "ByteLevel" in orjson.dumps(data.get("pre_tokenizer")).decode()


WordCounter = Callable[[Iterable[str]], Counter[bytes]]


class WordCount:
    """Word counts accumulated over batches of texts: ``add`` them, then take ``counts()`` once (words
    are counted as strings and each distinct one converted to bytes at the end)."""

    def add(self, texts: Iterable[str]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def counts(self) -> Counter[bytes]:  # pragma: no cover - abstract
        raise NotImplementedError


_BUILT: dict[tuple[PretokSpec, bool], Callable[[], WordCount]] = {}


def new_word_count(spec: PretokSpec, *, fast: bool = True) -> WordCount:
    """An empty :class:`WordCount` for ``spec`` (its pipeline is built once per process). ``fast=False``:
    byte-level words are always cut by HF's ``pre_tokenize_str`` instead of :mod:`tokcli.pretok.regex_cutter`
    (the same counts, slower; for checks)."""
    factory = _BUILT.get((spec, fast))
    if factory is None:
        factory = _BUILT[spec, fast] = _spm_counter(spec.rule) if spec.kind == "spm" else _hf_counter(spec, fast)
    return factory()


def word_counter(spec: PretokSpec, *, fast: bool = True) -> WordCounter:
    """The function texts -> word counts."""

    def count(texts: Iterable[str]) -> Counter[bytes]:
        total = new_word_count(spec, fast=fast)
        total.add(texts)
        return total.counts()

    return count


def fast_cutter(spec: PretokSpec) -> Cutter | None:
    """The regex word cutter proven identical to HF's pre-tokenizer for ``spec``, or None (HF cuts)."""
    if spec.kind == "spm" or spec.words != "bytes":
        return None
    if spec.kind == "hf-bpe":
        return splitter(preset_pattern(spec.preset, key="count.pretok"), DIGIT_PATTERNS.get(spec.digits))
    found = pattern_of(orjson.loads(Path(spec.path).read_bytes()).get("pre_tokenizer"))
    return splitter(found, None) if found is not None else None


def word_cutter(spec: PretokSpec) -> str:
    """Which code cuts the words of ``spec``: ``regex`` (the fast path), ``hf`` or ``sentencepiece``."""
    if spec.kind == "spm":
        return "sentencepiece"
    return "regex" if fast_cutter(spec) is not None else "hf"


def _hf_counter(spec: PretokSpec, use_fast: bool) -> Callable[[], WordCount]:
    from tokcli.bpe.byte_level import unicode_to_bytes

    if spec.kind == "hf-bpe":
        normalizer, pre = hf_normalizer(spec.normalizer), bpe_pre_tokenizer(spec.preset, spec.digits)
    else:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(spec.path)
        normalizer, pre = tokenizer.normalizer, tokenizer.pre_tokenizer
        if pre is None:
            raise ConfigError(f"count.pretok {spec.path}: the tokenizer has no pre-tokenizer to count words with")
    fast = fast_cutter(spec) if use_fast else None
    byte_level = spec.words == "bytes"
    # byte-level character -> the byte it stands for, as a one-character latin-1 string
    to_latin1 = str.maketrans({char: chr(byte) for char, byte in unicode_to_bytes().items()})
    split = pre.pre_tokenize_str
    norm = normalizer.normalize_str if normalizer is not None else None

    class HfCount(WordCount):
        def __init__(self) -> None:
            self.words: Counter[str] = Counter()  # cut by HF (byte-level strings when byte_level)
            self.plain: Counter[str] = Counter()  # cut by ``fast``: their UTF-8 bytes are the byte-level words

        def add(self, texts: Iterable[str]) -> None:
            words, plain = self.words, self.plain
            remaining = iter(texts)
            while chunk := list(itertools.islice(remaining, 256)):
                if norm is not None:
                    chunk = [norm(text) for text in chunk]
                if fast is None:
                    for text in chunk:
                        words.update([w for w, _ in split(text)])
                    continue
                known = len(plain)
                for text in chunk:
                    plain.update(fast.words(text))
                # a text HF must cut put a word holding one of its characters among the new keys: find
                # such texts, move their words from ``plain`` to HF's count (rare: new or changed code points)
                if len(plain) > known and fast.dirty("".join(itertools.islice(plain, known, None))):
                    for text in chunk:
                        if fast.dirty(text):
                            plain.subtract(fast.words(text))
                            words.update([w for w, _ in split(text)])
                    for word in [w for w, n in plain.items() if n == 0]:
                        del plain[word]

        def counts(self) -> Counter[bytes]:
            if not byte_level:
                return Counter({w.encode("utf-8"): n for w, n in self.words.items()})
            out = Counter({w.encode("utf-8"): n for w, n in self.plain.items()})
            for w, n in self.words.items():
                out[w.translate(to_latin1).encode("latin-1")] += n
            return out

    return HfCount


def _spm_counter(rule: str) -> Callable[[], WordCount]:
    """Words as sentencepiece's trainer sees them: each line (as ``tokcli train`` feeds them) normalised
    with ``rule`` and cut before every ``▁``."""
    import sentencepiece as spm

    normalize = spm.SentencePieceNormalizer(rule_name=rule).normalize

    class SpmCount(WordCount):
        def __init__(self) -> None:
            self.words: Counter[str] = Counter()

        def add(self, texts: Iterable[str]) -> None:
            words = self.words
            for text in texts:
                for line in text.splitlines():
                    if not line.strip() or len(line.encode("utf-8")) > MAX_SENTENCE_LENGTH:
                        continue
                    parts = normalize(line).split("\u2581")
                    if parts[0]:
                        words[parts[0]] += 1
                    words.update(["\u2581" + p for p in parts[1:]])

        def counts(self) -> Counter[bytes]:
            return Counter({w.encode("utf-8"): n for w, n in self.words.items()})

    return SpmCount


# ---------------------------------------------------------------------------------------------------
# Map and reduce tasks (top-level functions: they run in worker processes)


@dataclass(frozen=True)
class MapTask:
    """Count ``splits`` and spill the counts to ``spill``; or, when ``folder`` is set (the run's only map
    task), write the finished parts there (no spill, no reduce)."""

    splits: tuple[Split, ...]
    corpus: CorpusConfig
    spec: PretokSpec
    by_source: bool
    partitions: int
    spill: str
    folder: str | None = None


@dataclass(frozen=True)
class PartInfo:
    file: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class SplitStats:
    docs: dict[str, int]
    bytes: dict[str, int]
    words: dict[str, int]
    parts: tuple[PartInfo, ...] = ()  # written by a task with ``folder``


def spill_path(spill: str, split: int, part: int) -> Path:
    return Path(spill) / f"split-{split:05d}.part-{part:05d}.arrow"


def count_split(task: MapTask) -> SplitStats:
    """Map: count the splits' words; spill them, one Arrow file per partition, or write the parts."""
    import numpy as np
    import pyarrow as pa

    per_source: dict[str, WordCount] = {}
    docs: dict[str, int] = {}
    nbytes: dict[str, int] = {}
    for split in task.splits:
        for batch in read_split(split, task.corpus):
            source = batch.sources if isinstance(batch.sources, str) else split.source
            key = source if task.by_source else ""
            total = per_source.get(key)
            if total is None:
                total = per_source[key] = new_word_count(task.spec)
            total.add(batch.texts)
            docs[source] = docs.get(source, 0) + len(batch)
            nbytes[source] = nbytes.get(source, 0) + batch.total()
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
    table = _counts_table(sources, words, numbers, task.by_source)
    partitions = task.partitions
    part_of = np.fromiter((crc32(w) % partitions for w in words), np.int64, len(words)) if partitions > 1 else None
    infos: list[PartInfo] = []
    for p in range(partitions):
        data = table if part_of is None else table.take(_arrow(np.flatnonzero(part_of == p)))
        if task.folder is not None:
            infos.append(_write_part(Path(task.folder), p, data, task.by_source))
            continue
        target = spill_path(task.spill, task.splits[0].index, p)
        tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, data.schema) as writer:
            writer.write_table(data)
        os.replace(tmp, target)
    return SplitStats(docs=docs, bytes=nbytes, words=totals, parts=tuple(infos))


def _counts_table(sources: list[str], words: list[bytes], numbers: list[int], by_source: bool) -> Any:
    import numpy as np
    import pyarrow as pa

    columns: dict[str, Any] = {}
    if by_source:
        columns["source"] = _arrow_strings([s.encode("utf-8") for s in sources], pa.string())
    columns["word"] = _arrow_strings(words, pa.binary())
    columns["count"] = _arrow(np.fromiter(numbers, np.int64, len(numbers)))
    return pa.table(columns)


# Arrow arrays are built from, and read back as, their buffers: ``pa.array`` on a Python list or a
# NumPy array, ``to_numpy``, ``group_by`` and compute functions given a Python scalar all import
# pandas, 0.2-0.4 s in every worker process (a sixth of a 20 MB count on two workers).


def _arrow(values: Any) -> Any:
    """A NumPy int64 array as an Arrow array (no copy)."""
    import pyarrow as pa

    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def _numpy_int64(array: Any) -> Any:
    """An Arrow int64 array without nulls as a NumPy view of its buffer."""
    import numpy as np

    return np.frombuffer(array.buffers()[1], dtype=np.int64, count=len(array), offset=8 * array.offset)


def _numpy_bools(array: Any) -> Any:
    """An Arrow boolean array without nulls as NumPy booleans (its bits unpacked, least significant first)."""
    import numpy as np

    bits = np.unpackbits(np.frombuffer(array.buffers()[1], dtype=np.uint8), bitorder="little")
    return bits[array.offset : array.offset + len(array)].astype(bool)


def _arrow_strings(items: list[bytes], kind: Any) -> Any:
    """Byte strings as an Arrow binary (or, with UTF-8 items, string) array: offsets and one data buffer."""
    import numpy as np
    import pyarrow as pa

    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, items), np.int64, len(items)), out=offsets[1:])
    large = pa.large_binary() if kind == pa.binary() else pa.large_string()
    data = pa.Array.from_buffers(large, len(items), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(items))])
    return data.cast(kind)


@dataclass(frozen=True)
class ReduceTask:
    part: int
    splits: tuple[int, ...]  # the first split of every map task (its spill files' names)
    spill: str
    folder: str
    by_source: bool


def part_name(part: int) -> str:
    return f"part-{part:05d}.parquet"


def reduce_part(task: ReduceTask) -> PartInfo:
    """Reduce: sum one partition over all map tasks, sort, and write it as Parquet."""
    import pyarrow as pa

    tables = []
    for split in task.splits:
        with pa.memory_map(str(spill_path(task.spill, split, task.part))) as source:
            tables.append(pa.ipc.open_file(source).read_all())
    table = pa.concat_tables(tables)
    if len(tables) == 1:
        return _write_part(Path(task.folder), task.part, table, task.by_source)
    return _write_part(Path(task.folder), task.part, _sum_duplicates(table, by_source=task.by_source), None)


def _sum_duplicates(table: Any, *, by_source: bool) -> Any:
    """One row per (source, word), its counts summed, sorted (a sort and NumPy's ``add.reduceat``:
    Arrow's ``group_by`` would import pandas). The keys are handled as 64-bit-offset (large) arrays so
    that one partition's spills may hold more than 2 GB of words; the result gets the input's types back
    unless it is itself that large."""
    import pyarrow as pa

    keys = ["source", "word"] if by_source else ["word"]
    schema = table.schema
    large = {"source": pa.large_string(), "word": pa.large_binary(), "count": pa.int64()}
    table = table.cast(pa.schema([(name, large[name]) for name in schema.names]))
    table = table.sort_by([(k, "ascending") for k in keys]).combine_chunks()
    if table.num_rows >= 2:
        table = _sum_sorted(table, keys)
    try:
        return table.cast(schema)
    except pa.ArrowInvalid:  # more than 2 GB of distinct words in one part
        return table


def _sum_sorted(table: Any, keys: list[str]) -> Any:
    """``table`` (sorted by ``keys``, one chunk, two rows or more) with each run of equal keys summed."""
    import numpy as np
    import pyarrow.compute as pc

    new = np.ones(table.num_rows, dtype=bool)
    differs = None
    for key in keys:
        column = table.column(key).chunk(0)
        step = pc.not_equal(column.slice(1), column.slice(0, table.num_rows - 1))
        differs = step if differs is None else pc.or_(differs, step)
    new[1:] = _numpy_bools(differs)
    starts = np.flatnonzero(new)
    counts = np.add.reduceat(_numpy_int64(table.column("count").chunk(0)), starts)
    table = table.take(_arrow(starts))
    return table.set_column(table.schema.get_field_index("count"), "count", _arrow(counts))


def _write_part(folder: Path, part: int, table: Any, by_source: bool | None) -> PartInfo:
    """One Parquet part: ``table``'s rows (unique keys) sorted by (source, word) (``by_source`` None:
    ``table`` is sorted already)."""
    import pyarrow.parquet as pq

    if by_source is not None:
        keys = ["source", "word"] if by_source else ["word"]
        table = table.sort_by([(k, "ascending") for k in keys]).combine_chunks()
    target = folder / part_name(part)
    with atomic_write(target, "wb") as handle:
        pq.write_table(table, handle, compression="zstd")
    from tokcli.files import sha256_file

    return PartInfo(file=target.name, rows=table.num_rows, sha256=sha256_file(target))


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
# worker's start and first imports cost ~0.4 s of CPU, about what counting 4 MB takes (through the CLI,
# 2 workers vs 1: 4 MB 1.0x, 8 MB 1.2x, 12 MB 1.3x, 20 MB 1.5x; docs/benchmarks.md, stop 17).
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


def run_count(
    config: CountConfig,
    corpus: CorpusConfig,
    scale: ScaleConfig,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> CountResult:
    """Count, reduce and move the finished folder to ``config.output``."""
    if not config.output:
        raise UsageError("count needs an output folder", hint="give -o/--output DIR")
    output = Path(config.output)
    spec = parse_pretok(config.pretok, config.digits, config.normalizer)
    splits = plan_count(corpus, scale.split_size)
    started = time.monotonic()
    cutter = word_cutter(spec)  # proves (or loads) the fast path here, before any worker needs it
    with staged_folder(output) as stage:
        spill = stage / ".spill"
        spill.mkdir()
        by_source = config.by == "source"
        docs: Counter[str] = Counter()
        nbytes: Counter[str] = Counter()
        words: Counter[str] = Counter()
        worth = max(1, -(-sum(s.size for s in splits) // BYTES_PER_WORKER))
        with open_engine(scale, tasks=len(splits), worth=worth) as engine:
            # in this process (--workers 1) one task counts every split and writes the parts itself:
            # no spill and no reduce; otherwise one task per split, then one reduce task per part
            one_task = isinstance(engine, InProcess) or len(splits) == 1
            groups = [tuple(splits)] if one_task else [(s,) for s in splits]
            direct = str(stage) if len(groups) == 1 else None
            maps = [MapTask(g, corpus, spec, by_source, config.partitions, str(spill), direct) for g in groups]
            parts: list[PartInfo] = []
            for done, stats in enumerate(engine.map(count_split, maps), 1):
                docs.update(stats.docs)
                nbytes.update(stats.bytes)
                words.update(stats.words)
                parts += stats.parts
                if progress is not None:
                    progress("counting", done, len(maps))
            if sum(docs.values()) == 0:
                raise InputError(
                    f"no documents in {', '.join(corpus.inputs)}", hint="check the inputs and --text-field"
                )
            if direct is None:
                first = tuple(g[0].index for g in groups)
                reduces = [ReduceTask(p, first, str(spill), str(stage), by_source) for p in range(config.partitions)]
                for done, info in enumerate(engine.map(reduce_part, reduces), 1):
                    parts.append(info)
                    if progress is not None:
                        progress("reducing", done, len(reduces))
            workers = engine.workers
            engine_name = engine.name
            address = engine.address
        shutil.rmtree(spill)
        sources = {
            name: {"docs": docs[name], "bytes": nbytes[name]} | ({"words": words[name]} if by_source else {})
            for name in sorted(docs)
        }
        manifest = {
            "format": FORMAT,
            "version": 1,
            "pretok": spec.describe(),
            "words_encoding": spec.words,
            "by": config.by,
            "partitions": config.partitions,
            "parts": [{"file": p.file, "rows": p.rows, "sha256": p.sha256} for p in parts],
            "distinct": sum(p.rows for p in parts),
            "docs": sum(docs.values()),
            "bytes": sum(nbytes.values()),
            "words": sum(words.values()),
            "sources": sources,
            "splits": len(splits),
            "inputs": list(corpus.inputs),
            "tokcli": __version__,
        }
        with atomic_write(stage / MANIFEST, "wb") as handle:
            handle.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    wall_s = round(time.monotonic() - started, 3)
    return CountResult(output, manifest, engine_name, workers, wall_s, address, word_cutter=cutter)


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


# ---------------------------------------------------------------------------------------------------
# Reading counts back


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    try:
        manifest = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(
            f"{folder}: no {MANIFEST} (not a finished tokcli count output)", hint="run tokcli count -o FOLDER first"
        ) from None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InputError(f"{path}: unreadable ({exc})", hint="re-run tokcli count") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{path}: not a tokcli counts manifest", hint="point at the folder written by tokcli count")
    return manifest


def iter_part(path: Path, by_source: bool) -> Iterator[tuple[str, bytes, int]]:
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
        for batch in handle.iter_batches(batch_size=65536):
            sources = batch.column("source").to_pylist() if by_source else [""] * batch.num_rows
            yield from zip(sources, batch.column("word").to_pylist(), batch.column("count").to_pylist(), strict=True)
    except FileNotFoundError:
        raise InputError(f"{path}: missing part of the counts", hint="re-run tokcli count") from None
    except Exception as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(
            f"{path}: unreadable counts part ({type(exc).__name__}: {exc})", hint="re-run tokcli count"
        ) from None


def iter_counts(
    folder: str | os.PathLike[str], manifest: dict[str, Any] | None = None
) -> Iterator[tuple[str, bytes, int]]:
    """All (source, word, count) rows in (source, word) order ("" as the source without ``--by source``)."""
    manifest = manifest or read_manifest(folder)
    by_source = manifest.get("by") == "source"
    parts = [iter_part(Path(folder) / p["file"], by_source) for p in manifest["parts"]]
    return heapq.merge(*parts)


def counts_sha256(folder: str | os.PathLike[str]) -> str:
    """SHA-256 of the sorted rows, independent of how they are split into parts."""
    digest = hashlib.sha256()
    for source, word, count in iter_counts(folder):
        s = source.encode("utf-8")
        digest.update(len(s).to_bytes(4, "little") + s + len(word).to_bytes(4, "little") + word)
        digest.update(count.to_bytes(8, "little"))
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------------
# Per-source counts for infer-mixture --counts

PROBE_TEXTS = (
    "Hello world, it's 2024: don't stop!  Tabs\tand\nnew lines\r\n  ",
    "def f(x):\n    return x ** 2  # 12345678\n",
    "Ünïcödé café naïve ﬁne ＡＢＣ１２３ — «quotes» … ",
    "人人生而自由，在尊严和权利上一律平等。 すべての人間は、生まれながらにして自由である。",
    "Все люди рождаются свободными. كل الناس أحرار. सभी मनुष्य स्वतंत्र हैं। មនុស្សទាំងអស់",
)


def source_word_counts(
    folder: str | os.PathLike[str], same_words: Callable[[Iterable[str]], Counter[bytes]]
) -> dict[str, tuple[Counter[bytes], int]]:
    """Per source (category): its word counts and the bytes of text they came from.

    ``same_words`` is how the consumer cuts text into words; the counts must have been made the same
    way, which is checked on probe texts (a mismatch is a ConfigError naming the fix)."""
    manifest = read_manifest(folder)
    if manifest.get("by") != "source":
        raise InputError(
            f"{folder}: the counts have no sources (counted without --by source)",
            hint="recount with 'tokcli count --by source', one input file or folder per category",
        )
    spec = _spec_of(manifest)
    if spec is not None:
        ours = word_counter(spec)
        for text in PROBE_TEXTS:
            if ours([text]) != same_words([text]):
                raise ConfigError(
                    f"{folder}/manifest.json: the counts were made with --pretok {_pretok_flag(manifest)}, "
                    "which does not cut words as this tokenizer does",
                    hint="recount with 'tokcli count --by source --pretok TOKENIZER.json' (the tokenizer itself)",
                )
    out: dict[str, tuple[Counter[bytes], int]] = {}
    sources = manifest.get("sources", {})
    for source, word, count in iter_counts(folder, manifest):
        entry = out.get(source)
        if entry is None:
            entry = out[source] = (Counter(), int(sources.get(source, {}).get("bytes", 0)))
        entry[0][word] += count
    return out


def _spec_of(manifest: dict[str, Any]) -> PretokSpec | None:
    pretok = manifest.get("pretok", {})
    kind = pretok.get("kind")
    if kind == "hf-bpe":
        return PretokSpec(
            "hf-bpe", preset=pretok["preset"], digits=pretok["digits"], normalizer=tuple(pretok["normalizer"])
        )
    if kind == "spm":
        return PretokSpec("spm", rule=pretok["rule"])
    if kind == "tokenizer" and Path(pretok.get("path", "")).is_file():
        return PretokSpec("tokenizer", path=pretok["path"], sha256=pretok.get("sha256", ""))
    return None


def _pretok_flag(manifest: dict[str, Any]) -> str:
    pretok = manifest.get("pretok", {})
    return str(pretok.get("preset") or (f"spm:{pretok['rule']}" if "rule" in pretok else pretok.get("path")))
