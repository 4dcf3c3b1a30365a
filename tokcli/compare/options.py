"""Options and results of ``tokcli compare``: the YAML section ``compare``, the corpora to measure,
the result (meta, rows, summary)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    """What a run measured: ``meta`` (tokenizer files, corpora, options), one row per (tokenizer,
    corpus), one summary row per tokenizer, and the corpora skipped with --keep-going."""

    meta: dict[str, Any]
    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    errors: list[str] = field(default_factory=list)
