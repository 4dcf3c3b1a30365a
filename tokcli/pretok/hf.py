"""The HF ``tokenizers`` pipelines of tokcli's pre-tokenization: normalizers, the hf-bpe pre-tokenizer
(digit rule, preset regex, byte-level mapping), and what a tokenizer.json's own pipeline is.

Pre-tokenization for hf-bpe: optional digit rule, then the preset regex (``Split(Regex(...),
"isolated")``: a plain ``str`` pattern would be matched literally and never split), then
``ByteLevel(use_regex=False)`` mapping bytes to the GPT-2 alphabet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokcli.bpe.byte_level import SPM_SPACE
from tokcli.pretok.presets import PRESETS, get_preset

GPT2_HF_REGEX = PRESETS["gpt2"].hf

# Digit rules as regexes over runs of digits (\p{N}), applied before the preset's own split.
DIGIT_PATTERNS = {
    "single": r"\p{N}",
    "ltr3": r"\p{N}{1,3}",  # 1234567 -> 123|456|7 (cl100k)
    "rtl3": r"\p{N}{1,3}(?=(?:\p{N}{3})*(?!\p{N}))",  # 1234567 -> 1|234|567 (Singh & Strouse 2024)
}
# "none" preset: words with their leading space, and runs of white space (no punctuation or digit rules).
NO_PRESET_PATTERN = r" ?[^\s]+|\s+"


def preset_pattern(preset: str | None, key: str = "train.preset") -> str:
    """The HF spelling of a preset's regex (``None``: gpt2; ``none``: words and white space runs)."""
    name = preset or "gpt2"
    return NO_PRESET_PATTERN if name == "none" else get_preset(name, key=key).hf


def hf_normalizer(names: tuple[str, ...]) -> Any:
    from tokenizers import normalizers

    table = {"nfc": normalizers.NFC, "nfkc": normalizers.NFKC, "lowercase": normalizers.Lowercase}
    steps = [table[n]() for n in names if n != "none"]
    if not steps:
        return None
    return steps[0] if len(steps) == 1 else normalizers.Sequence(steps)


def digit_step(digits: str) -> list[Any]:
    from tokenizers import Regex, pre_tokenizers

    if digits == "none":
        return []
    return [pre_tokenizers.Split(Regex(DIGIT_PATTERNS[digits]), behavior="isolated")]


def bpe_pre_tokenizer(preset: str | None, digits: str) -> Any:
    """The hf-bpe pre-tokenizer: digit rule, preset regex, byte-level mapping."""
    from tokenizers import Regex, pre_tokenizers

    pattern = preset_pattern(preset)
    steps = [
        *digit_step(digits),
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ]
    return pre_tokenizers.Sequence(steps)


def pattern_of(pre: Any) -> str | None:
    """The single regex of a supported byte-level pre-tokenizer (no prefix space), or None."""
    found = split_regex_of(pre)
    return found[0] if found is not None and not found[1] else None


def split_regex_of(pre: Any) -> tuple[str, bool] | None:
    """(regex, add_prefix_space) of a byte-level pre-tokenizer (a tokenizer.json's ``pre_tokenizer``)
    that is one regex split: ``ByteLevel(use_regex=True)`` (GPT-2's regex, maybe with a prefix space)
    or ``Split(Regex, "isolated") + ByteLevel(use_regex=False)``; None for any other pipeline."""
    if not isinstance(pre, dict):
        return None
    if pre.get("type") == "ByteLevel":
        return (GPT2_HF_REGEX, bool(pre.get("add_prefix_space"))) if pre.get("use_regex", True) else None
    if pre.get("type") == "Sequence":
        items = pre.get("pretokenizers") or []
        if len(items) == 1:
            return split_regex_of(items[0])
        if len(items) != 2:
            return None
        split, byte_level = items
        if (
            split.get("type") != "Split"
            or split.get("behavior") != "Isolated"
            or split.get("invert")
            or byte_level.get("type") != "ByteLevel"
            or byte_level.get("add_prefix_space")
            or byte_level.get("use_regex", True)
        ):
            return None
        regex = (split.get("pattern") or {}).get("Regex")
        return (regex, False) if isinstance(regex, str) else None
    return None


def hf_spelling(pattern: str) -> str | None:
    """The HF spelling of a known pre-tokenizer regex (either spelling of a preset's, or the no-preset
    pattern), or None for any other pattern."""
    if pattern == NO_PRESET_PATTERN:
        return pattern
    return next((p.hf for p in PRESETS.values() if pattern in (p.hf, p.tiktoken)), None)


def pipeline_components(node: Any) -> list[dict[str, Any]]:
    """A normalizer/pre-tokenizer/decoder and, for a Sequence, its members (recursively)."""
    if not isinstance(node, dict):
        return []
    out = [node]
    for key in ("pretokenizers", "decoders", "normalizers", "processors"):
        for child in node.get(key) or []:
            out.extend(pipeline_components(child))
    return out


def uses_metaspace(data: Mapping[str, Any]) -> bool:
    """Whether the tokenizer.json marks spaces with U+2581 as sentencepiece does (a Metaspace
    pre-tokenizer or decoder, or a decoder replacing U+2581 by a space: Llama 2, Mistral)."""
    parts = pipeline_components(data.get("pre_tokenizer")) + pipeline_components(data.get("decoder"))
    return any(
        p.get("type") == "Metaspace"
        or (p.get("type") == "Replace" and (p.get("pattern") or {}).get("String") == SPM_SPACE)
        for p in parts
    )
