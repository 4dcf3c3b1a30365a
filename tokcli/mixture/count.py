"""Merge replay: the pair counts a BPE trainer saw at every step, for one category's sample.

Hayase et al. (NeurIPS 2024), section 3: count the words of a sample exactly as the tokenizer
pre-tokenizes them, then apply the tokenizer's merges in order, updating pair counts incrementally.
Only the counts that change at each step are stored (diffs), plus the full table at step 0; each
category's counts are later normalised by its total pair count at step 0.

Symbols are integers: a token's id is its index in the token table built from the initial symbols and
the merges (``MergeTable``); a pair is keyed as ``left << 21 | right``.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

PAIR_SHIFT = 21  # ids below 2**21 (2M tokens)


def pair_key(left: int, right: int) -> int:
    return (left << PAIR_SHIFT) | right


@dataclass
class MergeTable:
    """Token bytes <-> ids for the initial symbols and every usable merge, in merge order."""

    ids: dict[bytes, int] = field(default_factory=dict)
    merges: list[tuple[int, int, int]] = field(default_factory=list)  # (left, right, new) per step
    merge_bytes: list[tuple[bytes, bytes]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (index in the input list, reason)

    def symbol(self, token: bytes) -> int:
        found = self.ids.get(token)
        if found is None:
            found = self.ids[token] = len(self.ids)
        return found

    @classmethod
    def build(cls, merges: Sequence[tuple[bytes, bytes]], initial: Iterable[bytes]) -> MergeTable:
        """Keep merges whose sides can be produced (initial symbols or earlier merges) and that create a
        token not created before (converted merge lists can repeat one); record why others are dropped."""
        table = cls()
        for token in initial:
            table.symbol(token)
        produced = set(table.ids)
        for index, (left, right) in enumerate(merges):
            if left not in produced or right not in produced:
                table.skipped.append((index, "a side can never be produced"))
                continue
            new = left + right
            if new in produced:
                table.skipped.append((index, "duplicate: creates a token created before"))
                continue
            produced.add(new)
            table.merges.append((table.ids[left], table.ids[right], table.symbol(new)))
            table.merge_bytes.append((left, right))
        return table


@dataclass
class ReplayCounts:
    """One category: the pair table at step 0, the changed counts after each step, and the total."""

    initial: dict[int, int]
    diffs: list[list[tuple[int, int]]]  # diffs[t]: (pair, new count) after applying merge t
    total: int  # total pair count at step 0 (the normaliser)
    words: int
    distinct_words: int


def count_words(pretokenized: Iterable[Sequence[bytes]]) -> Counter[bytes]:
    """Count words; each item is one document's pre-tokens as bytes."""
    counts: Counter[bytes] = Counter()
    for words in pretokenized:
        counts.update(words)
    return counts


def replay(word_counts: Counter[bytes], table: MergeTable, steps: int, split: str = "bytes") -> ReplayCounts:
    """Apply the first ``steps`` merges of ``table`` to the counted words, recording pair-count diffs.

    ``split="bytes"``: a word starts as its single bytes (byte-level BPE); ``"chars"``: as the UTF-8
    bytes of each character (character-level BPE such as sentencepiece).
    """
    words: list[list[int]] = []
    freqs: list[int] = []
    pairs: dict[int, int] = {}
    where: dict[int, set[int]] = {}
    symbol = table.ids.get
    for word, freq in word_counts.items():
        if split == "bytes":
            pieces = [word[i : i + 1] for i in range(len(word))]
        else:
            pieces = [ch.encode("utf-8") for ch in word.decode("utf-8", "surrogateescape")]
        ids = [symbol(p, -1) for p in pieces]
        index = len(words)
        words.append(ids)
        freqs.append(freq)
        for a, b in itertools.pairwise(ids):
            if a < 0 or b < 0:
                continue
            key = (a << PAIR_SHIFT) | b
            pairs[key] = pairs.get(key, 0) + freq
            where.setdefault(key, set()).add(index)
    initial = dict(pairs)
    diffs: list[list[tuple[int, int]]] = []
    for a, b, new in table.merges[:steps]:
        target = (a << PAIR_SHIFT) | b
        before: dict[int, int] = {}  # counts of the pairs this step touches, as they were
        for index in where.pop(target, ()):
            symbols = words[index]
            freq = freqs[index]
            i = 0
            merged: list[int] = []
            found = False
            n = len(symbols)
            while i < n:
                if i + 1 < n and symbols[i] == a and symbols[i + 1] == b:
                    merged.append(new)
                    i += 2
                    found = True
                else:
                    merged.append(symbols[i])
                    i += 1
            if not found:
                continue  # a stale index: the pair left this word at an earlier step
            for x, y in itertools.pairwise(symbols):
                if x >= 0 and y >= 0:
                    key = (x << PAIR_SHIFT) | y
                    if key not in before:
                        before[key] = pairs[key]
                    pairs[key] -= freq
            for x, y in itertools.pairwise(merged):
                if x >= 0 and y >= 0:
                    key = (x << PAIR_SHIFT) | y
                    if key not in before:
                        before[key] = pairs.get(key, 0)
                    pairs[key] = pairs.get(key, 0) + freq
                    if key != target:
                        where.setdefault(key, set()).add(index)
            words[index] = merged
        step_diff = []
        for key, old in before.items():
            count = pairs[key]
            if count != old:
                step_diff.append((key, count))
            if count == 0:
                del pairs[key]
        step_diff.sort()
        diffs.append(step_diff)
    return ReplayCounts(
        initial=initial,
        diffs=diffs,
        total=sum(initial.values()),
        words=sum(word_counts.values()),
        distinct_words=len(word_counts),
    )
