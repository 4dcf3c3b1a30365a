"""Merge replay: the pair counts a BPE trainer saw at every step, for one category's sample.

Hayase et al. (NeurIPS 2024), section 3: count the words of a sample exactly as the tokenizer
pre-tokenizes them, then apply the tokenizer's merges in order, updating pair counts incrementally.
Only the counts that change at each step are stored (diffs), plus the full table at step 0; each
category's counts are later normalised by its total pair count at step 0.

Replay works on the UNIQUE words (word -> count), as BPE trainers do. Applying merge (a, b) -> n to
one occurrence ``x a b y`` only changes the pairs around it: (x,a), (a,b), (b,y) lose the word's count
and (x,n), (n,y) gain it; occurrences are processed left to right on the updated word, which is exactly
how overlapping occurrences (``a a a``) are merged and counted by a trainer. The same step
(:func:`merge_in_words`) drives the re-implementation of HF's BPE trainer (:mod:`tokcli.train.merge_loop`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokcli.mixture.merges import PAIR_SHIFT, MergeTable

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


def count_pairs(words: Sequence[Sequence[int]], freqs: Sequence[int]) -> tuple[dict[int, int], dict[int, set[int]]]:
    """Pair -> total count over the words (each occurrence weighted by its word's freq), and pair -> the
    indices of the words that hold it."""
    pairs: dict[int, int] = {}
    where: dict[int, set[int]] = {}
    get = pairs.get
    for index, (symbols, freq) in enumerate(zip(words, freqs, strict=True)):
        for key in map(lambda x, y: (x << PAIR_SHIFT) | y, symbols, symbols[1:]):
            pairs[key] = get(key, 0) + freq
            if key in where:
                where[key].add(index)
            else:
                where[key] = {index}
    return pairs, where


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


def merge_in_words(
    words: list[list[int]],
    freqs: Sequence[int],
    indices: Iterable[int],
    a: int,
    b: int,
    new: int,
    delta: dict[int, int],
    created: dict[int, set[int]],
    lengths: Sequence[int] | None = None,
    limit: int = 0,
) -> int:
    """Apply merge ``(a, b) -> new`` to ``words[i]`` for every ``i`` in ``indices``, in place; the number of
    occurrences merged, weighted by the words' ``freqs``.

    Occurrences are merged left to right on the updated word (``a a a a`` with ``(a, a)`` gives
    ``aa aa``), as HF's ``Word::merge`` and sentencepiece do. For each one, the neighbour pairs it breaks,
    ``(x, a)`` and ``(b, y)``, lose the word's count in ``delta`` and the pairs it makes, ``(x, new)``
    and ``(new, y)``, gain it, and the word's index is added to ``created[pair]``. The merged pair's own
    count is left to the caller. With ``lengths`` (token id -> length in characters), a pair it makes is
    counted only when its two lengths add up to less than ``limit`` (HF's ``max_token_length`` rule).
    A word without the pair is left as it is.
    """
    dget, cget = delta.get, created.get
    shift = PAIR_SHIFT
    right_b = b << shift
    new_left = new << shift
    capped = lengths is not None
    lens: Sequence[int] = lengths if lengths is not None else ()
    room = limit - lens[new] if capped else 0  # a neighbour shorter than this may make a pair with new
    merged = 0
    same = a == b
    for index in indices:
        symbols = words[index]
        left = symbols.count(a)  # occurrences of a not yet looked at (no exception to end the search)
        freq = freqs[index]
        i = 0
        n = len(symbols) - 1  # last position where a pair can start
        hits = 0
        while left:
            i = symbols.index(a, i)
            left -= 1
            if i >= n:
                break
            if symbols[i + 1] != b:
                i += 1
                continue
            if same:
                left -= 1
            hits += 1
            # the left and right neighbours are handled by the same few lines, written out twice: this
            # is the innermost loop of replay, route 2 and superword training, and a helper call per
            # made pair costs more than the repetition
            if i:
                x = symbols[i - 1]
                k = x << shift
                delta[k | a] = dget(k | a, 0) - freq
                if not capped or lens[x] < room:
                    k |= new
                    delta[k] = dget(k, 0) + freq
                    made = cget(k)
                    if made is None:
                        created[k] = {index}
                    else:
                        made.add(index)
            if i + 2 <= n:
                y = symbols[i + 2]
                k = right_b | y
                delta[k] = dget(k, 0) - freq
                if not capped or lens[y] < room:
                    k = new_left | y
                    delta[k] = dget(k, 0) + freq
                    made = cget(k)
                    if made is None:
                        created[k] = {index}
                    else:
                        made.add(index)
            symbols[i : i + 2] = (new,)
            n -= 1
            i += 1
        if hits:
            merged += hits * freq
    return merged


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
