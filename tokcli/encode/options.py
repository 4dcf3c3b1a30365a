"""Options of ``tokcli encode`` and ``tokcli decode`` (YAML sections ``encode`` and ``decode``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tokcli.errors import UsageError

OutputFormat = Literal["auto", "ids", "tokens", "jsonl", "count", "npy", "bin"]
TEXT_FORMATS: tuple[OutputFormat, ...] = ("ids", "tokens", "jsonl", "count")
BINARY_FORMATS: tuple[OutputFormat, ...] = ("npy", "bin")


@dataclass(frozen=True)
class EncodeConfig:
    """How to encode documents and where the ids go."""

    tokenizer: str = field(default="", metadata={"help": "tokenizer file or folder, or NAME=PATH", "path": "spec"})
    pattern: str | None = field(
        default=None, metadata={"help": "pre-tokenization regex of a ranks file: preset name or regex"}
    )
    output: str | None = field(
        default=None,
        metadata={"help": "output file ('-' or unset: stdout; required for npy/bin)", "path": True, "output": True},
    )
    format: OutputFormat = field(
        default="auto",
        metadata={
            "help": "ids | tokens | jsonl | count (text, one line per document) or npy | bin (flat array); "
            "auto: tokens on a terminal, ids otherwise"
        },
    )
    add_special_tokens: bool = field(default=False, metadata={"help": "add BOS/EOS-style tokens as the library does"})
    batch_size: int = field(default=1000, metadata={"help": "documents per encoding batch"})
    batch_bytes: int = field(
        default=4_000_000, metadata={"help": "also cut a batch after this many characters", "unit": "bytes"}
    )
    threads: int = field(default=0, metadata={"help": "encoding threads (0: all CPUs)"})
    dtype: Literal["auto", "uint16", "uint32"] = field(
        default="auto", metadata={"help": "npy/bin element type (auto: uint16 if every id fits)"}
    )
    eos: str | None = field(
        default=None, metadata={"help": "npy/bin: token appended after every document (an id, or the token's text)"}
    )
    engine: Literal["auto", "tokenizers"] = field(
        default="auto", metadata={"help": "tokenizer.json engine (auto: tiktoken when provably identical)"}
    )
    resume: bool = field(
        default=False, metadata={"help": "shard folder (-o DIR/): encode only the splits not done yet"}
    )


@dataclass(frozen=True)
class DecodeConfig:
    """How to read ids back into text."""

    tokenizer: str = field(default="", metadata={"help": "tokenizer file or folder, or NAME=PATH", "path": "spec"})
    pattern: str | None = field(
        default=None, metadata={"help": "pre-tokenization regex of a ranks file: preset name or regex"}
    )
    input_format: Literal["auto", "ids", "jsonl"] = field(
        default="auto", metadata={"help": "ids (space-separated per line) or jsonl with an 'ids' list"}
    )
    output: str | None = field(
        default=None, metadata={"help": "output file ('-' or unset: stdout)", "path": True, "output": True}
    )
    format: Literal["text", "jsonl"] = field(
        default="text", metadata={"help": "text (one document per line) or jsonl ({'id', 'text'})"}
    )
    batch_size: int = field(default=1000, metadata={"help": "lines decoded per batch"})


BINARY_SUFFIXES: dict[str, OutputFormat] = {".npy": "npy", ".bin": "bin"}


def resolve_format(fmt: OutputFormat, *, to_terminal: bool, output: str | None = None) -> OutputFormat:
    """``auto`` is the binary format an ``-o`` file's suffix names (``.npy``, ``.bin``), else readable token
    strings on a terminal and space-separated ids in pipes and files. A binary suffix with a text format
    (or the other binary one) is refused: ``np.load`` or ``np.memmap`` would misread the file."""
    suffix = Path(output).suffix.lower() if output not in (None, "", "-") else ""
    implied = BINARY_SUFFIXES.get(suffix)
    if fmt == "auto":
        return implied or ("tokens" if to_terminal else "ids")
    if implied is not None and fmt != implied:
        raise UsageError(
            f"-o {output} names a {implied} file but --format is {fmt}",
            hint=f"drop --format (the suffix chooses {implied}), or give a file name that fits {fmt}",
        )
    return fmt
