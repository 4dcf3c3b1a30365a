"""hf-bpe pre-tokens cut by the ``regex`` module, identical to HF's ``Split(Regex) + ByteLevel``.

``tokcli count`` spends most of its time cutting words. HF's ``pre_tokenize_str`` called from Python
builds a (byte-level string, offsets) tuple per word (~2.3 MB/s per core here); the same preset regex
run by the ``regex`` module's ``findall`` gives the words as plain strings whose UTF-8 bytes are the
byte-level words (~8 MB/s), with no byte-level mapping to undo.

Why the words are the same: HF runs the regex with Oniguruma, tokcli with the ``regex`` module. Both
are backtracking Perl-style matchers with the same leftmost-first alternation, greedy quantifiers,
``{1,3}``, negative lookahead and ``(?i:...)`` on the contractions, so on the presets' patterns (the
``hf`` spellings in :mod:`tokcli.pretok.presets`, no ``$`` or possessive quantifier) they cut a text the same
way as long as they agree on the character classes the patterns use. They do not always: their
Unicode tables are of different versions (with tokenizers 0.23.3 and regex 2026.11.15 or 2026.12.2:
17,560 code points, letters, digits and marks of recent Unicode versions, and U+0295, which changed
category). The table of every code point on which any of those classes differs is computed by
:func:`disagreements` from the two installed engines; a document that contains one of them (or a
surrogate) is cut by HF itself.

The table depends on the installed versions, so it is proven for them at first use
(:func:`verified_table`): :data:`DISAGREE` ships the table for the versions in :data:`TABLE_FOR`;
for any other versions it is computed (about 1.5 s of CPU, once), checked to leave no character
unmatched by the known patterns, and cached in the user's cache folder (:mod:`tokcli.cache`) under a
key of the versions and the patterns. When the check cannot run, every document goes to HF and a
one-line warning says so. Tests (``tests/test_scale_fastwords.py``) recompute the table from both
engines over every code point and compare the words with HF's for every combination of classes in
several contexts, every digit under the digit rules, fuzzed strings and batches, and the shipped
corpora; ``scripts/bench_scale.py`` checks the counts of its whole input both ways.

Each preset's alternatives match every character, so ``findall`` leaves no text between matches (HF's
"isolated" split would keep such text as a word); the tests check this on every code point, and only
these patterns (and the digit rules') take the fast path.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from tokcli import cache
from tokcli.pretok.hf import DIGIT_PATTERNS, NO_PRESET_PATTERN
from tokcli.pretok.presets import PRESETS

# The character classes the preset and digit patterns are made of (``[^\s\p{L}\p{N}]`` and the like
# follow from these). ``(?i:[dlmrstve])``: what the contractions' letters match case-insensitively.
CLASSES = (r"\p{L}", r"\p{N}", r"\s", r"\p{Lu}", r"\p{Ll}", r"\p{Lt}", r"\p{Lm}", r"\p{Lo}", r"\p{M}", r"[\r\n]")
FOLDED = "dlmrstve"

# Computed by ``python -m tokcli.pretok.regex_cutter`` for these versions (tokenizers, regex); for any
# other versions :func:`verified_table` computes the table once and caches it.
TABLE_FOR = (("0.23.3", "2026.11.15"), ("0.23.3", "2026.12.2"))
DISAGREE = (
    "\u0295\u0558\u058b\u058c\u05c8\u05c9\u088f\u0b53\u0b54\u0c5c\u0cdc\u1acf-\u1af0\u208f\u209d-\u209f"
    "\ua7ce\ua7cf\ua7d2\ua7d4\ua7dd\ua7e2\ua7f1\uab6c\uab6d\U000107bb-\U000107bf\U00010940-\U00010959"
    "\U00010ec5-\U00010ec7\U00010ecb-\U00010ecf\U00010ed9-\U00010eee\U00010ef0-\U00010efb\U00011b0a"
    "\U00011b60-\U00011b67\U00011db0-\U00011ddb\U00011de0-\U00011de9\U00011df0\U00011df1\U0001246f"
    "\U00012475-\U0001247f\U00012550-\U00012686\U00016ea0-\U00016eb8\U00016ebb-\U00016ed3\U00016ff2-"
    "\U00016ff6\U000187f8-\U000187ff\U00018cd6-\U00018cda\U00018d09-\U00018d20\U00018d80-\U00018df2"
    "\U00018e00-\U00019191\U000191a0-\U000191d2\U0001b123-\U0001b128\U0001b168\U0001d127\U0001d128"
    "\U0001d250-\U0001d252\U0001d25b\U0001d25c\U0001d25f\U0001d280\U0001d281\U0001d6a6\U0001df1f-"
    "\U0001df24\U0001df2b-\U0001df81\U0001df90-\U0001df96\U0001dfcd-\U0001dfff\U0001e6c0-\U0001e6de"
    "\U0001e6e0-\U0001e6f5\U0001e6fe\U0001e6ff\U0002b73a-\U0002b73f\U0002b81e\U0002cea2-\U0002cead"
    "\U000323b0-\U00033479\U0003d000-\U0003fc3f"
)


def _all_code_points() -> str:
    return "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))


def disagreements() -> str:
    """The code points (as a sorted string) on which Oniguruma (through HF) and ``regex`` put a
    character in different classes of :data:`CLASSES`, or fold it differently onto :data:`FOLDED`."""
    import regex
    from tokenizers import Regex, normalizers

    text = _all_code_points()
    differ: set[str] = set()
    patterns = [f"[^{c}]+" if not c.startswith("[") else f"[^{c[1:-1]}]+" for c in CLASSES]
    patterns.append(f"(?i:[^{FOLDED}])+")
    for pattern in patterns:  # remove the non-members: what is left are the members
        theirs = set(normalizers.Replace(Regex(pattern), "").normalize_str(text))
        ours = set(regex.sub(pattern, "", text))
        differ |= theirs ^ ours
    return "".join(sorted(differ))


def as_class(chars: str) -> str:
    """A sorted string of characters as a compact regex class body (ranges ``a-b``)."""
    out: list[str] = []
    codes = [ord(c) for c in chars]
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        first, last = chr(codes[i]), chr(codes[j])
        out.append(first if i == j else first + last if j == i + 1 else f"{first}-{last}")
        i = j + 1
    return "".join(out)


def members(body: str) -> list[str]:
    """The characters of a class body written by :func:`as_class`."""
    out: list[str] = []
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            out += map(chr, range(ord(body[i]), ord(body[i + 2]) + 1))
            i += 3
        else:
            out.append(body[i])
            i += 1
    return out


def _escape(body: str) -> str:
    def one(c: str) -> str:
        if c.isascii() and c.isprintable():
            return c
        return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"

    return "".join(map(one, body))


def installed_versions() -> tuple[str, str]:
    """(tokenizers, regex) versions, the two engines the table compares."""
    import regex
    import tokenizers

    return tokenizers.__version__, regex.__version__


def known_patterns() -> list[str]:
    """The pre-tokenizer patterns the fast path takes: each preset's HF spelling and the no-preset one."""
    return sorted({p.hf for p in PRESETS.values()} | {NO_PRESET_PATTERN})


