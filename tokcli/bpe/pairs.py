"""Pairs of token ids and the BPE merge step over unique words, shared by the BPE trainer's re-implementation
(:mod:`tokcli.train.merge_loop`), superword training and mixture inference's merge replay.

A pair ``(left, right)`` of token ids is one integer ``left << PAIR_SHIFT | right``: dict keys stay small
ints, and ids stay below ``MAX_TOKENS``. Words are lists of ids with a count (``freqs``), as BPE trainers
keep them (HF's ``Word``, sentencepiece's ``Symbol`` lists).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

SymbolSplit = Literal["bytes", "chars"]  # the initial symbols of a word: its bytes, or its characters' UTF-8
PAIR_SHIFT = 21  # token ids stay below 2**21; a pair is keyed as left << 21 | right
MAX_TOKENS = 1 << PAIR_SHIFT


def pair_key(left: int, right: int) -> int:
    return (left << PAIR_SHIFT) | right


def split_pair(key: int) -> tuple[int, int]:
    return key >> PAIR_SHIFT, key & (MAX_TOKENS - 1)


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
