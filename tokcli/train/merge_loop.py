"""HF ``tokenizers``' BPE trainer, re-implemented over (word, count) pairs: route 2 of ``train --from-counts``.

``BpeTrainer::do_train`` (tokenizers 0.23, ``tokenizers/src/models/bpe/trainer.rs`` and ``word.rs``) works on
the unique words and their counts only, so the same loop run here on the counts of ``tokcli count`` gives
the same vocabulary and merges as HF on the corpus, without feeding HF the corpus again. Everything that
can change the result is done as HF does it:

* ids: special tokens first (in order, duplicates once), then the alphabet sorted by code point: the
  characters of the words and the initial alphabet; with ``limit_alphabet`` the least frequent characters
  are dropped first (the initial alphabet counts as infinitely frequent), and characters outside the
  alphabet are dropped from the words. A character equal to a special token takes the special token's id.
* pair counts are kept as HF keeps them: each merge subtracts the neighbour pairs it breaks and adds the
  pairs it makes, but the merged pair's own count is left as it was; counts wrap as HF's ``i32`` does
  and are compared as ``u64`` (both matter only beyond 2**31 occurrences of a pair).
* the priority queue holds entries (count, pair, word positions): the largest count first, ties to the
  smaller pair of ids. A popped entry whose count is out of date is pushed back with the current count
  and *its own* positions, and a merge is applied only to the words of the entry popped. Each merge step
  pushes one new entry per pair it made, holding only the words where that step made it.

  A pair would get a second entry, and could then be merged in some of its words first and in the
  others at a later step (the same merge emitted twice; tokenizer.json keeps a pair once, at its last
  step, as HF stores merges in a map keyed by pair), only if a merge produced a token that already
  exists (``Ġt + he``, later ``Ġth + e``). That cannot happen while every merge reaches all the words
  holding its pair: a piece of a word whose ends stay token boundaries is merged exactly as the piece
  alone would be, and the piece alone became one token at the first merge that made its string, so it
  is never split in two again. Each pair becomes adjacent at a single step (when the later of its two
  tokens is made, or at the start), so its one entry holds all its words, and by induction no merge
  ever produces an existing token (checked on real corpora: merges = tokens made). The mechanism is
  reproduced all the same; ``BpeModel.emitted`` would exceed ``len(merges)`` if it ever fired.
* ``Word::merge``: occurrences are merged left to right on the updated word (``aaaa`` -> ``aa aa``); with
  ``max_token_length`` a pair made by a merge is counted only when its two tokens are together *shorter*
  than the limit (the initial pairs of two characters are always counted), as HF does.
* the loop stops when the vocabulary (special tokens included) reaches ``vocab_size``, when no entry
  is left, or at the first current entry whose count is below 1 or below ``min_frequency``.

Where HF itself is not deterministic, no re-implementation can match it, and this one picks a fixed rule:
the characters ``limit_alphabet`` cuts among equally frequent ones depend on the hash-map order of the
Rust process (random per process). With the byte-level initial alphabet every character ties, so any
``limit_alphabet`` below 256 gives a different tokenizer in every HF run (seen: three runs, three
files); here the characters with the smaller code points are dropped first. (Two entries of one pair
with the same count would also pop in a random order, but see above: there is never a second entry.)
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tokcli.bpe.pairs import MAX_TOKENS, PAIR_SHIFT, count_pairs, merge_in_words

_I32 = 1 << 32
_HALF = 1 << 31
_U64 = 1 << 64
_ALWAYS = 1 << 64  # usize::MAX: the count HF gives the characters of the initial alphabet


def as_i32(count: int) -> int:
    """``count`` as HF's wrapping ``i32`` pair count holds it."""
    return count if -_HALF <= count < _HALF else (count + _HALF) % _I32 - _HALF


def as_u64(count: int) -> int:
    """The ``i32`` pair count cast to ``u64`` (``as u64`` sign-extends), as HF's queue compares it."""
    return count if 0 <= count < _HALF else as_i32(count) % _U64


@dataclass
class BpeModel:
    """What HF's trainer gives the BPE model: the tokens by id and the merges as tokenizer.json lists them."""

    tokens: list[str]
    merges: list[tuple[str, str]]
    emitted: int  # merge steps run; above len(merges) when a pair was merged at two steps
    stop_reason: str  # "vocab_size", "min_frequency" or "no_pairs"

    @property
    def vocab(self) -> dict[str, int]:
        return {token: index for index, token in enumerate(self.tokens)}


