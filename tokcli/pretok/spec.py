"""Pre-tokenizers for mixture inference: a document -> its words as bytes, exactly as the tokenizer
splits text before BPE (its normalizer and pre-tokenizer). Accuracy depends on matching it exactly.

A ``PretokenizerSpec`` is a small picklable description (counting runs in worker processes, and its
``identity`` keys the count cache); ``build()`` gives the function. Each word is later split into the
initial symbols given by ``split``: single bytes (byte-level BPE) or the UTF-8 bytes of each character
(character-level BPE).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tokcli.bpe.pairs import SymbolSplit
from tokcli.errors import TokenizerError
from tokcli.pretok.presets import PRESETS

Pretokenizer = Callable[[str], list[bytes]]


@dataclass(frozen=True)
class PretokenizerSpec:
    """``kind="regex"``: words are the matches of ``pattern`` (the ``regex`` module), optionally after
    prepending a space (``prefix_space``, HF ByteLevel ``add_prefix_space``). ``kind="hf"``: the
    normalizer and pre-tokenizer of the tokenizer.json at ``path`` (exact for any HF pipeline, slower).
    ``kind="spm"``: the training-time word splitting of the sentencepiece BPE model at ``path``
    (``tokcli.pretok.spm_words``)."""

    kind: Literal["regex", "hf", "spm"]
    pattern: str = ""
    path: str = ""
    prefix_space: bool = False
    split: SymbolSplit = "bytes"
    max_piece_chars: int = 0  # pairs making a longer token are never merged (sentencepiece's limit)
    space_rule: str = "prefix"  # where sentencepiece lets U+2581 stand in a piece (count.drop_invalid_pairs)

    @property
    def identity(self) -> str:
        """What the words depend on, for the count cache."""
        if self.kind == "regex":
            text = f"regex\0{self.pattern}\0{self.prefix_space}\0{self.split}"
        elif self.kind == "spm":
            text = "spm\0" + hashlib.sha256(Path(self.path).read_bytes()).hexdigest()
        else:
            data = json.loads(Path(self.path).read_text(encoding="utf-8"))
            text = "hf\0" + json.dumps([data.get("normalizer"), data.get("pre_tokenizer"), self.split], sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def build(self) -> Pretokenizer:
        """The function: a document -> its words as bytes."""
        pieces, to_bytes = self._pieces()
        return lambda text: [to_bytes(w) for w in pieces(text)]

    def count(self, texts: Iterable[str]) -> Counter[bytes]:
        """Word counts of ``texts`` (words are counted as strings; each distinct one is converted once)."""
        pieces, to_bytes = self._pieces()
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(pieces(text))
        return Counter({to_bytes(word): n for word, n in counts.items()})

    def _pieces(self) -> tuple[Callable[[str], list[str]], Callable[[str], bytes]]:
        if self.kind == "regex":
            return _regex_pieces(self.pattern, self.prefix_space), _utf8
        if self.kind == "spm":
            from tokcli.pretok.spm_words import SpmWordSplitter

            return SpmWordSplitter(self.path), _metaspace
        return _hf_pieces(self.path), _byte_level


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
    ``ByteLevel(use_regex=True)`` or ``Split(Regex) + ByteLevel(use_regex=False)``) become the same regex
    run by the ``regex`` module (5x faster than calling HF per document); any other pipeline is run by
    HF itself. A tokenizer.json converted from sentencepiece BPE (U+2581 for spaces, no byte-level
    alphabet: Llama 2, Mistral) is split as sentencepiece's trainer did (``spm_pretokenizer``)."""
    from tokcli.pretok.hf import uses_metaspace

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
    fast = _as_regex(pre) if data.get("normalizer") is None else None
    if fast is not None:
        return fast
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


