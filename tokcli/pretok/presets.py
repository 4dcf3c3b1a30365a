"""Pre-tokenization regex presets shared by ``train --preset`` and ``encode --pattern``.

Two spellings are kept per preset:
- ``tiktoken``: the exact ``pat_str`` of OpenAI's tiktoken encodings (tiktoken_ext/openai_public.py),
  which uses possessive quantifiers; used whenever a ranks file is encoded, so ids match tiktoken.
- ``hf``: the form found in the HF ``tokenizer.json`` files of the same models (GPT-2's ByteLevel
  pre-tokenizer, Llama 3's ``Split``), used when tokcli builds an HF pre-tokenizer.

Beware (HF tokenizers): ``pre_tokenizers.Split`` given a plain ``str`` matches it literally and never
splits; patterns must be wrapped in ``tokenizers.Regex``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tokcli.errors import ConfigError

PresetName = Literal["gpt2", "cl100k", "o200k", "llama3", "none"]
Digits = Literal["none", "single", "ltr3", "rtl3"]  # digit rules: tokcli.pretok.hf.DIGIT_PATTERNS
Normalizer = Literal["none", "nfc", "nfkc", "lowercase"]

_GPT2_HF = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
_R50K_TIKTOKEN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
_CL100K_HF = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
_CL100K_TIKTOKEN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)


@dataclass(frozen=True)
class Preset:
    """A named pre-tokenization regex in its two spellings."""

    name: str
    hf: str
    tiktoken: str
    description: str


PRESETS: dict[str, Preset] = {
    "gpt2": Preset("gpt2", _GPT2_HF, _R50K_TIKTOKEN, "GPT-2 / r50k_base / p50k_base"),
    "cl100k": Preset("cl100k", _CL100K_HF, _CL100K_TIKTOKEN, "GPT-3.5/GPT-4 cl100k_base (digits in 1-3)"),
    "o200k": Preset("o200k", _O200K, _O200K, "GPT-4o o200k_base (case-aware words)"),
    "llama3": Preset("llama3", _CL100K_HF, _CL100K_TIKTOKEN, "Llama 3 (the cl100k regex)"),
}

# SHA-256 of the well-known tiktoken ranks files (values from tiktoken_ext/openai_public.py).
KNOWN_RANKS_FILES: dict[str, tuple[str, str]] = {
    "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930": ("r50k_base", "gpt2"),
    "94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069": ("p50k_base", "gpt2"),
    "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7": ("cl100k_base", "cl100k"),
    "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d": ("o200k_base", "o200k"),
}


def get_preset(name: str, *, key: str = "preset") -> Preset:
    """The preset called ``name``; a ConfigError naming ``key`` and the choices otherwise."""
    try:
        return PRESETS[name]
    except KeyError:
        choices = ", ".join(sorted(PRESETS))
        raise ConfigError(f"unknown {key} {name!r}", hint=f"choose one of: {choices}") from None
