"""Merge replay: the pair counts a BPE trainer saw at every step, for one category's sample.

Hayase et al. (NeurIPS 2024), section 3: count the words of a sample exactly as the tokenizer
pre-tokenizes them, then apply the tokenizer's merges in order, updating pair counts incrementally.
Only the counts that change at each step are stored (diffs), plus the full table at step 0; each
category's counts are later normalised by its total pair count at step 0.

Replay works on the UNIQUE words (word -> count), as BPE trainers do. Applying merge (a, b) -> n to
one occurrence ``x a b y`` only changes the pairs around it: (x,a), (a,b), (b,y) lose the word's count
and (x,n), (n,y) gain it; occurrences are processed left to right on the updated word, which is exactly
how overlapping occurrences (``a a a``) are merged and counted by a trainer. The same step
(:func:`tokcli.bpe.pairs.merge_in_words`) drives the re-implementation of HF's BPE trainer
(:mod:`tokcli.train.merge_loop`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokcli.bpe.pairs import PAIR_SHIFT, count_pairs, merge_in_words
from tokcli.mixture.merges import MergeTable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

UNKNOWN_BASE = 1 << 20  # id of a character no merge uses (char-level BPE): UNKNOWN_BASE + code point


@dataclass
class ReplayCounts:
    """One category's pair counts through the replay, as sorted arrays (one row per change).

    Row r says: from step ``steps[r]`` on, pair ``pairs[r]`` has count ``counts[r]`` (until the next
    row of the same pair). Step 0 is the table before any merge; a change made by merge t (0-based)
    takes effect at step t + 1. Rows are sorted by (pair, step).
    """

    pairs: npt.NDArray[np.int64]
    steps: npt.NDArray[np.int32]
    counts: npt.NDArray[np.int64]
    total: int  # total pair count at step 0 (the normaliser)
    merges: int  # merges replayed (T)
    words: int
    distinct_words: int
    sample_bytes: int = 0

    def state_at(self, step: int) -> dict[int, int]:
        """Pair -> count before merge ``step`` (non-zero counts only). For tests and debugging."""
        state: dict[int, int] = {}
        for pair, at, count in zip(self.pairs.tolist(), self.steps.tolist(), self.counts.tolist(), strict=True):
            if at <= step:
                state[pair] = count
        return {k: v for k, v in state.items() if v}


def count_words(pretokenized: Iterable[Sequence[bytes]]) -> Counter[bytes]:
    """Count words; each item is one document's pre-tokens as bytes."""
    counts: Counter[bytes] = Counter()
    for words in pretokenized:
        counts.update(words)
    return counts


def _symbols(word_counts: Counter[bytes], table: MergeTable) -> tuple[list[list[int]], list[int]]:
    """Each word as its initial symbol ids, with its count."""
    words: list[list[int]] = []
    freqs: list[int] = []
    if table.split == "bytes":  # ids 0-255 are the single bytes (MergeTable.build)
        for word, freq in word_counts.items():
            if len(word) > 1:
                words.append(list(word))
                freqs.append(freq)
        return words, freqs
    ids = table.ids
    for word, freq in word_counts.items():
        chars = word.decode("utf-8", "replace")
        if len(chars) > 1:
            found = [ids.get(c.encode("utf-8")) for c in chars]
            words.append([UNKNOWN_BASE + ord(c) if i is None else i for c, i in zip(chars, found, strict=True)])
            freqs.append(freq)
    return words, freqs


def replay(word_counts: Counter[bytes], table: MergeTable, steps: int, *, sample_bytes: int = 0) -> ReplayCounts:
    """Apply the first ``steps`` usable merges of ``table`` to the counted words, recording the pair
    counts that change at every step."""
    import numpy as np

    words, freqs = _symbols(word_counts, table)
    pairs, where = count_pairs(words, freqs)  # where: pair -> words that contain it (may be stale: checked on use)
    out_pairs: list[int] = list(pairs)
    out_steps: list[int] = [0] * len(pairs)
    out_counts: list[int] = list(pairs.values())
    total = sum(out_counts)
    get = pairs.get
    for step, (a, b, new) in enumerate(table.merges[:steps], 1):
        target = (a << PAIR_SHIFT) | b
        delta: dict[int, int] = {}
        merged = merge_in_words(words, freqs, where.pop(target, ()), a, b, new, delta, where)
        if merged:
            delta[target] = delta.get(target, 0) - merged
        for key, change in delta.items():
            if change:
                count = get(key, 0) + change
                if count:
                    pairs[key] = count
                else:
                    del pairs[key]
                out_pairs.append(key)
                out_steps.append(step)
                out_counts.append(count)
    pair_array = np.asarray(out_pairs, dtype=np.int64)
    step_array = np.asarray(out_steps, dtype=np.int32)
    order = np.lexsort((step_array, pair_array))
    return ReplayCounts(
        pairs=pair_array[order],
        steps=step_array[order],
        counts=np.asarray(out_counts, dtype=np.int64)[order],
        total=total,
        merges=min(steps, len(table.merges)),
        words=sum(word_counts.values()),
        distinct_words=len(word_counts),
        sample_bytes=sample_bytes,
    )


def drop_invalid_pairs(counts: ReplayCounts, table: MergeTable, max_chars: int, space_rule: str) -> ReplayCounts:
    """Drop the pairs sentencepiece's trainer never counts because the piece they would make is invalid
    (``IsValidSentencePiece``, trainer_interface.cc): longer than ``max_chars`` characters, or a space
    (U+2581, a space byte here) anywhere but first (``space_rule`` ``prefix``) or last (``suffix``),
    unless the piece is all spaces and whitespace-only pieces are allowed (``+runs``)."""
    import dataclasses

    import numpy as np

    size = len(table.ids) + 1  # the last row stands for ids the table does not know (never a space)
    chars = np.ones(size, dtype=np.int64)
    has_space = np.zeros(size, dtype=bool)
    space_inside = np.zeros(size, dtype=bool)  # a space not at the allowed end
    all_space = np.zeros(size, dtype=bool)
    suffix = space_rule.startswith("suffix")
    for token, index in table.ids.items():
        text = token.decode("utf-8", "replace")
        chars[index] = len(text)
        has_space[index] = " " in text
        space_inside[index] = " " in (text[:-1] if suffix else text[1:])
        all_space[index] = not text.strip(" ")

    def row(ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return np.where(ids < len(table.ids), ids, len(table.ids))

    left = row(counts.pairs >> PAIR_SHIFT)
    right = row(counts.pairs & ((1 << PAIR_SHIFT) - 1))
    first, second = (has_space, space_inside) if suffix else (space_inside, has_space)
    placed = ~first[left] & ~second[right]
    if space_rule.endswith("+runs"):
        placed |= all_space[left] & all_space[right]
    keep = placed & (chars[left] + chars[right] <= max_chars)
    return dataclasses.replace(counts, pairs=counts.pairs[keep], steps=counts.steps[keep], counts=counts.counts[keep])
