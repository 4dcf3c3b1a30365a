"""``tokcli infer-mixture``: recover the data mixture a BPE tokenizer was trained on from its merges.

Hayase, Liu, Choi, Oh, Smith (NeurIPS 2024), "Data Mixture Inference: What do BPE Tokenizers Reveal
about their Training Data?". For each candidate category, a text sample is pre-tokenized exactly as the
tokenizer does and the tokenizer's merges are replayed on it (tokcli.mixture.count); a linear program
then finds the mixture weights under which every merge was the most frequent pair
(tokcli.mixture.lp).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokcli.corpus import Corpus, CorpusConfig
from tokcli.errors import InputError, TokenizerError, UsageError
from tokcli.mixture.count import MergeTable, count_words, replay
from tokcli.mixture.lp import solve_mixture

if TYPE_CHECKING:
    from tokcli.loading.base import LoadedTokenizer


@dataclass(frozen=True)
class InferMixtureConfig:
    """Options of ``tokcli infer-mixture`` (YAML section ``infer_mixture``)."""

    tokenizer: str = field(
        default="", metadata={"help": "the BPE tokenizer (file, folder or NAME=PATH)", "path": "spec"}
    )
    pattern: str | None = field(default=None, metadata={"help": "pre-tokenization regex of a ranks file"})
    categories: tuple[str, ...] = field(
        default=(), metadata={"help": "candidate category NAME=PATH (repeatable)", "path": "spec"}
    )
    categories_dir: str | None = field(
        default=None, metadata={"help": "folder of category files: one category per file", "path": True}
    )
    merges: int = field(default=30000, metadata={"help": "use the first T merges"})
    skip_merges: int = field(default=0, metadata={"help": "add constraints only for merges after the first K"})
    sample_bytes: int = field(
        default=100_000_000, metadata={"help": "text read per category (e.g. 100MB)", "unit": "bytes"}
    )
    per_step: int = field(default=10, metadata={"help": "violated constraints added per merge step and round"})
    per_round: int = field(default=2000, metadata={"help": "violated constraints added per round"})
    max_rounds: int = field(default=100, metadata={"help": "rounds of lazy constraint generation"})

    def __post_init__(self) -> None:
        for name in ("merges", "per_step", "per_round", "max_rounds", "sample_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.skip_merges < 0:
            raise ValueError("skip_merges must be >= 0")


@dataclass
class MixtureResult:
    rows: list[dict[str, Any]]
    meta: dict[str, Any]
    warnings: list[str]


Pretokenizer = Callable[[str], list[bytes]]


def pretokenizer_for(tokenizer: LoadedTokenizer) -> tuple[Pretokenizer, str]:
    """A function giving a document's words as bytes exactly as ``tokenizer`` pre-tokenizes them, and
    how words split into initial symbols (``bytes`` or ``chars``)."""
    kind = tokenizer.info.kind
    if kind in ("tiktoken", "tekken"):
        import regex

        compiled = regex.compile(tokenizer.pattern)  # type: ignore[attr-defined]
        return (lambda text: [w.encode("utf-8") for w in compiled.findall(text)]), "bytes"
    if kind == "hf":
        import json

        from tokenizers import Tokenizer

        from tokcli.loading.bytes_ import unicode_to_bytes

        data = json.loads(Path(tokenizer.info.path).read_text(encoding="utf-8"))
        if "ByteLevel" not in json.dumps(data.get("pre_tokenizer")):
            raise TokenizerError(
                f"{tokenizer.info.path}: only byte-level BPE tokenizer.json files are supported so far",
                hint="use a byte-level BPE tokenizer (GPT-2 style) or its tiktoken ranks file",
            )
        hf = Tokenizer.from_file(str(tokenizer.info.path))
        pre, norm = hf.pre_tokenizer, hf.normalizer
        table = unicode_to_bytes()

        def words(text: str) -> list[bytes]:
            if norm is not None:
                text = norm.normalize_str(text)
            return [bytes(table[c] for c in piece) for piece, _ in pre.pre_tokenize_str(text)]

        return words, "bytes"
    raise TokenizerError(
        f"{tokenizer.info.path}: sentencepiece models are not supported by infer-mixture yet",
        hint="use a tokenizer.json or tiktoken ranks file",
    )


def plan_categories(config: InferMixtureConfig) -> list[tuple[str, tuple[str, ...]]]:
    categories: list[tuple[str, tuple[str, ...]]] = []
    for spec in config.categories:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise UsageError(f"bad category {spec!r}", hint="write it as NAME=PATH")
        categories.append((name, (path,)))
    if config.categories_dir is not None:
        folder = Path(config.categories_dir)
        if not folder.is_dir():
            raise InputError(f"--categories-dir {folder}: not a folder")
        for entry in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            categories.append((entry.name.split(".")[0], (str(entry),)))
    names = [n for n, _ in categories]
    if len(set(names)) != len(names):
        raise UsageError("two categories share a name", hint="give each NAME=PATH a distinct name")
    if len(categories) < 2:
        raise UsageError("infer-mixture needs at least two categories", hint="add --category NAME=PATH")
    return categories


def infer_mixture(config: InferMixtureConfig, corpus_config: CorpusConfig, tokenizer: LoadedTokenizer) -> MixtureResult:
    started = time.monotonic()
    merges = tokenizer.merges()
    if merges is None:
        raise TokenizerError(
            f"{tokenizer.info.path} is a {tokenizer.info.model_type} tokenizer: the method needs a BPE "
            "tokenizer's ordered merge list",
            hint="give a BPE tokenizer.json, a tiktoken ranks file or a sentencepiece BPE model",
        )
    categories = plan_categories(config)
    words_of, split = pretokenizer_for(tokenizer)
    warnings: list[str] = []
    initial = [bytes([b]) for b in range(256)]
    table = MergeTable.build(merges, initial)
    steps = min(config.merges, len(table.merges))
    if config.merges > len(table.merges):
        warnings.append(f"--merges {config.merges} exceeds the {len(table.merges)} usable merges; using all")
    if config.skip_merges >= steps:
        raise UsageError(f"--skip-merges {config.skip_merges} leaves no merge of the {steps} used")
    counted = []
    sample_bytes: dict[str, int] = {}
    count_started = time.monotonic()
    for name, paths in categories:
        reader = Corpus(dataclasses.replace(corpus_config, inputs=paths, mix=(), max_bytes=config.sample_bytes))
        word_counts = count_words(words_of(text) for batch in reader.text_batches(1000) for text in batch)
        if not word_counts:
            raise InputError(f"category {name} ({', '.join(paths)}) has no text", hint="check the path")
        sample_bytes[name] = reader.stats.bytes
        counted.append(replay(word_counts, table, steps, split))
    count_seconds = time.monotonic() - count_started
    merged = [(a << 21) | b for a, b, _ in table.merges[:steps]]
    lp = solve_mixture(
        counted,
        merged,
        first_step=config.skip_merges,
        per_step=config.per_step,
        per_round=config.per_round,
        max_rounds=config.max_rounds,
    )
    if lp.violations_left:
        warnings.append(f"stopped after {lp.rounds} rounds with violated constraints left; raise --max-rounds")
    ranked = sorted(zip(lp.weights, (name for name, _ in categories), strict=True), key=lambda x: (-x[0], x[1]))
    rows: list[dict[str, Any]] = [{"category": name, "proportion": round(weight, 8)} for weight, name in ranked]
    meta = {
        "tokenizer": {"name": tokenizer.name, "path": str(tokenizer.info.path), "sha256": tokenizer.info.sha256},
        "merges_in_file": len(merges),
        "merges_used": steps,
        "skip_merges": config.skip_merges,
        "merges_skipped": [{"index": i, "reason": why} for i, why in table.skipped[:100]],
        "merges_skipped_total": len(table.skipped),
        "sample_bytes": sample_bytes,
        "solver": {
            "status": lp.status,
            "objective": lp.objective,
            "rounds": lp.rounds,
            "constraints": lp.constraints,
            "seconds": lp.seconds,
        },
        "timings": {"counting_s": round(count_seconds, 3), "total_s": round(time.monotonic() - started, 3)},
        "warnings": warnings,
    }
    return MixtureResult(rows=rows, meta=meta, warnings=warnings)
