"""The whole method on plain inputs: byte-pair merges, a pre-tokenizer spec and name -> documents (or
ready word counts) in, the inferred proportions with solver and sampling metadata out."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tokcli.bpe.pairs import pair_key
from tokcli.errors import TokenizerError, UsageError
from tokcli.mixture.counting import Counted, count_categories, replay_word_counts
from tokcli.mixture.lp import LpResult, solve_mixture
from tokcli.mixture.merges import MergeTable
from tokcli.mixture.options import InferMixtureConfig
from tokcli.mixture.replay import ReplayCounts
from tokcli.pretok.spec import PretokenizerSpec


@dataclass
class MixtureResult:
    rows: list[dict[str, Any]]  # {"category", "proportion"}, sorted by proportion (desc), summing to 1
    meta: dict[str, Any]
    warnings: list[str]

    @property
    def proportions(self) -> dict[str, float]:
        return {row["category"]: row["proportion"] for row in self.rows}


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
    of ``added_tokens`` (added by hand, not learnt) are dropped. ``word_counts`` (name -> (word counts,
    sample bytes)) replaces ``categories`` when given. ``progress`` gets a one-line status at each stage
    and LP round (a large LP takes minutes)."""
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
    steps = _steps_used(table, config, warnings)
    say(f"counting and replaying {steps:,} merges in {len(categories)} categories")
    counted = _count(categories, word_counts, table, pretokenizer, steps, config)
    count_seconds = time.monotonic() - started
    lp = _solve(counted, table, steps, config, say)
    if lp.violations_left:
        warnings.append(f"stopped after {lp.rounds} rounds with violated constraints left; raise max_rounds")
    names = list(counted)
    by_bytes = to_byte_shares(lp.weights, [counted[n].counts for n in names])
    shares = by_bytes if config.unit == "bytes" else lp.weights
    meta = {
        "tokenizer": dict(tokenizer_meta or {}),
        "method": "Hayase et al. 2024 (merge replay + LP, HiGHS with lazy constraints)",
        "unit": config.unit,
        "pair_shares": {n: round(w, 8) for n, w in zip(names, lp.weights, strict=True)},
        "byte_shares": {n: round(w, 8) for n, w in zip(names, by_bytes, strict=True)},
        **_merges_meta(merges, table, steps, config),
        **_sample_meta(counted),
        "solver": _solver_meta(lp),
        "timings": {"counting_s": round(count_seconds, 3), "total_s": round(time.monotonic() - started, 3)},
        "warnings": warnings,
    }
    return MixtureResult(rows=_ranked_rows(names, shares), meta=meta, warnings=warnings)


def _ranked_rows(names: Sequence[str], shares: Sequence[float]) -> list[dict[str, Any]]:
    """One row per category, by decreasing share (ties by name)."""
    ranked = sorted(zip(shares, names, strict=True), key=lambda x: (-x[0], x[1]))
    return [{"category": name, "proportion": round(share, 8)} for share, name in ranked]


def _steps_used(table: MergeTable, config: InferMixtureConfig, warnings: list[str]) -> int:
    """T: the first ``config.merges`` usable merges, or all of them (with a warning)."""
    if not table.merges:
        raise TokenizerError("the tokenizer has no usable merge", hint="give a trained BPE tokenizer")
    steps = min(config.merges, len(table.merges))
    if config.merges > len(table.merges):
        warnings.append(f"merges={config.merges} exceeds the {len(table.merges)} usable merges; using all of them")
    if config.skip_merges >= steps:
        raise UsageError(f"skip_merges={config.skip_merges} leaves none of the {steps} merges used")
    return steps


def _count(
    categories: Mapping[str, Iterable[str]],
    word_counts: Mapping[str, tuple[Counter[bytes], int]] | None,
    table: MergeTable,
    pretokenizer: PretokenizerSpec,
    steps: int,
    config: InferMixtureConfig,
) -> dict[str, Counted]:
    """Replay counts per category: from the documents (cached), or from ready word counts."""
    if word_counts is not None:
        return replay_word_counts(word_counts, table, pretokenizer, steps, threads=config.threads)
    return count_categories(
        categories,
        table,
        pretokenizer,
        steps,
        sample_bytes=config.sample_bytes,
        threads=config.threads,
        cache_dir=config.cache_dir,
        use_cache=config.cache,
    )


def _solve(
    counted: Mapping[str, Counted],
    table: MergeTable,
    steps: int,
    config: InferMixtureConfig,
    say: Callable[[str], None],
) -> LpResult:
    """The LP on the counted categories (in their order), reporting each round through ``say``."""
    merged = [pair_key(a, b) for a, b, _ in table.merges[:steps]]
    return solve_mixture(
        [c.counts for c in counted.values()],
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


def _merges_meta(
    merges: Sequence[tuple[bytes, bytes]], table: MergeTable, steps: int, config: InferMixtureConfig
) -> dict[str, Any]:
    return {
        "merges_in_file": len(merges),
        "merges_usable": len(table.merges),
        "merges_used": steps,
        "skip_merges": config.skip_merges,
        "merges_skipped": table.skipped_summary(),
        "merges_skipped_first": [{"index": i, "reason": why} for i, why in table.skipped[:20]],
    }


def _sample_meta(counted: Mapping[str, Counted]) -> dict[str, Any]:
    return {
        "sample_bytes": {n: c.counts.sample_bytes for n, c in counted.items()},
        "sample_words": {n: c.counts.words for n, c in counted.items()},
        "cached": [n for n, c in counted.items() if c.cached],
    }


def _solver_meta(lp: LpResult) -> dict[str, Any]:
    return {
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
    }


def to_byte_shares(pair_shares: Sequence[float], replays: Sequence[ReplayCounts]) -> list[float]:
    """Convert LP weights (shares of byte pairs: counts are normalised by each category's pair total)
    into shares of bytes: a category with P pairs in S sample bytes contributes P/S pairs per byte."""
    raw = [
        w * c.sample_bytes / c.total if c.total and c.sample_bytes else w
        for w, c in zip(pair_shares, replays, strict=True)
    ]
    total = sum(raw) or 1.0
    return [r / total for r in raw]
