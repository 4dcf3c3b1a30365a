"""Streaming corpus reader shared by every command (INTERFACE STUB: implementation in progress).

Inputs are files, folders, globs, ``-`` (stdin) and ``hf:NAME[:CONFIG][@SPLIT]`` hub names; formats are
plain text, JSON lines (optionally .gz/.zst), Parquet, CSV/TSV and ``save_to_disk`` folders. Reading is
backed by HF ``datasets`` streaming in Arrow batches. Every document carries its text and source name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Literal

from tokcli.errors import ConfigError

InputFormat = Literal["auto", "text", "jsonl", "parquet", "csv", "tsv", "arrow"]


@dataclass(frozen=True)
class MixSource:
    """One source of a declared mixture: ``NAME=WEIGHT:PATH`` on the command line."""

    name: str
    weight: float
    paths: tuple[str, ...] = field(metadata={"path": True})

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
    mix: tuple[MixSource, ...] = field(
        default=(), metadata={"help": "mixture source NAME=WEIGHT:PATH (repeatable)"}
    )
    mix_by: Literal["bytes", "docs"] = field(
        default="bytes", metadata={"help": "mixture weights are shares of bytes or of documents"}
    )
    errors: Literal["strict", "replace"] = field(
        default="strict", metadata={"help": "invalid UTF-8: stop with an error, or replace with U+FFFD"}
    )


@dataclass(frozen=True)
class Document:
    """One document: its text, the name of the source it came from, and its id if the input has one."""

    text: str
    source: str
    id: str | None = None


@dataclass
class CorpusStats:
    """Running totals, updated while the corpus streams (read them after iteration ends)."""

    docs: int = 0
    bytes: int = 0
    docs_by_source: dict[str, int] = field(default_factory=dict)
    bytes_by_source: dict[str, int] = field(default_factory=dict)


ProgressCallback = Callable[[CorpusStats], None]


class Corpus:
    """A configured, not yet started, stream of documents."""

    def __init__(
        self,
        config: CorpusConfig,
        *,
        stdin: BinaryIO | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.config = config
        self.stats = CorpusStats()
        self._stdin = stdin
        self._progress = progress

    def documents(self) -> Iterator[Document]:
        raise NotImplementedError

    def text_batches(self, batch_size: int = 1000) -> Iterator[list[str]]:
        raise NotImplementedError
