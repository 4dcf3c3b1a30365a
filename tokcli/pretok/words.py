"""Counting words as a pre-tokenizer cuts them.

A :class:`WordCutter` is a pre-tokenizer built once: :meth:`~WordCutter.words` gives one document's
words as bytes, :meth:`~WordCutter.new_count` an empty :class:`WordCount` that accumulates the words
of batches of texts (counted as strings; each distinct word is converted to bytes once, at the end).
:class:`tokcli.pretok.spec.PretokenizerSpec` says which one to build; the builders here take plain
arguments:

- :func:`regex_words`: a regex split (an hf-bpe preset's, after its normalizers and digit rule, or a
  ranks file's pattern); :func:`tokenizer_words`: a tokenizer.json's own normalizer and pre-tokenizer.
  Both are a :class:`SplitCutter` (HF's pipeline) with the fast path when the pattern is a known one:
  :mod:`tokcli.pretok.regex_cutter` cuts every text it is proven exact for, HF the others. A pattern
  that is no preset's is run by the ``regex`` module (a :class:`PieceCutter`);
- :func:`spm_model_words`: sentencepiece's trainer word splitting of a model
  (:mod:`tokcli.pretok.spm_words`), with ``▁`` turned back into a space;
- :func:`spm_line_words`: each line normalised by a sentencepiece rule and cut before every ``▁``
  (kept), as the trainer reads the lines ``tokcli train`` gives it.

Words are bytes: a byte-level pre-token's raw bytes, or the UTF-8 of the pre-token string.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

from tokcli.errors import ConfigError
from tokcli.pretok import regex_cutter
from tokcli.pretok.hf import DIGIT_PATTERNS, digit_step, hf_normalizer, hf_spelling, pattern_of
from tokcli.pretok.regex_cutter import Cutter
from tokcli.spm_model import MAX_SENTENCE_LENGTH

WordCounter = Callable[[Iterable[str]], Counter[bytes]]
CHUNK = 256  # texts cut by the fast path before their new words are checked for texts HF must cut


class WordCount:
    """Word counts accumulated over batches of texts: ``add`` them, then take ``counts()`` once."""

    def add(self, texts: Iterable[str]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def counts(self) -> Counter[bytes]:  # pragma: no cover - abstract
        raise NotImplementedError


class WordCutter:
    """A built pre-tokenizer."""

    def words(self, text: str) -> list[bytes]:  # pragma: no cover - abstract
        raise NotImplementedError

    def new_count(self) -> WordCount:  # pragma: no cover - abstract
        raise NotImplementedError

    def count(self, texts: Iterable[str]) -> Counter[bytes]:
        total = self.new_count()
        total.add(texts)
        return total.counts()


# ---------------------------------------------------------------------------------------------------
# HF pipelines with the fast path


class SplitCutter(WordCutter):
    """HF's ``split`` (a pre-tokenizer's ``pre_tokenize_str``) after ``normalize`` and, with
    ``prefix_space``, a space put before a text that has none; ``fast`` (proven identical to ``split``
    on the texts it accepts) cuts first. ``byte_level``: HF's pieces are in the byte-level alphabet
    (else they are text)."""

    def __init__(
        self,
        split: Callable[[str], list[tuple[str, Any]]],
        *,
        normalize: Callable[[str], str] | None = None,
        fast: Cutter | None = None,
        prefix_space: bool = False,
        byte_level: bool = False,
    ) -> None:
        from tokcli.bpe.byte_level import unicode_to_bytes

        self.split, self.normalize, self.fast = split, normalize, fast
        self.prefix_space, self.byte_level = prefix_space, byte_level
        # byte-level character -> the byte it stands for, as a one-character latin-1 string
        self.to_latin1 = str.maketrans({char: chr(byte) for char, byte in unicode_to_bytes().items()})

    def prepare(self, texts: list[str]) -> list[str]:
        """Texts as the pre-tokenizer sees them: normalised, with the prefix space."""
        if self.normalize is not None:
            texts = list(map(self.normalize, texts))
        if self.prefix_space:
            texts = [text if text.startswith(" ") else " " + text for text in texts]
        return texts

    def hf_bytes(self, piece: str) -> bytes:
        return piece.translate(self.to_latin1).encode("latin-1") if self.byte_level else piece.encode("utf-8")

    def words(self, text: str) -> list[bytes]:
        (text,) = self.prepare([text])
        found = self.fast(text) if self.fast is not None else None
        if found is not None:
            return [word.encode("utf-8") for word in found]
        return [self.hf_bytes(piece) for piece, _ in self.split(text)]

    def new_count(self) -> WordCount:
        return SplitCount(self)


class SplitCount(WordCount):
    def __init__(self, cutter: SplitCutter) -> None:
        self.cutter = cutter
        self.words: Counter[str] = Counter()  # cut by HF (byte-level strings when cutter.byte_level)
        self.plain: Counter[str] = Counter()  # cut by the fast path: their UTF-8 bytes are the words

    def add(self, texts: Iterable[str]) -> None:
        cutter, words, plain = self.cutter, self.words, self.plain
        fast, split = cutter.fast, cutter.split
        remaining = iter(texts)
        while chunk := list(itertools.islice(remaining, CHUNK)):
            chunk = cutter.prepare(chunk)
            if fast is None:
                for text in chunk:
                    words.update([w for w, _ in split(text)])
                continue
            known = len(plain)
            for text in chunk:
                plain.update(fast.words(text))
            # a text HF must cut put a word holding one of its characters among the new keys: find such
            # texts, move their words from ``plain`` to HF's count (rare: new or changed code points)
            if len(plain) > known and fast.dirty("".join(itertools.islice(plain, known, None))):
                for text in chunk:
                    if fast.dirty(text):
                        plain.subtract(fast.words(text))
                        words.update([w for w, _ in split(text)])
                for word in [w for w, n in plain.items() if n == 0]:
                    del plain[word]

    def counts(self) -> Counter[bytes]:
        out = Counter({w.encode("utf-8"): n for w, n in self.plain.items()})
        if self.cutter.byte_level:
            to_latin1 = self.cutter.to_latin1
            for w, n in self.words.items():
                out[w.translate(to_latin1).encode("latin-1")] += n
        else:
            for w, n in self.words.items():
                out[w.encode("utf-8")] += n
        return out


def fast_regex(pattern: str, digits: str = "none") -> Cutter | None:
    """The fast path for a regex split after a digit rule, or None (HF or the ``regex`` module cuts)."""
    known = hf_spelling(pattern)
    return regex_cutter.splitter(known, DIGIT_PATTERNS.get(digits)) if known is not None else None


def fast_tokenizer(path: str) -> Cutter | None:
    """The fast path for a tokenizer.json's pre-tokenizer, or None (HF cuts)."""
    data = orjson.loads(Path(path).read_bytes())
    if not is_byte_level(data):
        return None
    found = pattern_of(data.get("pre_tokenizer"))
    return regex_cutter.splitter(found, None) if found is not None else None


