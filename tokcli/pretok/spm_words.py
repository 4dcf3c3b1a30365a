"""sentencepiece's training-time word splitting, for mixture inference on BPE ``.model`` files.

sentencepiece's BPE trainer (trainer_interface.cc, bpe_model_trainer.cc) reads text line by line (lines
longer than ``max_sentence_length`` bytes are skipped), replaces meta pieces (``<s>``, user-defined
symbols ...) by a space, normalises the line with the model's normalizer (NFKC rules, dummy prefix,
whitespace -> U+2581), splits it into words at U+2581 (``SplitIntoWords``) and counts pairs inside
words. A pair is only merged when the piece it makes is valid (``IsValidSentencePiece``):

- no change of Unicode script inside a piece (Hiragana and Katakana count as Han, a combining mark takes
  the script of the character before it, and with ``split_by_number`` off digits join any script);
- with ``split_digits``, a digit is never part of a longer piece;
- no character outside the alphabet (the trainer turns characters beyond ``character_coverage`` into an
  UNK symbol that never merges; the alphabet is the model's single-character pieces);
- at most ``max_sentencepiece_length`` characters;
- U+2581 only as the first character (the last with ``treat_whitespace_as_suffix``), unless the piece
  is all U+2581 and ``allow_whitespace_only_pieces`` is on.

The first three are boundaries between neighbouring characters, so cutting each word there yields exactly
the pairs the trainer may merge (up to a combining mark that starts a piece at a script change). The
last two depend on the pair, not on a boundary: ``count.drop_invalid_pairs`` removes those pairs from
the counts (the trainer never counts a pair whose piece is invalid).

Not modelled (a documented approximation): the trainer only considers the top 5% most frequent pairs
between refreshes every 100 merges.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from tokcli.errors import TokenizerError

SPACE = "\u2581"
ANY = ""  # a character that joins any script (sentencepiece's kAnyType)
_UNKNOWN, _CONTROL, _USER_DEFINED = 2, 3, 4  # SentencePiece.Type


@lru_cache(maxsize=1)
def _script_pattern() -> tuple[Any, dict[str, str]]:
    """One regex whose matching group tells a character's Unicode script (the ``regex`` module knows
    every script; scripts are named by their property number, Hiragana/Katakana mapped to Han)."""
    import regex
    from regex import _regex_core

    _, values = _regex_core.PROPERTIES["SCRIPT"]
    numbers = sorted(set(values.values()))
    names = {number: min((n for n, v in values.items() if v == number), key=len) for number in numbers}
    groups = "|".join(f"(?P<s{number}>\\p{{Script={names[number]}}})" for number in numbers)
    han, inherited = str(values["HAN"]), str(values["INHERITED"])
    label = {f"s{number}": str(number) for number in numbers}
    for japanese in ("HIRAGANA", "KATAKANA"):
        label[f"s{values[japanese]}"] = han
    label["inherited"] = inherited
    return regex.compile(groups), label


@cache
def script_of(char: str) -> str:
    """An identifier of the Unicode script of ``char`` as sentencepiece groups them (Hiragana, Katakana
    and U+30FC count as Han); ``INHERITED`` for combining marks."""
    pattern, label = _script_pattern()
    if char == "\u30fc":
        return script_of("\u4e00")
    match = pattern.match(char)
    return label[match.lastgroup] if match and match.lastgroup else "unknown"


def _inherited() -> str:
    return _script_pattern()[1]["inherited"]


class SpmWordSplitter:
    """Callable: a document -> the words sentencepiece's BPE trainer counts pairs in (U+2581 kept).

    ``path`` is a sentencepiece ``.model`` (its TrainerSpec gives the options) or a tokenizer.json
    converted from one (Llama 2, Mistral: a BPE model over U+2581-marked pieces); the options a
    tokenizer.json does not record are inferred from its vocabulary (``_infer_options``)."""

    def __init__(self, path: str) -> None:
        head = Path(path).read_bytes()[:1]
        if head == b"{":
            self._from_tokenizer_json(path)
        else:
            self._from_model(path)
        if not self.options["split_by_whitespace"]:
            raise TokenizerError(
                f"{path}: trained with split_by_whitespace=false, which infer-mixture does not model",
                hint="use a model trained with the default split_by_whitespace=true",
            )
        self._use(self.options)

    def _use(self, options: dict[str, int]) -> None:
        self._max_line = options["max_sentence_length"]
        self._by_script = bool(options["split_by_unicode_script"])
        self._by_number = bool(options["split_by_number"])
        self._digits = bool(options["split_digits"])
        self._suffix = bool(options["treat_whitespace_as_suffix"])
        self._ws_only = bool(options["allow_whitespace_only_pieces"])

    def _from_model(self, path: str) -> None:
        from sentencepiece import SentencePieceProcessor

        from tokcli.spm_model import piece_types, trainer_options

        proto = Path(path).read_bytes()
        self.options = trainer_options(proto)
        sp = SentencePieceProcessor()
        sp.LoadFromSerializedProto(proto)
        self._normalize: Callable[[str], str] = sp.Normalize
        pieces = [sp.IdToPiece(i) for i in range(sp.GetPieceSize())]
        try:
            types = piece_types(proto)
        except (ValueError, IndexError):
            types = [1] * len(pieces)
        # the alphabet: single-character normal pieces; meta pieces (UNK, control, user-defined) are
        # replaced by a space before normalising, longest first
        self.alphabet = frozenset(p for p, kind in zip(pieces, types, strict=False) if kind == 1 and len(p) == 1)
        meta = [p for p, kind in zip(pieces, types, strict=False) if kind in (_UNKNOWN, _CONTROL, _USER_DEFINED)]
        self._meta = sorted(meta, key=len, reverse=True)

    def _from_tokenizer_json(self, path: str) -> None:
        import json

        from tokenizers import Tokenizer

        from tokcli.bpe.byte_level import byte_piece_value

        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            vocab = data["model"]["vocab"]
            added = {t["content"] for t in data.get("added_tokens") or []}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TokenizerError(f"{path}: not a readable tokenizer.json ({exc})") from None
        hf = Tokenizer.from_file(path)
        norm, pre = hf.normalizer, hf.pre_tokenizer

        def normalize(line: str) -> str:
            if norm is not None:
                line = norm.normalize_str(line)
            if pre is not None:
                line = "".join(piece for piece, _ in pre.pre_tokenize_str(line))
            return line

        self._normalize = normalize
        pieces = [p for p in vocab if p not in added and byte_piece_value(p) is None]
        self.alphabet = frozenset(p for p in pieces if len(p) == 1)
        self._meta = sorted(added, key=len, reverse=True)
        self.options = _infer_options(pieces)

    @property
    def max_piece_chars(self) -> int:
        return int(self.options["max_sentencepiece_length"])

    @property
    def space_rule(self) -> str:
        """Where U+2581 may stand in a piece, for ``count.drop_invalid_pairs``: ``prefix`` or ``suffix``,
        with ``+runs`` when all-U+2581 pieces are allowed."""
        rule = "suffix" if self._suffix else "prefix"
        return rule + "+runs" if self._ws_only else rule

    def __call__(self, text: str) -> list[str]:
        out: list[str] = []
        for line in text.split("\n"):
            if not line or len(line.encode("utf-8", "surrogatepass")) > self._max_line:
                continue
            for meta in self._meta:
                if meta in line:
                    line = line.replace(meta, " ")
            normalized = self._normalize(line)
            for word in self._split_words(normalized):
                out.extend(self._cut(word))
        return out

    def _split_words(self, text: str) -> list[str]:
        """SplitIntoWords (model_interface.cc): a word starts at each U+2581 (ends at it when whitespace
        is a suffix); with ``allow_whitespace_only_pieces`` a run of U+2581 stays in one word."""
        words: list[str] = []
        current: list[str] = []
        in_run = False
        for char in text:
            is_ws = char == SPACE
            if self._suffix:
                if not is_ws and in_run and self._ws_only and current:
                    words.append("".join(current))
                    current = []
                current.append(char)
                in_run = is_ws
                if is_ws and not self._ws_only:
                    words.append("".join(current))
                    current = []
                continue
            if (not current and not words) or (is_ws and (not in_run or not self._ws_only)):
                if current:
                    words.append("".join(current))
                current = []
                in_run = True
            if in_run and not is_ws:
                in_run = False
            current.append(char)
        if current:
            words.append("".join(current))
        return words

    def _cut(self, word: str) -> list[str]:
        """The word cut wherever IsValidSentencePiece forbids a piece to span two neighbours."""
        parts: list[str] = []
        start, previous, inherited = 0, ANY, _inherited()
        for pos, char in enumerate(word):
            if char == SPACE:
                continue  # never changes the script state
            if char not in self.alphabet:  # an UNK symbol: never merged with anything
                if pos > start:
                    parts.append(word[start:pos])
                start, previous = pos + 1, ANY
                continue
            script = script_of(char)
            if script == inherited:
                script = previous
            digit = unicodedata.decimal(char, None) is not None
            if digit and not self._by_number:
                script = ANY
            if digit and self._digits:
                if pos > start:
                    parts.append(word[start:pos])
                parts.append(char)
                start, previous = pos + 1, script
                continue
            if self._by_script and script != ANY and previous != ANY and script != previous and pos > start:
                parts.append(word[start:pos])
                start = pos
            previous = script
        if start < len(word):
            parts.append(word[start:])
        return parts


# sentencepiece's TrainerSpec defaults (sentencepiece_model.proto)
_DEFAULTS = {
    "max_sentence_length": 4192,
    "max_sentencepiece_length": 16,
    "split_by_unicode_script": 1,
    "split_by_number": 1,
    "split_by_whitespace": 1,
    "split_digits": 0,
    "treat_whitespace_as_suffix": 0,
    "allow_whitespace_only_pieces": 0,
}


def _infer_options(pieces: list[str]) -> dict[str, int]:
    """The trainer options of a converted tokenizer.json, from its pieces: the most restrictive rules
    under which every piece is a valid sentencepiece (a rule some piece breaks was off), the longest
    piece as max_sentencepiece_length. max_sentence_length is not recoverable: the default is assumed."""
    options = dict(_DEFAULTS)
    longer = [p for p in pieces if len(p) > 1]
    starts = any(p[0] == SPACE and p.strip(SPACE) for p in longer)
    ends = any(p[-1] == SPACE and p.strip(SPACE) for p in longer)
    options["treat_whitespace_as_suffix"] = int(ends and not starts)
    options["allow_whitespace_only_pieces"] = int(any(not p.strip(SPACE) for p in longer))
    options["split_by_whitespace"] = int(not any(SPACE in p.strip(SPACE) for p in longer))
    options["max_sentencepiece_length"] = max((len(p) for p in pieces), default=16)
    probe = object.__new__(SpmWordSplitter)
    probe.alphabet = frozenset("".join(longer))

    def all_valid(**changes: int) -> bool:
        probe._use({**options, **changes})
        return all(probe._cut(p) == [p] for p in longer)

    for by_script, by_number in ((1, 1), (1, 0), (0, 1)):
        if all_valid(split_by_unicode_script=by_script, split_by_number=by_number):
            options["split_by_unicode_script"], options["split_by_number"] = by_script, by_number
            break
    options["split_digits"] = int(all_valid(split_digits=1))
    return options