class TokenTable:
    """Token strings by id, interned: a string gets an id once, the next id (shared by route 2's merge
    loop and superword training)."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.ids: dict[str, int] = {}

    def add(self, token: str) -> int:
        """The id of ``token``, a new one if it has none yet."""
        found = self.ids.get(token)
        if found is None:
            found = self.ids[token] = len(self.tokens)
            self.tokens.append(token)
        return found


def _alphabet(word_counts: dict[str, int], initial_alphabet: Iterable[str], limit_alphabet: int | None) -> list[str]:
    """The initial characters, sorted by code point (``compute_alphabet``)."""
    initial = set(initial_alphabet)
    if limit_alphabet is None:
        chars: set[str] = set(initial)
        for word in word_counts:
            chars.update(word)
        return sorted(chars)
    frequency: dict[str, int] = {}
    for word, count in word_counts.items():
        for char in word:
            frequency[char] = frequency.get(char, 0) + count
    for char in initial:
        frequency[char] = _ALWAYS
    cut = max(0, len(frequency) - limit_alphabet)
    kept = sorted(frequency.items(), key=lambda item: (item[1], item[0]))[cut:]
    return sorted(char for char, _ in kept)


def train_bpe(
    words: Iterable[tuple[str, int]],
    *,
    vocab_size: int,
    min_frequency: int = 0,
    special_tokens: Sequence[str] = (),
    initial_alphabet: Iterable[str] = (),
    limit_alphabet: int | None = None,
    max_token_length: int | None = None,
) -> BpeModel:
    """HF's ``BpeTrainer`` on (word, count) pairs (a word listed twice counts once, with the sum)."""
    word_counts = _sum_counts(words)
    table = _initial_table(special_tokens, _alphabet(word_counts, initial_alphabet, limit_alphabet))
    symbols, freqs = _word_symbols(word_counts, table.ids)
    del word_counts
    pair_counts, heap = _initial_queue(symbols, freqs)
    seq = len(heap)  # ties between entries of the same pair and count: the older pops first

    # The merge loop (the hot path: kept in one piece, every name local)
    tokens, add = table.tokens, table.add
    lengths = [len(token) for token in tokens]
    capped = max_token_length is not None
    limit = max_token_length or 0
    emitted: list[int] = []
    stop_reason = "vocab_size"
    mask = MAX_TOKENS - 1
    pop, push = heapq.heappop, heapq.heappush
    while len(tokens) < vocab_size:
        if not heap:
            stop_reason = "no_pairs"
            break
        stored, key, _, positions = pop(heap)
        count = pair_counts[key]
        if not 0 <= count < _HALF:
            count = as_u64(count)
        if -stored != count:
            push(heap, (-count, key, seq, positions))
            seq += 1
            continue
        if count < 1 or min_frequency > count:
            stop_reason = "min_frequency" if count >= 1 else "no_pairs"
            break
        a, b = key >> PAIR_SHIFT, key & mask
        new = add(tokens[a] + tokens[b])
        if new == len(lengths):
            lengths.append(lengths[a] + lengths[b])
            if new >= MAX_TOKENS:
                raise ValueError(f"vocabularies above {MAX_TOKENS} tokens are not supported")
        emitted.append(key)
        created: dict[int, set[int]] = {}  # HF's where_to_update: the words where this step made each pair
        merge_in_words(symbols, freqs, positions, a, b, new, pair_counts, created, lengths if capped else None, limit)
        for pair, made in created.items():
            count = pair_counts[pair]
            if 0 < count < _HALF:
                push(heap, (-count, pair, seq, array("I", made)))
            elif as_i32(count) > 0:
                push(heap, (-as_u64(count), pair, seq, array("I", made)))
            seq += 1

    return BpeModel(tokens=tokens, merges=_merge_list(tokens, emitted), emitted=len(emitted), stop_reason=stop_reason)


def _sum_counts(words: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Word -> count, a word listed twice with the sum of its counts."""
    word_counts: dict[str, int] = {}
    for word, count in words:
        word_counts[word] = word_counts.get(word, 0) + count
    return word_counts


def _initial_table(special_tokens: Sequence[str], alphabet: list[str]) -> TokenTable:
    """The first ids: the special tokens in order (duplicates once), then the alphabet."""
    table = TokenTable()
    for token in special_tokens:
        table.add(token)
    for char in alphabet:
        table.add(char)
    return table


def _word_symbols(word_counts: dict[str, int], ids: dict[str, int]) -> tuple[list[list[int]], list[int]]:
    """Each word of two symbols or more as the ids of its characters (those outside the alphabet
    dropped), and its count."""
    symbols: list[list[int]] = []
    freqs: list[int] = []
    known = ids.get
    for word, count in word_counts.items():
        found = list(map(known, word))
        if None in found:
            found = [i for i in found if i is not None]
        if len(found) > 1:  # a word of one symbol has no pair and never changes
            symbols.append(found)  # type: ignore[arg-type]
            freqs.append(count)
    return symbols, freqs


def _initial_queue(
    symbols: list[list[int]], freqs: list[int]
) -> tuple[dict[int, int], list[tuple[int, int, int, array[int]]]]:
    """The pair counts of the words, and the queue: one entry per pair with a positive count, holding
    the words where it occurs."""
    pair_counts, where = count_pairs(symbols, freqs)
    # A queue entry keeps its words as an array of indices, not a set (a one-word set takes 216 bytes,
    # the array 68): the words of an entry are distinct and only iterated, in any order.
    heap: list[tuple[int, int, int, array[int]]] = []
    while where:
        key, holders = where.popitem()
        count = pair_counts[key]
        if as_i32(count) > 0:
            heap.append((-as_u64(count), key, len(heap), array("I", holders)))
    del where
    heapq.heapify(heap)
    return pair_counts, heap


def _merge_list(tokens: list[str], emitted: list[int]) -> list[tuple[str, str]]:
    """The merges of the emitted pair keys as tokenizer.json lists them: a pair merged at two steps
    once, at its last step (HF stores merges in a map keyed by pair)."""
    mask = MAX_TOKENS - 1
    last = {key: step for step, key in enumerate(emitted)}
    return [(tokens[key >> PAIR_SHIFT], tokens[key & mask]) for step, key in enumerate(emitted) if last[key] == step]