def is_byte_level(data: dict[str, Any]) -> bool:
    """Whether a tokenizer.json's pre-tokenizer maps bytes to the byte-level alphabet."""
    return "ByteLevel" in orjson.dumps(data.get("pre_tokenizer")).decode()


def regex_words(
    pattern: str,
    *,
    digits: str = "none",
    normalizer: tuple[str, ...] = (),
    prefix_space: bool = False,
    fast: bool = True,
) -> WordCutter:
    """Words as HF's ``Split(Regex(pattern), "isolated")`` cuts them, after the normalizers ``normalizer``
    and the digit rule ``digits``. A known pattern (a preset's regex in either spelling) is run as the
    tokenizer's own engine runs it (:func:`preset_words`); any other pattern by the ``regex`` module
    (no digit rule then)."""
    known = hf_spelling(pattern)
    if known is not None:
        return preset_words(known, digits=digits, normalizer=normalizer, prefix_space=prefix_space, fast=fast)
    if digits != "none":
        raise ValueError(f"a digit rule needs a preset's pattern, not {pattern!r}")
    normalize = hf_normalizer(normalizer)
    return PieceCutter(regex_pieces(pattern, prefix_space, normalize.normalize_str if normalize else None), utf8)


def preset_words(
    pattern: str,
    *,
    digits: str = "none",
    normalizer: tuple[str, ...] = (),
    prefix_space: bool = False,
    fast: bool = True,
) -> SplitCutter:
    """A known pattern's words (its HF spelling; ``tokcli.pretok.hf.hf_spelling``): HF (Oniguruma) and
    tiktoken (Rust's regex) agree on every character class the presets use, while the ``regex`` module's
    newer Unicode tables differ on some code points, so the fast path (``fast``) cuts only the texts it is
    proven exact for, and HF's ``Split`` the others. Pieces are text: their UTF-8 is the byte-level word."""
    from tokenizers import Regex, pre_tokenizers

    split = pre_tokenizers.Sequence([*digit_step(digits), pre_tokenizers.Split(Regex(pattern), behavior="isolated")])
    normalize = hf_normalizer(normalizer)
    return SplitCutter(
        split.pre_tokenize_str,
        normalize=normalize.normalize_str if normalize is not None else None,
        fast=fast_regex(pattern, digits) if fast else None,
        prefix_space=prefix_space,
    )


