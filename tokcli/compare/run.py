"""``tokcli compare``: every tokenizer over every corpus, each corpus read once and encoded once per tokenizer.

Rows are (tokenizer, corpus) pairs carrying the metrics of :mod:`tokcli.metrics`; on parallel corpora
each row also has the token premium against the reference language (Petrov et al., NeurIPS 2023:
tokens(language) / tokens(reference), special tokens never added). The summary has one row per
tokenizer: totals over all corpora, digit grouping, vocabulary overlap with the other tokenizers.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokcli.corpus import Corpus, CorpusConfig
from tokcli.errors import InputError, TokcliError
from tokcli.metrics import (
    MetricsAccumulator,
    TextBatch,
    bootstrap_ratio_ci,
    bytes_to_chars,
    char_offsets,
    digit_style,
    jaccard,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from tokcli.loading.base import IdArrays, LoadedTokenizer

    _Encoded = dict[str, tuple[list[list[int]] | IdArrays, float]]  # ids (lists or arrays), encoding seconds

REFERENCE_LANGUAGES = ("eng_Latn", "en", "eng")
# Probe numbers for the digit-grouping column: lengths not multiples of 3 tell ltr3 from rtl3.
DIGIT_PROBES = ("1234567", "12345", "3.14159", "98765432", "2024", "1000000", "31415926535")
_OFFSET_CHECK_DOCS = 64  # documents per tokenizer whose token bytes are checked against the text


@dataclass(frozen=True)
class CompareConfig:
    """Options of ``tokcli compare`` (YAML section ``compare``)."""

    tokenizers: tuple[str, ...] = field(
        default=(), metadata={"help": "tokenizer SPEC or NAME=SPEC (repeatable)", "path": "spec"}
    )
    pattern: str | None = field(
        default=None, metadata={"help": "pre-tokenization preset or regex for ranks files without a known hash"}
    )
    parallel: str | None = field(
        default=None, metadata={"help": "folder of a parallel corpus: one file per language", "path": True}
    )
    reference: str | None = field(
        default=None, metadata={"help": "reference language of --parallel (default: English if present)"}
    )
    renyi_alpha: float = field(default=2.5, metadata={"help": "order of the Rényi entropy"})
    bootstrap: int = field(default=0, metadata={"help": "bootstrap resamples for 95% confidence intervals (0: off)"})
    seed: int = field(default=0, metadata={"help": "seed for the bootstrap"})
    batch_size: int = field(default=2000, metadata={"help": "documents encoded per batch"})
    threads: int | None = field(default=None, metadata={"help": "encoding threads (default or 0: all CPUs)"})
    keep_going: bool = field(default=False, metadata={"help": "report an unreadable corpus and go on with the others"})
    plot: str | None = field(
        default=None,
        metadata={"help": "write a chart to FILE.svg, FILE.html or FILE.png", "path": True, "output": True},
    )

    def __post_init__(self) -> None:
        if self.bootstrap < 0:
            raise ValueError("bootstrap must be >= 0")
        if self.batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if self.threads is not None and self.threads < 0:
            raise ValueError("threads must be 0 (all CPUs) or more")


@dataclass(frozen=True)
class CorpusSpec:
    """One corpus to measure: a display name and the files it is read from."""

    name: str
    paths: tuple[str, ...]
    parallel: bool = False


@dataclass
class CompareResult:
    meta: dict[str, Any]
    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    errors: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------
# Which corpora


def plan_corpora(inputs: Sequence[str], parallel: str | None) -> list[CorpusSpec]:
    """Each input file is one corpus named by its stem (``NAME=PATH`` overrides); a folder is one
    corpus per file; ``parallel`` is a folder with one file per language."""
    specs: list[CorpusSpec] = []
    for item in inputs:
        name, sep, path = item.partition("=")
        if not sep or "/" in name or not name:
            name, path = "", item
        p = Path(path)
        if p.is_dir():
            files = _corpus_files(p)
            if not files:
                raise InputError(f"{p}: folder holds no corpus files")
            specs += [CorpusSpec(_stem(f), (str(f),)) for f in files]
        else:
            specs.append(CorpusSpec(name or _stem(p), (path,)))
    if parallel is not None:
        folder = Path(parallel)
        if not folder.is_dir():
            raise InputError(f"--parallel {folder}: not a folder", hint="give the folder holding one file per language")
        files = _corpus_files(folder)
        if len(files) < 1:
            raise InputError(f"--parallel {folder}: no files found")
        specs += [CorpusSpec(_stem(f), (str(f),), parallel=True) for f in files]
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(
            f"two corpora are named {duplicates[0]!r}", hint="name them apart with NAME=PATH on the command line"
        )
    if not specs:
        raise InputError("no corpus given", hint="pass corpus files, folders, or --parallel DIR")
    return specs


def _corpus_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".zst", ".zstd"):
        name = name.removesuffix(suffix)
    return name.split(".")[0] if name.endswith((".txt", ".jsonl", ".json", ".parquet", ".csv", ".tsv")) else name


# ---------------------------------------------------------------------------------------------------
# Offsets: in-context character spans of tokens, from the tokens' own bytes


def char_offsets_from_bytes(text: str, lengths: npt.NDArray[np.int64], shift: int = 0) -> npt.NDArray[np.int64]:
    """(start, end) character offsets of consecutive tokens whose byte lengths are ``lengths``.

    ``shift`` is subtracted from byte positions (1 for sentencepiece's dummy-prefix space). A token
    that starts inside a multi-byte character is counted as overlapping that character.
    """
    import numpy as np

    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    ends = np.clip(np.cumsum(lengths) - shift, 0, data.size)
    starts = np.clip(ends - lengths, 0, data.size)
    return bytes_to_chars(data, starts, ends)


class _OffsetAligner:
    """Decides once per tokenizer whether its token bytes spell the text (lossless tokenizers) and
    then gives the byte length of every token of a batch. Tokenizers that normalise text give no
    offsets, and their fertility is reported as missing rather than guessed."""

    def __init__(self, tokenizer: LoadedTokenizer) -> None:
        import numpy as np

        table = tokenizer.token_bytes_table
        self._table = table
        self._lengths = np.fromiter((len(b) for b in table), dtype=np.int64, count=len(table))
        self._checked = 0
        self.shift: int | None = None  # bytes before the text (1: sentencepiece's dummy prefix space)
        self.note = ""

    def token_lengths(
        self, batch: TextBatch, ids: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
        """Byte length of every token of the batch (``ids``: all ids in order, ``counts`` per document)
        and their running sum, or None when the tokens do not spell the text. Sets ``shift``."""
        import numpy as np

        if self.note:
            return None
        if ids.size and int(ids.max()) >= self._lengths.size:
            self._give_up("ids beyond the token table")
            return None
        lengths = self._lengths[ids]
        ends = np.cumsum(lengths)
        bound = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=bound[1:])
        spelled = np.diff(np.where(bound > 0, ends[bound - 1], 0)) if ids.size else np.zeros(counts.size, np.int64)
        non_empty = batch.doc_bytes > 0
        shifts = (spelled - batch.doc_bytes)[non_empty]
        seen = {int(shifts.min()), int(shifts.max())} if shifts.size else set()
        if self.shift is not None:
            seen.add(self.shift)
        if len(seen) > 1 or not seen <= {0, 1}:
            self._give_up("token bytes do not spell the text (the tokenizer normalises it)")
            return None
        if seen:
            self.shift = seen.pop()
        shift = self.shift or 0
        table = self._table
        for i in range(min(counts.size, _OFFSET_CHECK_DOCS - self._checked)):  # spot-check the bytes themselves
            self._checked += 1
            joined = b"".join(map(table.__getitem__, ids[bound[i] : bound[i + 1]].tolist()))
            text = batch.texts[i].encode("utf-8", "surrogatepass")
            if non_empty[i] and (joined[shift:] != text or joined[:shift] != b" " * shift):
                self._give_up("token bytes do not spell the text (the tokenizer normalises it)")
                return None
        return lengths, ends

    def batch_offsets(self, texts: Sequence[str], ids: Sequence[npt.NDArray[np.int64]]) -> npt.NDArray[np.int64] | None:
        """(start, end) character offsets of every token of the batch within ``"\\n".join(texts)``."""
        import numpy as np

        batch = TextBatch.of(texts)
        counts = np.fromiter((a.size for a in ids), dtype=np.int64, count=len(ids))
        flat = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        spelled = self.token_lengths(batch, flat.astype(np.int64, copy=False), counts)
        return None if spelled is None else char_offsets(batch, counts, spelled[0], self.shift or 0)

    def offsets(self, text: str, ids: Sequence[int] | npt.NDArray[np.int64]) -> npt.NDArray[np.int64] | None:
        import numpy as np

        return self.batch_offsets([text], [np.asarray(ids, dtype=np.int64)])

    def fresh(self) -> _OffsetAligner:
        """An aligner for the same tokenizer that has seen no text yet (the token table is shared)."""
        other = copy.copy(self)
        other._checked, other.shift, other.note = 0, None, ""
        return other

    def _give_up(self, why: str) -> None:
        self.note = f"fertility unavailable: {why}"


# ---------------------------------------------------------------------------------------------------
# The run


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


ProgressCallback = Callable[[str, int], None]


@dataclass
class _Cell:
    accumulator: MetricsAccumulator
    encode_seconds: float = 0.0


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
    from tokcli.loading.base import default_threads

    if not tokenizers:
        raise InputError("no tokenizer given", hint="pass one or more -t SPEC")
    threads = config.threads or default_threads()
    aligners: dict[str, _OffsetAligner] = {}  # these two are built while the first batch is encoded
    fallback_ids: dict[str, tuple[int, ...]] = {}
    cells: dict[tuple[str, str], _Cell] = {}
    errors: list[str] = []
    corpus_sizes: dict[str, int] = {}
    failed: set[str] = set()

    def new_cells() -> dict[str, _Cell]:
        if not aligners:
            aligners.update({t.name: _OffsetAligner(t) for t in tokenizers})
            fallback_ids.update({t.name: tuple(t.byte_fallback_ids) for t in tokenizers})
        return {
            t.name: _Cell(
                MetricsAccumulator(
                    t.vocab_size,
                    byte_fallback_ids=fallback_ids[t.name],
                    unk_id=t.unk_id,
                    renyi_alpha=config.renyi_alpha,
                )
            )
            for t in tokenizers
        }

    def stream() -> Iterator[tuple[CorpusSpec, list[str] | None]]:
        """(corpus, batch) for every corpus in turn, then (corpus, None) when a corpus is complete.
        With --keep-going a corpus that fails is recorded and skipped."""
        for spec in corpora:
            # Parallel files must stay line-aligned, so their empty lines are documents too.
            reader = Corpus(dataclasses.replace(corpus_config, inputs=spec.paths, mix=(), keep_empty=spec.parallel))
            try:
                for texts in reader.text_batches(config.batch_size):
                    yield spec, texts
                    if progress is not None:
                        progress(spec.name, reader.stats.bytes)
                if reader.stats.docs == 0:
                    raise InputError(f"corpus {spec.name} ({', '.join(spec.paths)}) is empty")
                corpus_sizes[spec.name] = reader.stats.bytes
            except TokcliError as exc:
                if not config.keep_going:
                    raise
                errors.append(f"{spec.name}: {exc}")
                failed.add(spec.name)
            yield spec, None

    def encode_all(texts: list[str]) -> _Encoded:
        encoded: _Encoded = {}
        for tok in tokenizers:
            started = time.perf_counter()
            # tiktoken gives the ids as arrays without making Python lists; other engines give lists
            arrays = tok.encode_batch_array(texts, threads=threads)
            ids = arrays if arrays is not None else tok.encode_batch(texts, add_special_tokens=False, threads=threads)
            encoded[tok.name] = (ids, time.perf_counter() - started)
        return encoded

    current: dict[str, _Cell] = {}

    def measure(texts: list[str], job: Future[_Encoded]) -> None:
        """Every metric of one batch, on this thread while the worker encodes the next batch (which
        is why the ids are flattened here: the worker goes straight on to the next batch)."""
        import numpy as np

        nonlocal current
        current = current or new_cells()
        batch = TextBatch.of(texts)  # the text in UTF-8 once, for every tokenizer
        for name, (ids, seconds) in job.result().items():
            cell = current[name]
            cell.encode_seconds += seconds
            if isinstance(ids, tuple):
                flat, counts = ids
            else:
                counts = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
                flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=int(counts.sum()))
            aligner = aligners[name]
            spelled = aligner.token_lengths(batch, flat, counts)
            lengths, ends = spelled if spelled is not None else (None, None)
            cell.accumulator.add_spelled(batch, flat, counts, lengths, aligner.shift or 0, ends)

    def complete(spec: CorpusSpec) -> None:
        nonlocal current
        if spec.name not in failed:
            for tok_name, cell in (current or new_cells()).items():
                cells[(tok_name, spec.name)] = cell
        current = {}

    # The tokenizer libraries release the GIL: batch k+1 (of this corpus or the next) is encoded while
    # batch k is measured. The end of a corpus only waits in the queue, so the worker never idles
    # between corpora; everything is measured in stream order.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokcli-compare") as pool:
        queue: deque[tuple[CorpusSpec, list[str] | None, Future[_Encoded] | None]] = deque()
        in_flight = 0
        for spec, texts in stream():
            job = pool.submit(encode_all, texts) if texts is not None else None
            queue.append((spec, texts, job))
            in_flight += job is not None
            while queue and (queue[0][2] is None or in_flight > 1):
                spec, texts, job = queue.popleft()
                if texts is None or job is None:
                    complete(spec)
                else:
                    measure(texts, job)
                    in_flight -= 1
        for spec, texts, job in queue:
            if texts is None or job is None:
                complete(spec)
            else:
                measure(texts, job)

    measured = [s for s in corpora if (tokenizers[0].name, s.name) in cells]
    rows = _rows(config, tokenizers, measured, cells, aligners)
    summary = _summary(config, tokenizers, measured, cells, aligners)
    meta = {
        "add_special_tokens": False,
        "renyi_alpha": config.renyi_alpha,
        "bootstrap": config.bootstrap,
        "threads": threads,
        "tokenizers": [
            {
                "name": t.name,
                "path": str(t.info.path),
                "sha256": t.info.sha256,
                "kind": t.info.kind,
                "engine": t.info.engine,
                "vocab_size": t.vocab_size,
            }
            for t in tokenizers
        ],
        "corpora": [
            {"name": s.name, "paths": list(s.paths), "bytes": corpus_sizes.get(s.name), "parallel": s.parallel}
            for s in corpora
        ],
        "reference": _reference_name(config, measured),
        "mb_per_s": "machine-dependent: encode time only, measured in this run",
        "errors": errors,
    }
    return CompareResult(meta=meta, rows=rows, summary=summary, errors=errors)


def _reference_name(config: CompareConfig, corpora: Sequence[CorpusSpec]) -> str | None:
    parallel = [s.name for s in corpora if s.parallel]
    if not parallel:
        return None
    if config.reference is not None:
        if config.reference not in parallel:
            raise InputError(
                f"reference language {config.reference!r} is not in --parallel",
                hint="choose one of: " + ", ".join(parallel[:10]) + ("..." if len(parallel) > 10 else ""),
            )
        return config.reference
    for name in REFERENCE_LANGUAGES:
        if name in parallel:
            return name
    raise InputError("no English file in --parallel to use as the reference", hint="name one with --reference LANG")


def _rows(
    config: CompareConfig,
    tokenizers: Sequence[LoadedTokenizer],
    corpora: Sequence[CorpusSpec],
    cells: dict[tuple[str, str], _Cell],
    aligners: dict[str, _OffsetAligner],
) -> list[dict[str, Any]]:
    reference = _reference_name(config, corpora)
    parallel = [s for s in corpora if s.parallel]
    if parallel and reference is not None:
        ref_docs = len(cells[(tokenizers[0].name, reference)].accumulator.per_document()["tokens"])
        for spec in parallel:
            n = len(cells[(tokenizers[0].name, spec.name)].accumulator.per_document()["tokens"])
            if n != ref_docs:
                raise InputError(
                    f"parallel files differ in length: {spec.paths[0]} has {n} lines, "
                    f"the reference {reference} has {ref_docs}",
                    hint="every file of a parallel corpus needs the same number of lines",
                )
    rows: list[dict[str, Any]] = []
    for tok in tokenizers:
        for spec in corpora:
            cell = cells[(tok.name, spec.name)]
            metrics = cell.accumulator.result()
            row: dict[str, Any] = {"tokenizer": tok.name, "corpus": spec.name}
            row.update(dataclasses.asdict(metrics))
            row["mb_per_s"] = _mb_per_s(metrics.bytes, cell.encode_seconds)
            if spec.parallel and reference is not None:
                ref = cells[(tok.name, reference)].accumulator
                row["premium"] = metrics.tokens / ref.result().tokens if ref.result().tokens else math.nan
            if config.bootstrap:
                row.update(_intervals(config, cell.accumulator, cells, tok.name, spec, reference))
            if aligners[tok.name].note:
                row["note"] = aligners[tok.name].note
            rows.append(row)
    return rows


def _mb_per_s(n_bytes: int, seconds: float) -> float:
    return n_bytes / 1e6 / seconds if seconds > 0 else math.nan


def _intervals(
    config: CompareConfig,
    acc: MetricsAccumulator,
    cells: dict[tuple[str, str], _Cell],
    tok_name: str,
    spec: CorpusSpec,
    reference: str | None,
) -> dict[str, Any]:
    docs = acc.per_document()
    n = config.bootstrap
    out: dict[str, Any] = {
        "bytes_per_token_ci": list(bootstrap_ratio_ci(docs["bytes"], docs["tokens"], resamples=n, seed=config.seed)),
        "fertility_ci": list(bootstrap_ratio_ci(docs["unit_tokens"], docs["units"], resamples=n, seed=config.seed)),
    }
    if spec.parallel and reference is not None:
        ref_tokens = cells[(tok_name, reference)].accumulator.per_document()["tokens"]
        out["premium_ci"] = list(bootstrap_ratio_ci(docs["tokens"], ref_tokens, resamples=n, seed=config.seed))
    return out


def _summary(
    config: CompareConfig,
    tokenizers: Sequence[LoadedTokenizer],
    corpora: Sequence[CorpusSpec],
    cells: dict[tuple[str, str], _Cell],
    aligners: dict[str, _OffsetAligner],
) -> list[dict[str, Any]]:
    vocabularies = {t.name: {b for b in t.token_bytes_table if b} for t in tokenizers} if len(tokenizers) > 1 else {}
    summary = []
    for tok in tokenizers:
        results = [cells[(tok.name, s.name)].accumulator.result() for s in corpora]
        n_bytes = sum(r.bytes for r in results)
        tokens = sum(r.tokens for r in results)
        seconds = sum(cells[(tok.name, s.name)].encode_seconds for s in corpora)
        row: dict[str, Any] = {
            "tokenizer": tok.name,
            "vocab_size": tok.vocab_size,
            "corpora": len(results),
            "bytes": n_bytes,
            "tokens": tokens,
            "bytes_per_token": n_bytes / tokens if tokens else math.nan,
            "digit_style": probe_digit_style(tok, aligners.get(tok.name)),
            "mb_per_s": _mb_per_s(n_bytes, seconds),
            "overlap": {
                other.name: round(jaccard(vocabularies[tok.name], vocabularies[other.name]), 6)
                for other in tokenizers
                if other.name != tok.name
            },
        }
        premiums = [cells[(tok.name, s.name)].accumulator.result().tokens for s in corpora if s.parallel]
        if premiums:
            ref = _reference_name(config, corpora)
            ref_tokens = cells[(tok.name, ref)].accumulator.result().tokens if ref else 0
            if ref_tokens:
                ratios = [p / ref_tokens for p in premiums]
                row["premium_mean"] = sum(ratios) / len(ratios)
                row["premium_max"] = max(ratios)
        summary.append(row)
    return summary


def probe_digit_style(tokenizer: LoadedTokenizer, aligner: _OffsetAligner | None = None) -> str:
    """Encode probe numbers and classify how their digit runs are split (see metrics.classify_digit_split)."""
    import re

    aligner = _OffsetAligner(tokenizer) if aligner is None else aligner.fresh()
    runs: list[list[int]] = []
    for text in DIGIT_PROBES:
        ids = tokenizer.encode(text)
        offsets = aligner.offsets(text, ids)
        if offsets is None:
            return "unknown"
        for match in re.finditer(r"\d+", text):
            lo, hi = match.span()
            digits = [min(e, hi) - max(s, lo) for s, e in offsets.tolist() if s < hi and e > lo]
            runs.append([d for d in digits if d > 0])
    return digit_style(runs)
