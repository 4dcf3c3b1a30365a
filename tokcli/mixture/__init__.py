"""``tokcli infer-mixture``: recover the data mixture a BPE tokenizer was trained on from its merges.

Hayase, Liu, Choi, Oh, Smith (NeurIPS 2024), "Data Mixture Inference: What do BPE Tokenizers Reveal
about their Training Data?". For each candidate category, a text sample is pre-tokenized exactly as the
tokenizer does and the tokenizer's merges are replayed on it (:mod:`tokcli.mixture.replay`); a linear
program then finds the mixture weights under which every merge was the most frequent pair
(:mod:`tokcli.mixture.lp`).

Entry points: :func:`infer_mixture_from` (plain inputs: byte-pair merges, a pre-tokenizer spec and
name -> documents) and :func:`infer_mixture` (a loaded tokenizer and corpus options, for the CLI).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tokcli.bpe.pairs import SymbolSplit, pair_key
from tokcli.errors import ConfigError, InputError, TokenizerError, UsageError
from tokcli.mixture import cache
from tokcli.mixture.lp import LpResult, SolveError, solve_mixture
from tokcli.mixture.merges import NOT_BPE_HINT, MergeTable, NotBpeError, creation_order, read_hf_merges
from tokcli.mixture.replay import ReplayCounts, count_words, drop_invalid_pairs, replay
from tokcli.pretok.spec import (
    Pretokenizer,
    PretokenizerSpec,
    hf_pretokenizer,
    regex_pretokenizer,
    spm_pretokenizer,
)

if TYPE_CHECKING:
    from tokcli.corpus.reader import CorpusConfig
    from tokcli.loading.base import LoadedTokenizer

__all__ = [
    "Category",
    "InferMixtureConfig",
    "LpResult",
    "MergeTable",
    "MixtureResult",
    "NotBpeError",
    "Pretokenizer",
    "PretokenizerSpec",
    "ReplayCounts",
    "SolveError",
    "count_categories",
    "count_words",
    "hf_pretokenizer",
    "infer_mixture",
    "infer_mixture_from",
    "plan_categories",
    "pretokenizer_for",
    "read_hf_merges",
    "regex_pretokenizer",
    "replay",
    "solve_mixture",
    "spm_pretokenizer",
    "to_byte_shares",
]

Unit = Literal["bytes", "pairs"]


_CATEGORY_FIX = "write it as NAME=PATH, e.g. --category python=data/python.jsonl"


@dataclass(frozen=True)
class Category:
    """One candidate category: ``NAME=PATH[,PATH...]`` on the command line, or in YAML a mapping
    ``{name: NAME, path: PATH or [PATH, ...], text_field: FIELD}`` (text_field defaults to the corpus
    section's)."""

    name: str
    path: tuple[str, ...] = field(metadata={"path": True})
    text_field: str | None = None

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            raise ConfigError(f"category {self.name!r}: bad or missing name", hint=_CATEGORY_FIX)
        if not self.path:
            raise ConfigError(f"category {self.name!r} has no path", hint=_CATEGORY_FIX)

    @classmethod
    def from_string(cls, spec: str) -> Category:
        name, sep, paths = spec.partition("=")
        if not sep or not name or not paths:
            raise ConfigError(f"bad category {spec!r}", hint=_CATEGORY_FIX)
        return cls(name=name, path=tuple(p for p in paths.split(",") if p))


@dataclass(frozen=True)
class InferMixtureConfig:
    """Options of ``tokcli infer-mixture`` (YAML section ``infer_mixture``)."""

    tokenizer: str = field(
        default="", metadata={"help": "the BPE tokenizer (file, folder or NAME=PATH)", "path": "spec"}
    )
    pattern: str | None = field(default=None, metadata={"help": "pre-tokenization regex of a ranks file"})
    categories: tuple[Category, ...] = field(
        default=(), metadata={"help": "candidate category NAME=PATH[,PATH...] (repeatable)"}
    )
    categories_dir: str | None = field(
        default=None, metadata={"help": "folder of category files: one category per file", "path": True}
    )
    merges: int = field(default=30000, metadata={"help": "use the first T merges"})
    skip_merges: int = field(default=0, metadata={"help": "add constraints only for merges after the first K"})
    sample_bytes: int = field(
        default=100_000_000, metadata={"help": "text read per category (e.g. 100MB)", "unit": "bytes"}
    )
    unit: str = field(
        default="bytes",
        metadata={"help": "proportions of bytes, or of byte pairs as the LP sees them (bytes|pairs)"},
    )
    per_step: int = field(default=2, metadata={"help": "violated constraints added per merge step and round"})
    per_pair: int = field(default=1, metadata={"help": "violated constraints added per competing pair and round"})
    per_round: int = field(default=500, metadata={"help": "violated constraints added per round"})
    max_rounds: int = field(default=1000, metadata={"help": "rounds of lazy constraint generation"})
    threads: int | None = field(default=None, metadata={"help": "counting processes (default or 0: all CPUs)"})
    cache: bool = field(default=True, metadata={"help": "re-use per-category counts from the count cache"})
    cache_dir: str | None = field(
        default=None,
        metadata={"help": "count cache folder (default ~/.cache/tokcli/mixture)", "path": True, "output": True},
    )

    counts: str | None = field(
        default=None,
        metadata={
            "help": "per-category word counts from 'tokcli count --by source' (categories = its sources)",
            "path": True,
        },
    )

    def __post_init__(self) -> None:
        for name in ("merges", "per_step", "per_pair", "per_round", "max_rounds", "sample_bytes"):
            if getattr(self, name) < 1:
                raise UsageError(f"infer_mixture.{name} must be >= 1, not {getattr(self, name)}")
        if self.skip_merges < 0:
            raise UsageError(f"infer_mixture.skip_merges must be >= 0, not {self.skip_merges}")
        if self.threads is not None and self.threads < 0:
            raise UsageError(f"infer_mixture.threads must be 0 (all CPUs) or more, not {self.threads}")
        if self.unit not in ("bytes", "pairs"):
            raise UsageError(f"infer_mixture.unit must be bytes or pairs, not {self.unit!r}")


@dataclass
class MixtureResult:
    rows: list[dict[str, Any]]  # {"category", "proportion"}, sorted by proportion (desc), summing to 1
    meta: dict[str, Any]
    warnings: list[str]

    @property
    def proportions(self) -> dict[str, float]:
        return {row["category"]: row["proportion"] for row in self.rows}


@dataclass
class _Counted:
    counts: ReplayCounts
    cached: bool
    seconds: float


# ---------------------------------------------------------------- counting (in worker processes)

_WORKER: dict[str, Any] = {}


def _init_worker(merges: list[tuple[bytes, bytes]], split: SymbolSplit, spec: PretokenizerSpec) -> None:
    _WORKER["table"] = MergeTable.build(merges, split)
    _WORKER["spec"] = spec


def _count_one(texts: list[str], steps: int, sample_bytes: int) -> ReplayCounts:
    spec: PretokenizerSpec = _WORKER["spec"]
    counts = replay(spec.count(texts), _WORKER["table"], steps, sample_bytes=sample_bytes)
    if spec.kind == "spm":
        counts = drop_invalid_pairs(counts, _WORKER["table"], spec.max_piece_chars, spec.space_rule)
    return counts


def _replay_words(item: tuple[Counter[bytes], int], steps: int) -> ReplayCounts:
    spec: PretokenizerSpec = _WORKER["spec"]
    counts = replay(item[0], _WORKER["table"], steps, sample_bytes=item[1])
    if spec.kind == "spm":
        counts = drop_invalid_pairs(counts, _WORKER["table"], spec.max_piece_chars, spec.space_rule)
    return counts


def replay_word_counts(
    word_counts: Mapping[str, tuple[Counter[bytes], int]],
    table: MergeTable,
    pretokenizer: PretokenizerSpec,
    steps: int,
    *,
    threads: int | None = None,
) -> dict[str, _Counted]:
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
        out[name] = _Counted(counts, False, time.monotonic() - started)
    return out


def _read_sample(texts: Iterable[str], limit: int) -> tuple[list[str], int, str]:
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
) -> dict[str, _Counted]:
    """Replay counts of every category, counted in up to ``threads`` processes (never more) and
    cached on disk by (merges, pre-tokenizer, sample, T)."""
    from concurrent.futures import FIRST_COMPLETED, Future, wait

    from tokcli.loading.base import default_threads
    from tokcli.parallel.procpool import running_pool

    workers = max(1, min(threads or default_threads(), len(categories)))
    folder = Path(cache_dir) if cache_dir is not None else cache.default_cache_dir()
    merges_digest = table.digest(steps)
    identity = pretokenizer.identity
    results: dict[str, _Counted] = {}
    started: dict[str, float] = {}
    keys: dict[str, str] = {}

    def finish(name: str, counts: ReplayCounts) -> None:
        if counts.total == 0:
            raise InputError(
                f"category {name}: its sample has no byte pairs to count ({counts.sample_bytes} bytes read)",
                hint="give the category some text (check its path)",
            )
        if use_cache:
            cache.store(folder, keys[name], counts)
        results[name] = _Counted(counts, False, time.monotonic() - started[name])

    def samples() -> Iterator[tuple[str, list[str], int]]:
        for name, texts in categories.items():
            clock = time.monotonic()
            sample, size, digest = _read_sample(texts, sample_bytes)
            keys[name] = cache.cache_key(merges_digest, identity, digest, steps)
            hit = cache.load(folder, keys[name]) if use_cache else None
            if hit is not None and hit.merges == steps:
                results[name] = _Counted(hit, True, time.monotonic() - clock)
                continue
            if not size:
                raise InputError(f"category {name} has no text", hint="check its path and format")
            started[name] = clock
            yield name, sample, size

    if workers == 1:
        _init_worker(table.merge_bytes[:steps], table.split, pretokenizer)
        for name, sample, size in samples():
            finish(name, _count_one(sample, steps, size))
        return {name: results[name] for name in categories}
    initargs = (table.merge_bytes[:steps], table.split, pretokenizer)
    with running_pool(workers, _init_worker, initargs) as pool:
        running: dict[Future[ReplayCounts], str] = {}

        def drain(block_until: int) -> None:
            while len(running) > block_until:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    finish(running.pop(future), future.result())

        for name, sample, size in samples():
            drain(workers - 1)  # at most `workers` samples in memory at once
            running[pool.submit(_count_one, sample, steps, size)] = name
        drain(0)
    return {name: results[name] for name in categories}


