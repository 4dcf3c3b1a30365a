"""The pre-tokenizer spec: how text is cut into words before BPE, as a small picklable description
(counting runs in worker processes) shared by ``tokcli count`` and ``infer-mixture``.

Kinds (:class:`PretokenizerSpec`):

- ``regex``: HF's ``Split(Regex(pattern), "isolated")``, after ``normalizer`` and the ``digits`` rule;
  byte-level words (the UTF-8 of the pieces). An hf-bpe preset (``tokcli count --pretok gpt2``,
  :func:`bpe_pretokenizer`), a ranks file's pattern (:func:`regex_pretokenizer`) or a tokenizer.json
  whose pipeline is one such split (:func:`hf_pretokenizer`);
- ``hf``: the normalizer and pre-tokenizer of the tokenizer.json at ``path``;
- ``spm``: with ``path``, the training-time word splitting of a sentencepiece BPE model (characters
  as symbols, :mod:`tokcli.pretok.spm_words`); with ``rule`` (``tokcli count --pretok spm:RULE``), lines
  normalised by that sentencepiece rule and cut before every ``▁``.

The words themselves are cut by :mod:`tokcli.pretok.words` (the regex fast path with HF's fallback);
:meth:`PretokenizerSpec.cutter` builds it once per process. ``identity`` keys infer-mixture's count
cache; ``describe()`` is what ``tokcli count`` writes into its manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from tokcli.bpe.pairs import SymbolSplit
from tokcli.errors import ConfigError, TokenizerError, UsageError
from tokcli.pretok.hf import hf_spelling, preset_pattern, split_regex_of, uses_metaspace
from tokcli.pretok.presets import PRESETS
from tokcli.pretok.regex_cutter import Cutter
from tokcli.pretok.words import (
    WordCounter,
    WordCutter,
    fast_regex,
    fast_tokenizer,
    is_byte_level,
    regex_words,
    spm_line_words,
    spm_model_words,
    tokenizer_words,
)

Pretokenizer = Callable[[str], list[bytes]]
SPM_RULES = ("nmt_nfkc", "identity", "nfkc", "nfkc_cf")
HF_PRESETS = ("gpt2", "cl100k", "o200k", "llama3", "none")


@dataclass(frozen=True)
class PretokenizerSpec:
    """How words are cut (see the module's docstring for the kinds). ``split``: the initial symbols of
    a word for BPE, single bytes (byte-level) or the UTF-8 bytes of each character."""

    kind: Literal["regex", "hf", "spm"]
    pattern: str = ""
    path: str = ""
    prefix_space: bool = False  # regex: a space before a text that has none (HF ByteLevel add_prefix_space)
    split: SymbolSplit = "bytes"
    max_piece_chars: int = 0  # pairs making a longer token are never merged (sentencepiece's limit)
    space_rule: str = "prefix"  # where sentencepiece lets U+2581 stand in a piece (count.drop_invalid_pairs)
    digits: str = "none"  # regex: the digit rule split first (tokcli.pretok.hf.DIGIT_PATTERNS)
    normalizer: tuple[str, ...] = ()  # regex: HF normalizers applied first (nfc, nfkc, lowercase)
    preset: str = ""  # regex: the hf-bpe preset it stands for (in count manifests)
    rule: str = ""  # spm without a model: the sentencepiece normalisation rule
    sha256: str = ""  # hf: of the tokenizer.json (in count manifests)

    @property
    def identity(self) -> str:
        """What the words depend on, for the count cache."""
        if self.kind == "regex":
            text = f"regex\0{self.pattern}\0{self.prefix_space}\0{self.split}"
            if self.digits != "none" or self.normalizer:
                text += f"\0{self.digits}\0{','.join(self.normalizer)}"
        elif self.kind == "spm" and self.path:
            text = "spm\0" + hashlib.sha256(Path(self.path).read_bytes()).hexdigest()
        elif self.kind == "spm":
            text = "spm-rule\0" + self.rule
        else:
            data = json.loads(Path(self.path).read_text(encoding="utf-8"))
            text = "hf\0" + json.dumps([data.get("normalizer"), data.get("pre_tokenizer"), self.split], sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def words_encoding(self) -> Literal["bytes", "utf-8"]:
        """How a word's bytes are made: a byte-level pre-token's bytes, or the UTF-8 of the pre-token."""
        if self.kind == "regex":
            return "bytes"
        if self.kind == "spm":
            return "utf-8"
        return "bytes" if is_byte_level(orjson.loads(Path(self.path).read_bytes())) else "utf-8"

    def describe(self) -> dict[str, Any]:
        """The manifest's ``pretok`` entry (the ``tokcli count --pretok`` it was made with)."""
        if self.kind == "regex" and self.preset:
            return {"kind": "hf-bpe", "preset": self.preset, "digits": self.digits, "normalizer": list(self.normalizer)}
        if self.kind == "regex":
            return {"kind": "regex", "pattern": self.pattern, "prefix_space": self.prefix_space}
        if self.kind == "spm":
            return {"kind": "spm", "rule": self.rule} if self.rule else {"kind": "spm-model", "path": self.path}
        return {"kind": "tokenizer", "path": self.path, "sha256": self.sha256}

    def cutter(self, *, fast: bool = True) -> WordCutter:
        """The built pre-tokenizer (once per process). ``fast=False``: HF cuts every text, never the fast
        path (the same words, slower; for checks)."""
        found = _CUTTERS.get((self, fast))
        if found is None:
            found = _CUTTERS[self, fast] = self._build(fast)
        return found

    def _build(self, fast: bool) -> WordCutter:
        if self.kind == "regex":
            return regex_words(
                self.pattern, digits=self.digits, normalizer=self.normalizer, prefix_space=self.prefix_space, fast=fast
            )
        if self.kind == "spm":
            return spm_model_words(self.path) if self.path else spm_line_words(self.rule)
        return tokenizer_words(self.path, fast=fast)

    def fast_cutter(self) -> Cutter | None:
        """The regex word cutter proven identical to HF's pre-tokenizer for this spec, or None."""
        if self.kind == "regex":
            return fast_regex(self.pattern, self.digits)
        return fast_tokenizer(self.path) if self.kind == "hf" else None

    @property
    def word_cutter(self) -> str:
        """Which code cuts the words: ``regex`` (the fast path or the ``regex`` module), ``hf`` or ``sentencepiece``."""
        if self.kind == "spm":
            return "sentencepiece"
        if self.kind == "regex" and hf_spelling(self.pattern) is None:
            return "regex"
        return "regex" if self.fast_cutter() is not None else "hf"

    def build(self) -> Pretokenizer:
        """The function: a document -> its words as bytes."""
        return self.cutter().words

    def count(self, texts: Iterable[str]) -> Counter[bytes]:
        """Word counts of ``texts``."""
        return self.cutter().count(texts)


_CUTTERS: dict[tuple[PretokenizerSpec, bool], WordCutter] = {}


def word_counter(spec: PretokenizerSpec, *, fast: bool = True) -> WordCounter:
    """The function texts -> word counts (``fast=False``: without the fast path)."""
    return spec.cutter(fast=fast).count


# ---------------------------------------------------------------------------------------------------
# Constructors


def bpe_pretokenizer(preset: str, digits: str = "none", normalizer: tuple[str, ...] = ()) -> PretokenizerSpec:
    """An hf-bpe preset's pre-tokenizer as ``tokcli train`` builds it: normalizers, digit rule, the
    preset's regex (``none``: words and white space runs)."""
    return PretokenizerSpec(
        "regex",
        pattern=preset_pattern(preset, key="count.pretok"),
        digits=digits,
        normalizer=tuple(n for n in normalizer if n != "none"),
        preset=preset,
    )


def parse_pretok(text: str, digits: str = "none", normalizer: tuple[str, ...] = ()) -> PretokenizerSpec:
    """``tokcli count --pretok``: ``gpt2`` / ``spm:nmt_nfkc`` / ``path/to/tokenizer.json`` -> a spec
    (a ConfigError naming count.pretok)."""
    if text in HF_PRESETS:
        if "none" in normalizer and len(normalizer) > 1:
            raise ConfigError("count.normalizer 'none' cannot be combined with other normalizers")
        return bpe_pretokenizer(text, digits, normalizer)
    if digits != "none" or normalizer:
        raise UsageError(
            "--digits and --normalizer apply to hf-bpe presets only",
            hint="a tokenizer.json brings its own; for sentencepiece the rule is spm:RULE",
        )
    if text.startswith("spm:"):
        rule = text[4:]
        if rule not in SPM_RULES:
            raise ConfigError(
                f"count.pretok: unknown sentencepiece rule {rule!r}", hint=f"use spm:{'|spm:'.join(SPM_RULES)}"
            )
        return PretokenizerSpec("spm", rule=rule)
    return _tokenizer_json(text)


def _tokenizer_json(text: str) -> PretokenizerSpec:
    from tokcli.files import sha256_file

    path = Path(text)
    if path.is_dir():
        path = path / "tokenizer.json"
    if not path.is_file():
        raise ConfigError(
            f"count.pretok {text!r} is not a preset, spm:RULE or a tokenizer.json file",
            hint=f"use one of {', '.join(HF_PRESETS)}, spm:{'|spm:'.join(SPM_RULES)}, or a tokenizer.json path",
        )
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ConfigError(f"count.pretok {path}: not a readable tokenizer.json ({exc})") from None
    if not isinstance(data, dict) or "model" not in data:
        raise ConfigError(f"count.pretok {path}: not a tokenizer.json (no 'model')", hint="give an HF tokenizer.json")
    if data.get("pre_tokenizer") is None:
        raise ConfigError(f"count.pretok {path}: the tokenizer has no pre-tokenizer to count words with")
    return PretokenizerSpec("hf", path=str(path.resolve()), sha256=sha256_file(path))


def regex_pretokenizer(pattern_or_preset: str, *, prefix_space: bool = False) -> PretokenizerSpec:
    """Byte-level BPE with a regex split: a preset name of tokcli.pretok.presets (``gpt2``, ``cl100k`` ...;
    its tiktoken spelling) or a regex."""
    preset = PRESETS.get(pattern_or_preset)
    pattern = preset.tiktoken if preset else pattern_or_preset
    try:
        import regex

        regex.compile(pattern)
    except Exception as exc:  # regex.error
        raise TokenizerError(f"bad pre-tokenization pattern {pattern_or_preset!r}: {exc}") from None
    return PretokenizerSpec(kind="regex", pattern=pattern, prefix_space=prefix_space)


def hf_pretokenizer(path: str | Path) -> PretokenizerSpec:
    """The pre-tokenizer of a BPE tokenizer.json. Byte-level: the common pipelines (no normalizer, and
    ``ByteLevel(use_regex=True)`` or ``Split(Regex(...)) + ByteLevel(use_regex=False)``) become the same
    regex split (the ``regex`` kind: the fast path cuts it); any other pipeline is run by HF itself
    (the ``hf`` kind). A tokenizer.json converted from sentencepiece BPE (U+2581 for spaces, no byte-level
    alphabet: Llama 2, Mistral) is split as sentencepiece's trainer did (``spm_pretokenizer``)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TokenizerError(f"{path}: not a readable tokenizer.json ({exc})") from None
    pre = data.get("pre_tokenizer")
    if "ByteLevel" not in json.dumps(pre):
        if isinstance(data, dict) and uses_metaspace(data):
            return spm_pretokenizer(path)
        raise TokenizerError(
            f"{path}: infer-mixture supports byte-level BPE and sentencepiece-style (U+2581) BPE tokenizer.json files",
            hint="use a byte-level BPE tokenizer (GPT-2 style), its tiktoken ranks file, or a sentencepiece BPE model",
        )
    found = split_regex_of(pre) if data.get("normalizer") is None else None
    if found is not None:
        return PretokenizerSpec(kind="regex", pattern=found[0], prefix_space=found[1])
    return PretokenizerSpec(kind="hf", path=str(path))


def spm_pretokenizer(path: str | Path) -> PretokenizerSpec:
    """The training-time word splitting of a sentencepiece BPE ``.model`` (or a tokenizer.json converted
    from one): character-level symbols, pairs limited to its max_sentencepiece_length."""
    from tokcli.pretok.spm_words import SpmWordSplitter

    try:
        splitter = SpmWordSplitter(str(path))
    except OSError as exc:
        raise TokenizerError(f"{path}: cannot read the sentencepiece model ({exc})") from None
    return PretokenizerSpec(
        kind="spm",
        path=str(path),
        split="chars",
        max_piece_chars=splitter.max_piece_chars,
        space_rule=splitter.space_rule,
    )