def tokenizer_words(path: str, *, fast: bool = True) -> WordCutter:
    """Words as the normalizer and pre-tokenizer of the tokenizer.json at ``path`` cut them (the fast path
    for the usual byte-level ones)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(path)
    pre, normalize = tokenizer.pre_tokenizer, tokenizer.normalizer
    if pre is None:
        raise ConfigError(f"{path}: the tokenizer has no pre-tokenizer to count words with")
    return SplitCutter(
        pre.pre_tokenize_str,
        normalize=normalize.normalize_str if normalize is not None else None,
        fast=fast_tokenizer(path) if fast else None,
        byte_level=is_byte_level(orjson.loads(Path(path).read_bytes())),
    )


# ---------------------------------------------------------------------------------------------------
# Pieces cut by a Python function; sentencepiece


class PieceCutter(WordCutter):
    """Words cut by ``pieces`` (a text -> its pre-tokens), turned into bytes by ``to_bytes``."""

    def __init__(self, pieces: Callable[[str], list[str]], to_bytes: Callable[[str], bytes]) -> None:
        self.pieces, self.to_bytes = pieces, to_bytes

    def words(self, text: str) -> list[bytes]:
        return [self.to_bytes(word) for word in self.pieces(text)]

    def new_count(self) -> WordCount:
        return PieceCount(self)


class PieceCount(WordCount):
    def __init__(self, cutter: PieceCutter) -> None:
        self.cutter = cutter
        self.words: Counter[str] = Counter()

    def add(self, texts: Iterable[str]) -> None:
        words, pieces = self.words, self.cutter.pieces
        for text in texts:
            words.update(pieces(text))

    def counts(self) -> Counter[bytes]:
        to_bytes = self.cutter.to_bytes
        return Counter({to_bytes(word): n for word, n in self.words.items()})


def utf8(word: str) -> bytes:
    return word.encode("utf-8", "surrogatepass")


def metaspace_utf8(word: str) -> bytes:
    return word.replace("\u2581", " ").encode("utf-8", "surrogatepass")


def regex_pieces(
    pattern: str, prefix_space: bool, normalize: Callable[[str], str] | None = None
) -> Callable[[str], list[str]]:
    """Words cut by ``pattern`` run by the ``regex`` module, as HF's "isolated" split cuts them (the text
    between matches is a word too)."""
    import regex

    compiled = regex.compile(pattern)
    findall, finditer = compiled.findall, compiled.finditer

    def pieces(text: str) -> list[str]:
        if normalize is not None:
            text = normalize(text)
        if prefix_space and not text.startswith(" "):
            text = " " + text
        found: list[str] = findall(text)
        if sum(map(len, found)) == len(text):
            return found
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


def spm_model_words(path: str) -> WordCutter:
    """The words sentencepiece's BPE trainer counts pairs in, for the model at ``path``."""
    from tokcli.pretok.spm_words import SpmWordSplitter

    return PieceCutter(SpmWordSplitter(path), metaspace_utf8)


def spm_line_words(rule: str) -> WordCutter:
    """Words as sentencepiece's trainer sees them: each line (as ``tokcli train`` feeds them) normalised
    with ``rule`` and cut before every ``▁`` (kept)."""
    import sentencepiece as spm

    # The trainer's whitespace handling (NormalizerSpec defaults), spelled out: before sentencepiece 0.2.3
    # the normalizer reset all three to False ('a  b' stayed 'a  b', no word marks at all).
    normalize = spm.SentencePieceNormalizer(
        rule_name=rule, add_dummy_prefix=True, escape_whitespaces=True, remove_extra_whitespaces=True
    ).normalize

    def pieces(text: str) -> list[str]:
        words: list[str] = []
        for line in text.splitlines():
            if not line.strip() or len(line.encode("utf-8")) > MAX_SENTENCE_LENGTH:
                continue
            first, *rest = normalize(line).split("\u2581")
            if first:
                words.append(first)
            words += ["\u2581" + p for p in rest]
        return words

    return PieceCutter(pieces, utf8)