def _as_regex(pre: Any) -> PretokenizerSpec | None:
    if not isinstance(pre, dict):
        return None
    steps = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
    if len(steps) == 1 and steps[0].get("type") == "ByteLevel" and steps[0].get("use_regex", True):
        return PretokenizerSpec(
            kind="regex", pattern=PRESETS["gpt2"].hf, prefix_space=bool(steps[0].get("add_prefix_space"))
        )
    if (
        len(steps) == 2
        and steps[0].get("type") == "Split"
        and "Regex" in steps[0].get("pattern", {})
        and steps[0].get("behavior") == "Isolated"
        and not steps[0].get("invert")
        and steps[1].get("type") == "ByteLevel"
        and not steps[1].get("use_regex", True)
        and not steps[1].get("add_prefix_space")
    ):
        return PretokenizerSpec(kind="regex", pattern=steps[0]["pattern"]["Regex"])
    return None


def _utf8(word: str) -> bytes:
    return word.encode("utf-8", "surrogatepass")


def _metaspace(word: str) -> bytes:
    return word.replace("\u2581", " ").encode("utf-8", "surrogatepass")


def _byte_level(word: str) -> bytes:
    from tokcli.bpe.byte_level import unicode_to_bytes

    table = unicode_to_bytes()
    return bytes(table[c] for c in word)


def _regex_pieces(pattern: str, prefix_space: bool) -> Callable[[str], list[str]]:
    """Words cut by ``pattern``. A preset's regex (either spelling) is cut as the tokenizer's own engine
    cuts it: HF runs it with Oniguruma and tiktoken with Rust's regex, which agree on every character
    class the presets use, while the ``regex`` module's newer Unicode tables put about 17,500 code points
    (e.g. Armenian U+0558, added in Unicode 16) in other classes. So the ``regex`` module cuts a document
    only when :mod:`tokcli.pretok.regex_cutter` proves it exact for it (no such code point, the installed
    library versions), and HF's ``Split(Regex)`` cuts the others. Other patterns: the ``regex`` module."""
    from tokcli.pretok.regex_cutter import splitter

    hf_spelling = next((p.hf for p in PRESETS.values() if pattern in (p.hf, p.tiktoken)), None)
    cutter = splitter(hf_spelling, None) if hf_spelling is not None else None
    if hf_spelling is not None:
        from tokenizers import Regex, pre_tokenizers

        engine = pre_tokenizers.Split(Regex(hf_spelling), behavior="isolated")

        def exact(text: str) -> list[str]:
            if prefix_space and not text.startswith(" "):
                text = " " + text
            words = cutter(text) if cutter is not None else None
            return words if words is not None else [piece for piece, _ in engine.pre_tokenize_str(text)]

        return exact
    return _regex_module_pieces(pattern, prefix_space)


def _regex_module_pieces(pattern: str, prefix_space: bool) -> Callable[[str], list[str]]:
    import regex

    compiled = regex.compile(pattern)
    findall, finditer = compiled.findall, compiled.finditer

    def pieces(text: str) -> list[str]:
        if prefix_space and not text.startswith(" "):
            text = " " + text
        found: list[str] = findall(text)
        if sum(map(len, found)) == len(text):
            return found
        # HF "isolated" splitting keeps the text between matches as words too
        found, end = [], 0
        for match in finditer(text):
            if match.start() > end:
                found.append(text[end : match.start()])
            found.append(match.group())
            end = match.end()
        if end < len(text):
            found.append(text[end:])
        return [w for w in found if w]

    return pieces


def _hf_pieces(path: str) -> Callable[[str], list[str]]:
    """Words in the byte-level alphabet, from the tokenizer.json's own normalizer and pre-tokenizer."""
    from tokenizers import Tokenizer

    hf = Tokenizer.from_file(path)
    pre, norm = hf.pre_tokenizer, hf.normalizer

    def pieces(text: str) -> list[str]:
        if norm is not None:
            text = norm.normalize_str(text)
        return [piece for piece, _ in pre.pre_tokenize_str(text)]

    return pieces
