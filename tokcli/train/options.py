"""Options of ``tokcli train`` (YAML section ``train``) and their validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tokcli.errors import ConfigError, UsageError
from tokcli.pretok.presets import Digits, Normalizer, PresetName

Backend = Literal[
    "hf-bpe", "hf-unigram", "hf-wordpiece", "hf-wordlevel", "spm-bpe", "spm-unigram", "spm-char", "spm-word"
]
BACKENDS: tuple[str, ...] = (
    "hf-bpe", "hf-unigram", "hf-wordpiece", "hf-wordlevel", "spm-bpe", "spm-unigram", "spm-char", "spm-word"
)  # fmt: skip
FromCountsMethod = Literal["auto", "repeat", "merge-loop"]
BYTE_ALPHABET = 256
COUNTS_BACKENDS = ("hf-bpe", "spm-bpe")  # exact training from pre-token counts (train --from-counts)
# Backends whose trained pieces depend on the thread count (train.threads; measured on tests/data with
# sentencepiece 0.2.3 at num_threads 1, 2 and 16: spm-unigram's scores differ in float rounding, 57-197 of
# 1000 ids change, and a few pieces; spm-bpe, spm-char, spm-word, hf-bpe and hf-wordlevel are the same).
# Their default thread count is fixed, not the CPUs, so the default result is the same on every machine.
THREADS_CHANGE_RESULT = ("spm-unigram",)


@dataclass(frozen=True)
class TrainConfig:
    """How to train; every field is a flag (``--vocab-size``) and a YAML key (``train.vocab_size``)."""

    output: str | None = field(
        default=None,
        metadata={"help": "tokenizer file to write (.json for hf-*, .model for spm-*)", "path": True, "output": True},
    )
    backend: Backend = field(default="hf-bpe", metadata={"help": "tokenizer family and library"})
    vocab_size: int = field(default=32000, metadata={"help": "vocabulary size, special tokens included"})
    min_frequency: int = field(default=2, metadata={"help": "hf-*: minimum count of a merge/token"})
    special_tokens: tuple[str, ...] = field(
        default=(), metadata={"help": "special tokens to reserve, e.g. '<|endoftext|>' (repeatable)"}
    )
    max_token_length: int | None = field(
        default=None,
        metadata={
            "help": "token length limit N (small values: character-level BPE): hf-* tokens are shorter than N "
            "characters (HF's max_token_length), spm-* pieces at most N besides a leading space mark"
        },
    )
    limit_alphabet: int | None = field(default=None, metadata={"help": "hf-*: keep at most N initial characters"})
    character_coverage: float | None = field(
        default=None, metadata={"help": "spm-*: share of characters covered by the alphabet (default 0.9995)"}
    )
    byte_fallback: bool | None = field(
        default=None, metadata={"help": "spm-*: unknown characters become <0xNN> byte pieces"}
    )
    normalizer: tuple[Normalizer, ...] = field(
        default=(), metadata={"help": "normalizers applied in order: nfc, nfkc, lowercase (or none)"}
    )
    preset: PresetName | None = field(default=None, metadata={"help": "hf-bpe pre-tokenization regex (default gpt2)"})
    digits: Digits = field(
        default="none",
        metadata={"help": "digits as the preset does, single, ltr3 (123|456|7) or rtl3 (1|234|567)"},
    )
    superword_transition: int | None = field(
        default=None, metadata={"help": "hf-bpe: SuperBPE transition size; tokens after it may span up to 4 words"}
    )
    threads: int | None = field(
        default=None,
        metadata={
            "help": "training threads (default or 0: all CPUs); the file is the same whatever the number, except "
            "spm-unigram: there it is sentencepiece's num_threads (default 16 on any machine) and changes the pieces"
        },
    )
    seed: int = field(default=0, metadata={"help": "seed (sampling and sentencepiece)"})
    report: str | None = field(
        default=None, metadata={"help": "also write the JSON report to FILE", "path": True, "output": True}
    )
    from_counts: str | None = field(
        default=None,
        metadata={"help": "train from a 'tokcli count' folder instead of a corpus (hf-bpe, spm-bpe)", "path": True},
    )
    from_counts_method: FromCountsMethod | None = field(
        default=None,
        metadata={
            "help": "hf-bpe --from-counts: repeat (feed HF each word count times), merge-loop (HF's merge loop "
            "over unique words, for corpora beyond ~10 GB) or auto (repeat below 10 GB of counted text)"
        },
    )

    @property
    def is_spm(self) -> bool:
        return self.backend.startswith("spm-")


def validate(config: TrainConfig) -> None:
    """Reject impossible or conflicting options before any data is read; nothing is written."""
    _check_values(config)
    if config.is_spm:
        _check_spm_options(config)
    else:
        _check_hf_options(config)
    _check_from_counts(config)
    _check_superword(config)
    _check_output_suffix(config)


def _check_output_suffix(config: TrainConfig) -> None:
    """A file ``encode -t`` will read back: sentencepiece writes a ``.model``, the HF backends a
    tokenizer.json; a suffix of the other kind is refused (the file would be loaded as the wrong kind)."""
    suffix = Path(str(config.output)).suffix.lower()
    if config.is_spm and suffix == ".json":
        raise UsageError(
            f"--backend {config.backend} writes a sentencepiece model, not JSON: -o {config.output}",
            hint=f"name it {Path(str(config.output)).with_suffix('.model').name}",
        )
    if not config.is_spm and suffix == ".model":
        raise UsageError(
            f"--backend {config.backend} writes a tokenizer.json, not a sentencepiece .model: -o {config.output}",
            hint=f"name it {Path(str(config.output)).with_suffix('.json').name}, or use --backend spm-*",
        )


def _check_values(config: TrainConfig) -> None:
    """The output is given and every number is in range."""
    if not config.output:
        raise UsageError("train needs an output path", hint="give -o/--output FILE (.json for hf-*, .model for spm-*)")
    if config.vocab_size < 2:
        raise ConfigError(f"train.vocab_size {config.vocab_size} is too small", hint="use e.g. --vocab-size 32000")
    if config.min_frequency < 0:
        raise ConfigError("train.min_frequency must be >= 0")
    if config.max_token_length is not None and config.max_token_length < 1:
        raise ConfigError("train.max_token_length must be >= 1")
    if config.threads is not None and config.threads < 0:
        raise ConfigError("train.threads must be 0 (all CPUs) or more", hint="e.g. --threads 4")
    if config.character_coverage is not None and not 0 < config.character_coverage <= 1:
        raise ConfigError("train.character_coverage must be in (0, 1]", hint="e.g. 0.9995, or 1.0 for CJK")
    if len(set(config.special_tokens)) != len(config.special_tokens):
        raise ConfigError("train.special_tokens lists a token twice")
    if "none" in config.normalizer and len(config.normalizer) > 1:
        raise ConfigError("train.normalizer 'none' cannot be combined with other normalizers")


def _check_spm_options(config: TrainConfig) -> None:
    """spm-* backends: no hf-only option, digits split singly at most."""
    for name in ("preset", "limit_alphabet", "superword_transition"):
        if getattr(config, name) is not None:
            raise UsageError(
                f"--{name.replace('_', '-')} applies to hf-* backends, not {config.backend}",
                hint="drop it or choose an hf-* backend",
            )
    if config.digits in ("ltr3", "rtl3"):
        raise UsageError(
            f"--digits {config.digits} needs an hf-* backend", hint="sentencepiece can only split digits singly"
        )


def _check_hf_options(config: TrainConfig) -> None:
    """hf-* backends: no spm-only option, --preset for hf-bpe only, whose vocabulary holds the bytes."""
    for name in ("character_coverage", "byte_fallback"):
        if getattr(config, name) is not None:
            raise UsageError(
                f"--{name.replace('_', '-')} applies to spm-* backends, not {config.backend}",
                hint="drop it or choose an spm-* backend",
            )
    if config.preset is not None and config.backend != "hf-bpe":
        raise UsageError(f"--preset applies to hf-bpe, not {config.backend}", hint="drop --preset")
    if config.backend == "hf-bpe":
        floor = BYTE_ALPHABET + len(config.special_tokens)
        if config.vocab_size < floor:
            raise ConfigError(
                f"train.vocab_size {config.vocab_size} is below the byte alphabet plus special tokens ({floor})",
                hint=f"use --vocab-size {floor} or more",
            )


def _check_from_counts(config: TrainConfig) -> None:
    """--from-counts: a backend that trains from counts, no superwords; --from-counts-method needs it."""
    if config.from_counts is None:
        if config.from_counts_method is not None:
            raise UsageError(
                "--from-counts-method needs --from-counts", hint="drop it, or train from a 'tokcli count' folder"
            )
        return
    if config.backend not in COUNTS_BACKENDS:
        raise UsageError(
            f"--from-counts trains {' and '.join(COUNTS_BACKENDS)}, not {config.backend}",
            hint="train that backend on the corpus itself",
        )
    if config.superword_transition is not None:
        raise UsageError(
            "--superword-transition cannot train from counts (superwords span pre-tokens)",
            hint="train on the corpus itself",
        )
    if config.from_counts_method == "merge-loop" and config.backend != "hf-bpe":
        raise UsageError(
            f"--from-counts-method merge-loop trains hf-bpe, not {config.backend}",
            hint="drop --from-counts-method (spm-bpe reads the counts directly)",
        )


def _check_superword(config: TrainConfig) -> None:
    """--superword-transition: hf-bpe, between the byte alphabet (plus special tokens) and the vocabulary size."""
    if config.superword_transition is None:
        return
    if config.backend != "hf-bpe":
        raise UsageError("--superword-transition needs --backend hf-bpe")
    if config.superword_transition >= config.vocab_size:
        raise UsageError(
            f"--superword-transition {config.superword_transition} must be below --vocab-size {config.vocab_size}"
        )
    floor = BYTE_ALPHABET + len(config.special_tokens)
    if config.superword_transition < floor:
        raise ConfigError(
            f"train.superword_transition {config.superword_transition} is below the byte alphabet plus "
            f"special tokens ({floor})"
        )
