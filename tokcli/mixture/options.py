"""Options of ``tokcli infer-mixture``: the candidate categories and the command's config section."""

from __future__ import annotations

from dataclasses import dataclass, field

from tokcli.errors import ConfigError, UsageError

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
