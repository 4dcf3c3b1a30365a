"""What ``tokcli compare`` reports from its measurements: one row per (tokenizer, corpus) with premiums
and bootstrap intervals, and one summary row per tokenizer (totals, digit grouping, vocabulary overlap,
mean and worst premium)."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tokcli.compare.offsets import OffsetAligner
from tokcli.compare.options import CompareConfig, CorpusSpec
from tokcli.compare.plan import check_parallel_lengths, reference_language
from tokcli.metrics import (
    CorpusMetrics,
    MetricsAccumulator,
    bootstrap_ratio_ci,
    digit_style,
    jaccard,
    premium_mean_max,
    token_premium,
    vocabulary_bytes,
)

if TYPE_CHECKING:
    from tokcli.loading.base import LoadedTokenizer

# Probe numbers for the digit-grouping column: lengths not multiples of 3 tell ltr3 from rtl3.
DIGIT_PROBES = ("1234567", "12345", "3.14159", "98765432", "2024", "1000000", "31415926535")


@dataclass
class Cell:
    """The measurements of one (tokenizer, corpus) pair."""

    accumulator: MetricsAccumulator
    encode_seconds: float = 0.0


@dataclass
class Report:
    """Rows and summary from the cells of a run, keyed by (tokenizer name, corpus name); ``corpora``
    are those measured, in input order. Raises InputError for a missing reference language or
    parallel files of different lengths."""

    config: CompareConfig
    tokenizers: Sequence[LoadedTokenizer]
    corpora: Sequence[CorpusSpec]
    cells: Mapping[tuple[str, str], Cell]
    aligners: Mapping[str, OffsetAligner]
    _results: dict[tuple[str, str], CorpusMetrics] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.reference = reference_language(self.config.reference, self.corpora)

    def result(self, tokenizer: str, corpus: str) -> CorpusMetrics:
        key = (tokenizer, corpus)
        if key not in self._results:
            self._results[key] = self.cells[key].accumulator.result()
        return self._results[key]

    def rows(self) -> list[dict[str, Any]]:
        if self.reference is not None and any(s.parallel for s in self.corpora):
            first = self.tokenizers[0].name
            docs = {s.name: self.result(first, s.name).docs for s in self.corpora}
            check_parallel_lengths(self.corpora, self.reference, docs)
        return [self._row(tok, spec) for tok in self.tokenizers for spec in self.corpora]

    def _row(self, tok: LoadedTokenizer, spec: CorpusSpec) -> dict[str, Any]:
        cell = self.cells[(tok.name, spec.name)]
        metrics = self.result(tok.name, spec.name)
        row: dict[str, Any] = {"tokenizer": tok.name, "corpus": spec.name}
        row.update(dataclasses.asdict(metrics))
        row["mb_per_s"] = mb_per_s(metrics.bytes, cell.encode_seconds)
        if spec.parallel and self.reference is not None:
            row["premium"] = token_premium(metrics.tokens, self.result(tok.name, self.reference).tokens)
        if self.config.bootstrap:
            row.update(self._intervals(tok.name, spec))
        if self.aligners[tok.name].note:
            row["note"] = self.aligners[tok.name].note
        return row

    def _intervals(self, tok_name: str, spec: CorpusSpec) -> dict[str, Any]:
        """95% bootstrap intervals of bytes per token, fertility and (on parallel text) the premium."""
        docs = self.cells[(tok_name, spec.name)].accumulator.per_document()
        n, seed = self.config.bootstrap, self.config.seed
        out: dict[str, Any] = {
            "bytes_per_token_ci": list(bootstrap_ratio_ci(docs["bytes"], docs["tokens"], resamples=n, seed=seed)),
            "fertility_ci": list(bootstrap_ratio_ci(docs["unit_tokens"], docs["units"], resamples=n, seed=seed)),
        }
        if spec.parallel and self.reference is not None:
            ref_tokens = self.cells[(tok_name, self.reference)].accumulator.per_document()["tokens"]
            out["premium_ci"] = list(bootstrap_ratio_ci(docs["tokens"], ref_tokens, resamples=n, seed=seed))
        return out

    def summary(self) -> list[dict[str, Any]]:
        many = len(self.tokenizers) > 1
        vocabularies = {t.name: vocabulary_bytes(t.token_bytes_table) for t in self.tokenizers} if many else {}
        return [self._summary_row(tok, vocabularies) for tok in self.tokenizers]

    def _summary_row(self, tok: LoadedTokenizer, vocabularies: Mapping[str, set[bytes]]) -> dict[str, Any]:
        results = [self.result(tok.name, s.name) for s in self.corpora]
        n_bytes = sum(r.bytes for r in results)
        tokens = sum(r.tokens for r in results)
        seconds = sum(self.cells[(tok.name, s.name)].encode_seconds for s in self.corpora)
        row: dict[str, Any] = {
            "tokenizer": tok.name,
            "vocab_size": tok.vocab_size,
            "corpora": len(results),
            "bytes": n_bytes,
            "tokens": tokens,
            "bytes_per_token": n_bytes / tokens if tokens else math.nan,
            "digit_style": probe_digit_style(tok, self.aligners.get(tok.name)),
            "mb_per_s": mb_per_s(n_bytes, seconds),
            "overlap": {
                other.name: round(jaccard(vocabularies[tok.name], vocabularies[other.name]), 6)
                for other in self.tokenizers
                if other.name != tok.name
            },
        }
        parallel_tokens = [r.tokens for r, s in zip(results, self.corpora, strict=True) if s.parallel]
        if parallel_tokens and self.reference is not None:
            ref_tokens = self.result(tok.name, self.reference).tokens
            if ref_tokens:
                premiums = [token_premium(t, ref_tokens) for t in parallel_tokens]
                row["premium_mean"], row["premium_max"] = premium_mean_max(premiums)
        return row


def mb_per_s(n_bytes: int, seconds: float) -> float:
    """Encoding throughput in MB/s (NaN without time)."""
    return n_bytes / 1e6 / seconds if seconds > 0 else math.nan


def probe_digit_style(tokenizer: LoadedTokenizer, aligner: OffsetAligner | None = None) -> str:
    """Encode probe numbers and classify how their digit runs are split (see metrics.classify_digit_split)."""
    aligner = OffsetAligner(tokenizer) if aligner is None else aligner.fresh()
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