# ---------------------------------------------------------------- the whole method


def infer_mixture_from(
    merges: Sequence[tuple[bytes, bytes]],
    pretokenizer: PretokenizerSpec,
    categories: Mapping[str, Iterable[str]],
    config: InferMixtureConfig = InferMixtureConfig(),
    *,
    added_tokens: Iterable[bytes] = (),
    tokenizer_meta: Mapping[str, Any] | None = None,
    word_counts: Mapping[str, tuple[Counter[bytes], int]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> MixtureResult:
    """Proportions of ``categories`` (name -> documents) in the data that ``merges`` (ordered byte
    pairs of a BPE tokenizer) were learnt from, with solver and sampling metadata. Merges building one
    of ``added_tokens`` (added by hand, not learnt) are dropped. ``progress`` gets a one-line status
    at each stage and LP round (a large LP takes minutes)."""
    say = progress or (lambda _: None)
    started = time.monotonic()
    if word_counts is not None:
        categories = dict.fromkeys(word_counts, ())
    if len(categories) < 2:
        raise UsageError(
            f"infer-mixture needs at least two categories, got {len(categories)}",
            hint="add --category NAME=PATH",
        )
    warnings: list[str] = []
    table = MergeTable.build(merges, pretokenizer.split, added=added_tokens)
    if not table.merges:
        raise TokenizerError("the tokenizer has no usable merge", hint="give a trained BPE tokenizer")
    steps = min(config.merges, len(table.merges))
    if config.merges > len(table.merges):
        warnings.append(f"merges={config.merges} exceeds the {len(table.merges)} usable merges; using all of them")
    if config.skip_merges >= steps:
        raise UsageError(f"skip_merges={config.skip_merges} leaves none of the {steps} merges used")
    say(f"counting and replaying {steps:,} merges in {len(categories)} categories")
    if word_counts is not None:
        counted = replay_word_counts(word_counts, table, pretokenizer, steps, threads=config.threads)
    else:
        counted = count_categories(
            categories,
            table,
            pretokenizer,
            steps,
            sample_bytes=config.sample_bytes,
            threads=config.threads,
            cache_dir=config.cache_dir,
            use_cache=config.cache,
        )
    count_seconds = time.monotonic() - started
    names = list(counted)
    replays = [counted[n].counts for n in names]
    merged = [pair_key(a, b) for a, b, _ in table.merges[:steps]]
    lp = solve_mixture(
        replays,
        merged,
        first_step=config.skip_merges,
        per_step=config.per_step,
        per_pair=config.per_pair,
        per_round=config.per_round,
        max_rounds=config.max_rounds,
        progress=lambda h: say(
            f"LP round {h['round']:.0f}: merges up to {h['phase_steps']:,.0f} of {steps:,}, "
            f"{h['rows']:,.0f} constraints, objective {h['objective']:.8g}"
        ),
    )
    if lp.violations_left:
        warnings.append(f"stopped after {lp.rounds} rounds with violated constraints left; raise max_rounds")
    by_bytes = to_byte_shares(lp.weights, replays)
    shares = by_bytes if config.unit == "bytes" else lp.weights
    ranked = sorted(zip(shares, names, strict=True), key=lambda x: (-x[0], x[1]))
    rows: list[dict[str, Any]] = [{"category": name, "proportion": round(share, 8)} for share, name in ranked]
    meta = {
        "tokenizer": dict(tokenizer_meta or {}),
        "method": "Hayase et al. 2024 (merge replay + LP, HiGHS with lazy constraints)",
        "unit": config.unit,
        "pair_shares": {n: round(w, 8) for n, w in zip(names, lp.weights, strict=True)},
        "byte_shares": {n: round(w, 8) for n, w in zip(names, by_bytes, strict=True)},
        "merges_in_file": len(merges),
        "merges_usable": len(table.merges),
        "merges_used": steps,
        "skip_merges": config.skip_merges,
        "merges_skipped": table.skipped_summary(),
        "merges_skipped_first": [{"index": i, "reason": why} for i, why in table.skipped[:20]],
        "sample_bytes": {n: counted[n].counts.sample_bytes for n in names},
        "sample_words": {n: counted[n].counts.words for n in names},
        "cached": [n for n in names if counted[n].cached],
        "solver": {
            "name": "HiGHS",
            "status": lp.status,
            "objective": lp.objective,
            "rounds": lp.rounds,
            "iterations": lp.iterations,
            "constraints": lp.constraints,
            "seconds": lp.seconds,
            "sweep_seconds": lp.sweep_seconds,
            "cover_seconds": lp.cover_seconds,
            "cover_iterations": lp.cover_iterations,
            "ipm_iterations": lp.ipm_iterations,
        },
        "timings": {"counting_s": round(count_seconds, 3), "total_s": round(time.monotonic() - started, 3)},
        "warnings": warnings,
    }
    return MixtureResult(rows=rows, meta=meta, warnings=warnings)


def to_byte_shares(pair_shares: Sequence[float], replays: Sequence[ReplayCounts]) -> list[float]:
    """Convert LP weights (shares of byte pairs: counts are normalised by each category's pair total)
    into shares of bytes: a category with P pairs in S sample bytes contributes P/S pairs per byte."""
    raw = [
        w * c.sample_bytes / c.total if c.total and c.sample_bytes else w
        for w, c in zip(pair_shares, replays, strict=True)
    ]
    total = sum(raw) or 1.0
    return [r / total for r in raw]


# ---------------------------------------------------------------- the CLI's adapter


def pretokenizer_for(tokenizer: LoadedTokenizer) -> PretokenizerSpec:
    """How ``tokenizer`` splits text into words before BPE (as its trainer did)."""
    kind = tokenizer.info.kind
    if kind in ("tiktoken", "tekken"):
        return regex_pretokenizer(tokenizer.pattern)  # type: ignore[attr-defined]
    if kind == "hf":
        return hf_pretokenizer(tokenizer.info.path)
    if kind == "spm":
        return spm_pretokenizer(tokenizer.info.path)
    raise TokenizerError(f"{tokenizer.info.path}: infer-mixture does not support {kind} tokenizers", hint=NOT_BPE_HINT)


def plan_categories(config: InferMixtureConfig) -> list[Category]:
    """Every category given by ``categories`` and ``categories_dir`` (one per file, named by its stem)."""
    categories = list(config.categories)
    if config.categories_dir is not None:
        folder = Path(config.categories_dir)
        if not folder.is_dir():
            raise InputError(f"categories_dir {folder}: not a folder", hint="give a folder with one file per category")
        for entry in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            categories.append(Category(name=entry.name.split(".")[0], path=(str(entry),)))
    names = [c.name for c in categories]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"two categories are named {twice[0]!r}", hint="give each category a distinct name")
    if len(categories) < 2:
        raise UsageError("infer-mixture needs at least two categories", hint="add --category NAME=PATH")
    return categories


def _documents(corpus_config: CorpusConfig, category: Category, limit: int) -> Iterator[str]:
    from tokcli.corpus.reader import Corpus

    changes: dict[str, Any] = {"inputs": category.path, "mix": (), "max_bytes": limit}
    if category.text_field:
        changes["text_field"] = category.text_field
    reader = Corpus(dataclasses.replace(corpus_config, **changes))
    for batch in reader.text_batches(1000):
        yield from batch


def infer_mixture(
    config: InferMixtureConfig,
    corpus_config: CorpusConfig,
    tokenizer: LoadedTokenizer,
    progress: Callable[[str], None] | None = None,
) -> MixtureResult:
    """``tokcli infer-mixture``: categories read with the corpus reader, merges from the loaded tokenizer."""
    merges = tokenizer.merges()
    if merges is None:
        raise NotBpeError(str(tokenizer.info.path), tokenizer.info.model_type)
    pretokenizer = pretokenizer_for(tokenizer)
    meta: dict[str, Any] = {"name": tokenizer.name, "path": str(tokenizer.info.path), "sha256": tokenizer.info.sha256}
    if pretokenizer.split == "chars":
        listed = len(merges)
        merges = creation_order(merges)
        if len(merges) != listed:  # a converted sentencepiece list: every split of every piece
            meta["merges_listed"] = listed
            meta["merges_rebuilt_one_per_token"] = len(merges)
    added = [tokenizer.token_bytes(i) for i in tokenizer.added_tokens.values() if tokenizer.check_id(i)]
    if config.counts is not None:
        if config.categories or config.categories_dir is not None:
            raise UsageError(
                "--counts gives the categories (its sources); --category/--categories-dir were given too",
                hint="drop one of them",
            )
        from tokcli.counts.store import source_word_counts

        words = source_word_counts(config.counts, pretokenizer.count)
        return infer_mixture_from(
            merges,
            pretokenizer,
            {},
            config,
            added_tokens=added,
            tokenizer_meta=meta,
            word_counts=words,
            progress=progress,
        )
    categories = plan_categories(config)
    # the corpus reader stops BEFORE the document that would pass its limit; ask for a little more so
    # that the sample reaches sample_bytes (infer_mixture_from cuts it there)
    limit = config.sample_bytes + 1_000_000
    texts = {c.name: _documents(corpus_config, c, limit) for c in categories}
    return infer_mixture_from(
        merges, pretokenizer, texts, config, added_tokens=added, tokenizer_meta=meta, progress=progress
    )