def uncovered(patterns: list[str]) -> list[str]:
    """The patterns whose matches leave some code point unmatched (the fast path needs none)."""
    import regex

    text = _all_code_points()
    return [p for p in patterns if sum(map(len, regex.findall(p, text))) != len(text)]


@functools.cache
def verified_table() -> str | None:
    """The disagreement table (a class body) proven for the installed versions, or None when the fast
    path cannot be proven exact here (the check failed or could not run: a warning says which)."""
    versions = installed_versions()
    if versions in TABLE_FOR:
        return DISAGREE
    patterns = known_patterns()
    key = cache.cache_key("fastwords", versions, CLASSES, FOLDED, patterns)
    found = cache.load("fastwords", key)
    if isinstance(found, dict) and isinstance(found.get("disagree"), str):
        return found["disagree"] if found.get("covered") is True else None
    try:
        body = as_class(disagreements())
        missing = uncovered(patterns)
    except Exception as exc:  # an engine that refuses a class or pattern: fall back, never silently
        _warn(f"cannot check the fast word cutter against tokenizers {versions[0]} / regex {versions[1]} ({exc})")
        return None
    cache.store("fastwords", key, {"disagree": body, "covered": not missing, "versions": list(versions)})
    if missing:
        _warn(f"the fast word cutter leaves text unmatched with regex {versions[1]}")
        return None
    return body


def _warn(reason: str) -> None:
    logging.getLogger("tokcli").warning(f"{reason}; words are cut by HF's pre-tokenizer instead (same result, slower)")


def fast_path_available() -> bool:
    """Whether the fast word cutter is proven exact for the installed versions (checked once, cached)."""
    return verified_table() is not None


class Cutter:
    """Pre-tokens of one preset (and digit rule) as strings whose UTF-8 bytes are the byte-level words.

    :meth:`words` cuts any text (exact when :meth:`dirty` is false for it); :meth:`dirty` tells whether
    a string holds a code point of :data:`DISAGREE` or a surrogate, for which HF must cut the text. As
    the patterns match every character, each character of a text is in one of its words: checking the
    words a batch of texts added to a counter finds every dirty text in the batch."""

    def __init__(self, pattern: str, digit_pattern: str | None, table: str) -> None:
        import regex

        self._findall = regex.compile(pattern).findall
        self._split = regex.compile(f"({digit_pattern})").split if digit_pattern is not None else None
        self._bad = frozenset(members(table)) | frozenset(map(chr, range(0xD800, 0xE000)))

    def words(self, text: str) -> list[str]:
        if self._split is None:
            return self._findall(text)
        words: list[str] = []
        for piece in self._split(text):  # the text between digit groups and the groups, in order
            if piece:
                words += self._findall(piece)
        return words

    def dirty(self, text: str) -> bool:
        return not self._bad.isdisjoint(text)  # 7x faster than a regex class search here

    def __call__(self, text: str) -> list[str] | None:
        """The words of ``text``, or None when HF must cut it."""
        return None if self.dirty(text) else self.words(text)


@functools.cache
def splitter(pattern: str, digit_pattern: str | None) -> Cutter | None:
    """The :class:`Cutter` for ``pattern`` (the preset's regex) after ``digit_pattern`` (the digit rule's
    regex, which HF applies first as ``Split(Regex(digit), "isolated")``, or None); None when the fast
    path cannot be proven exact here (a pattern the tests do not cover, or the table could not be
    verified for the installed versions)."""
    if pattern not in known_patterns() or digit_pattern not in (None, *DIGIT_PATTERNS.values()):
        return None  # the known patterns are proven to match every character (no text left between)
    table = verified_table()
    return None if table is None else Cutter(pattern, digit_pattern, table)


def main(argv: Any = None) -> None:  # pragma: no cover - maintenance helper
    body = _escape(as_class(disagreements()))
    print(f"TABLE_FOR += ({installed_versions()!r},)")
    print(f'DISAGREE = "{body}"')


if __name__ == "__main__":  # pragma: no cover
    main()
