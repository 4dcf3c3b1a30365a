"""Options of the corpus reader: :class:`CorpusConfig` (YAML section ``corpus``, flags shared by all
commands), :class:`MixSource` (one ``--mix`` source), the line-length limit, and :class:`ReadOptions` (the
part of the config a format reader needs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from tokcli.errors import ConfigError

InputFormat = Literal["auto", "text", "jsonl", "parquet", "csv", "tsv", "arrow"]
DocSep = Literal["line", "blank", "file"]
Errors = Literal["strict", "replace"]
# Longest line (JSONL record, paragraph, whole-file document, JSON array file) read into memory; a longer
# one stops with an error naming the file and byte offset instead of growing without bound (an input
# with no newline, a 10 GB file of NUL bytes). CorpusConfig.max_line_bytes (--max-line-bytes) sets it.
DEFAULT_MAX_LINE_BYTES = 256 << 20


@dataclass(frozen=True)
class MixSource:
    """One source of a declared mixture: ``NAME=WEIGHT:PATH`` on the command line."""

    name: str
    weight: float
    paths: tuple[str, ...] = field(metadata={"path": True})

    def __post_init__(self) -> None:
        fix = "write it as NAME=WEIGHT:PATH, e.g. --mix web=0.7:data/web.jsonl"
        if not self.name:
            raise ConfigError("mixture source without a name", hint=fix)
        if not self.weight > 0:
            raise ConfigError(f"weight must be positive in mixture source {self.name!r}", hint=fix)
        if not self.paths:
            raise ConfigError(f"mixture source {self.name!r} has no paths", hint=fix)

    @classmethod
    def from_string(cls, spec: str) -> MixSource:
        """Parse ``NAME=WEIGHT:PATH[,PATH...]``."""
        name, sep, rest = spec.partition("=")
        weight_text, sep2, path_text = rest.partition(":")
        fix = "write it as NAME=WEIGHT:PATH, e.g. --mix web=0.7:data/web.jsonl"
        if not sep or not sep2 or not name or not path_text:
            raise ConfigError(f"bad mixture source {spec!r}", hint=fix)
        try:
            weight = float(weight_text)
        except ValueError:
            raise ConfigError(f"bad weight {weight_text!r} in mixture source {spec!r}", hint=fix) from None
        if not weight > 0:
            raise ConfigError(f"weight must be positive in mixture source {spec!r}", hint=fix)
        return cls(name=name, weight=weight, paths=tuple(p for p in path_text.split(",") if p))


@dataclass(frozen=True)
class CorpusConfig:
    """Options of the corpus reader (YAML section ``corpus``; flags shared by all commands)."""

    inputs: tuple[str, ...] = field(
        default=(), metadata={"help": "files, folders, globs, '-' or hf:NAME", "path": True}
    )
    format: InputFormat = field(default="auto", metadata={"help": "input format (auto: from extension)"})
    text_field: str = field(default="text", metadata={"help": "field holding the text in records"})
    id_field: str = field(default="id", metadata={"help": "field passed through as the document id"})
    doc_sep: Literal["line", "blank", "file"] = field(
        default="line", metadata={"help": "plain text: one document per line, per blank-line paragraph, per file"}
    )
    max_docs: int | None = field(default=None, metadata={"help": "stop after N documents"})
    max_bytes: int | None = field(
        default=None, metadata={"help": "stop after N bytes of UTF-8 text (e.g. 50MB)", "unit": "bytes"}
    )
    skip: int = field(default=0, metadata={"help": "skip the first N documents"})
    sample: float | None = field(
        default=None, metadata={"help": "keep each document with this probability (deterministic with --seed)"}
    )
    shuffle_buffer: int = field(default=0, metadata={"help": "shuffle within a buffer of N documents (0: off)"})
    seed: int = field(default=0, metadata={"help": "seed for sampling, shuffling and mixtures"})
    num_shards: int = field(default=1, metadata={"help": "split the input into N shards"})
    shard_index: int = field(default=0, metadata={"help": "read only shard I (0-based)"})
    mix: tuple[MixSource, ...] = field(default=(), metadata={"help": "mixture source NAME=WEIGHT:PATH (repeatable)"})
    mix_by: Literal["bytes", "docs"] = field(
        default="bytes", metadata={"help": "mixture weights are shares of bytes or of documents"}
    )
    errors: Literal["strict", "replace"] = field(
        default="strict", metadata={"help": "invalid UTF-8: stop with an error, or replace with U+FFFD"}
    )
    keep_empty: bool = field(
        default=False,
        metadata={
            "help": "keep empty lines and texts as empty documents (keeps line alignment); encode always "
            "keeps them: one output line per input line"
        },
    )
    max_line_bytes: int = field(
        default=DEFAULT_MAX_LINE_BYTES,
        metadata={
            "help": "longest line, paragraph, record or file document read into memory; a longer one is an "
            "error naming its byte offset (default 256MiB)",
            "unit": "bytes",
        },
    )

    def __post_init__(self) -> None:
        def bad(key: str, message: str) -> ConfigError:
            flag = "--" + key.replace("_", "-")
            return ConfigError(f"corpus.{key} ({flag}) {message}")

        for key in ("max_docs", "max_bytes"):
            value = getattr(self, key)
            if value is not None and value < 0:
                raise bad(key, f"must be 0 or more, not {value}")
        if self.max_line_bytes < 1:
            raise bad("max_line_bytes", f"must be at least 1 byte, not {self.max_line_bytes}")
        for key in ("skip", "shuffle_buffer"):
            if getattr(self, key) < 0:
                raise bad(key, f"must be 0 or more, not {getattr(self, key)}")
        if self.sample is not None and not 0 < self.sample <= 1:
            raise bad("sample", f"must be a fraction in (0, 1], not {self.sample}")
        if self.num_shards < 1:
            raise bad("num_shards", f"must be 1 or more, not {self.num_shards}")
        if not 0 <= self.shard_index < self.num_shards:
            last = self.num_shards - 1
            raise bad("shard_index", f"must be between 0 and num_shards-1 = {last}, not {self.shard_index}")
        names = [m.name for m in self.mix]
        if len(set(names)) != len(names):
            raise bad("mix", f"source names must be unique, got {', '.join(names)}")


@dataclass(frozen=True)
class ReadOptions:
    """What every format reader is given besides its input: the reading options of a
    :class:`CorpusConfig` and the number of documents per batch."""

    batch_size: int = 1000
    format: InputFormat = "auto"
    text_field: str = "text"
    id_field: str = "id"
    doc_sep: DocSep = "line"
    errors: Errors = "strict"
    keep_empty: bool = False
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES

    @classmethod
    def of(cls, config: CorpusConfig, batch_size: int) -> ReadOptions:
        """The reading options of ``config``, with ``batch_size`` documents per batch."""
        return cls(
            batch_size=batch_size,
            format=config.format,
            text_field=config.text_field,
            id_field=config.id_field,
            doc_sep=config.doc_sep,
            errors=config.errors,
            keep_empty=config.keep_empty,
            max_line_bytes=config.max_line_bytes,
        )
