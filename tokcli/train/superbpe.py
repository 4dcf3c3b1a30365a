"""Superword (SuperBPE-style) byte-level BPE: tokens may span several words.

Liu et al. (2025), "SuperBPE: Space Travel for Language Models": stage 1 is ordinary byte-level BPE up
to a transition vocabulary size; stage 2 keeps merging without splitting on whitespace, so merges can
join words. ``tokenizers`` cannot resume training from a merge list, so stage 2 is our own merge loop:

1. stage 1: the usual hf-bpe training to ``superword_transition`` tokens. The corpus is read once: as
   the documents stream to the trainer they are also cut into *units* (:class:`UnitCounter`): maximal
   runs of word pre-tokens (``' ?\\p{L}+'``, e.g. `` the cat sat``), which the final pre-tokenizer also
   produces (its first regex alternative is ``(?: ?\\p{L}+)+``; everything else is split as the preset
   does). Only the distinct units and their counts are kept;
2. each distinct word of the units is encoded once with the stage-1 model (``encode_batch``);
3. BPE merges continue over the units (most frequent adjacent pair; ties broken by the pairs' strings)
   until the vocabulary is full, never creating a token that spans more than ``MAX_WORDS`` words
   (:func:`superword_merges`, on the replay engine's incremental merge step
   :func:`tokcli.mixture.replay.merge_in_words`);
4. the new tokens and merges are appended to the stage-1 model. Stage-1 merges have lower ranks and
   never cross a word boundary, so encoding applies them first, then the superword merges, exactly as
   in training.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from tokcli.train.options import TrainConfig

MAX_WORDS = 4
WORD_PATTERN = r" ?\p{L}+"
UNIT_PATTERN = r"(?: ?\p{L}+)+"


def words_in(token: str) -> int:
    """Words a byte-level token touches: maximal runs of non-space characters (``Ġ`` is a space)."""
    return len([part for part in token.replace("Ġ", " ").split(" ") if part])


def _final_pre_tokenizer(config: TrainConfig) -> Any:
    from tokenizers import Regex, pre_tokenizers

    from tokcli.pretok.hf import digit_step, preset_pattern

    rest = preset_pattern(config.preset)
    return pre_tokenizers.Sequence(
        [
            *digit_step(config.digits),
            pre_tokenizers.Split(Regex(f"{UNIT_PATTERN}|{rest}"), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


class _Kinds(dict[str, str]):
    """Pre-token -> ``"w"`` when it is a word (``WORD_PATTERN``), else ``"x"``; filled on first look-up."""

    def __init__(self) -> None:
        import regex

        super().__init__({"": "x"})  # "" ends a document
        self._word = regex.compile(WORD_PATTERN).fullmatch

    def __missing__(self, piece: str) -> str:
        kind = self[piece] = "w" if self._word(piece) else "x"
        return kind


class UnitCounter:
    """Distinct multi-word units of streamed documents and how often each occurs.

    A document is normalised and pre-tokenized as stage 1 does it (the config's normalizer, digit rule
    and preset); a unit is a maximal run of two or more consecutive pre-tokens that are each a word
    (``WORD_PATTERN``). Pre-tokens are cut as :func:`tokcli.pretok.words.preset_words` cuts them: the fast
    path (the same pre-tokens as HF's, as plain strings), and HF's ``Split`` for the documents it cannot
    cut exactly (or for all with ``fast=False``). Units are kept as tuples of plain strings;
    :meth:`byte_level_words` maps their words to the byte-level alphabet at the end.
    """

    def __init__(self, config: TrainConfig, *, fast: bool = True) -> None:
        import re

        from tokcli.pretok.hf import preset_pattern
        from tokcli.pretok.words import preset_words

        words = preset_words(
            preset_pattern(config.preset), digits=config.digits, normalizer=config.normalizer, fast=fast
        )
        self._cutter, self._normalize, self._pre_tokenize = words.fast, words.normalize, words.split
        self._kinds = _Kinds()
        self._runs = re.compile("w{2,}").finditer
        self.counts: Counter[tuple[str, ...]] = Counter()

    def _hf_words(self, text: str) -> list[str]:
        return [word for word, _ in self._pre_tokenize(text)]

    def add(self, texts: Sequence[str]) -> None:
        """Count the units of a batch of documents."""
        if self._normalize is not None:
            texts = [self._normalize(text) for text in texts]
        kinds, cutter = self._kinds, self._cutter
        known = len(kinds)
        words: list[str] = []
        for text in texts:  # the pre-tokens of the batch, "" after each document
            words += cutter.words(text) if cutter is not None else self._hf_words(text)
            words.append("")
        flags = "".join(map(kinds.__getitem__, words))
        # a document the fast cutter cannot cut exactly put a word holding one of its characters among the
        # new pre-tokens (each character is in some pre-token): cut such documents again with HF
        if cutter is not None and len(kinds) > known and cutter.dirty("".join(itertools.islice(kinds, known, None))):
            words = []
            for text in texts:
                words += cutter.words(text) if not cutter.dirty(text) else self._hf_words(text)
                words.append("")
            flags = "".join(map(kinds.__getitem__, words))
            for piece in [p for p in itertools.islice(kinds, known, None) if cutter.dirty(p)]:
                del kinds[piece]  # seen again in a later batch, it is new there and found the same way
        self.counts.update(tuple(words[run.start() : run.end()]) for run in self._runs(flags))

    def counting(self, batches: Iterable[list[str]]) -> Iterator[list[str]]:
        """``batches`` passed through, each counted once the consumer has taken it."""
        for batch in batches:
            yield batch
            self.add(batch)

    def byte_level_words(self) -> dict[str, str]:
        """Each distinct word of the units -> its byte-level string (as in the stage-1 vocabulary)."""
        from tokcli.bpe.byte_level import bytes_to_unicode

        table = str.maketrans({chr(byte): char for byte, char in bytes_to_unicode().items()})
        words = {word for unit in self.counts for word in unit}
        return {word: word.encode("utf-8").decode("latin-1").translate(table) for word in words}


def superword_merges(
    sequences: list[list[int]],
    freqs: Sequence[int],
    tokens: list[str],
    token_id: Callable[[str], int],
    budget: int,
    min_frequency: int,
) -> list[tuple[str, str]]:
    """Up to ``budget`` merges over the units, most frequent pair first (ties: smallest pair of strings).

    ``sequences`` are the units as token ids (``tokens[id]`` is the token's string; merged in place),
    ``freqs`` their counts; ``token_id(string)`` gives a merged string's id (a new one appended to
    ``tokens``, or the id of the same string already there). A pair whose token would span more than
    ``MAX_WORDS`` words, or repeat a token made earlier in this stage, is never merged. Stops at the
    first pair (the most frequent) below ``max(min_frequency, 1)``.
    """
    from tokcli.bpe.pairs import MAX_TOKENS, PAIR_SHIFT, count_pairs, merge_in_words

    mask = MAX_TOKENS - 1
    pairs, where = count_pairs(sequences, freqs)  # where: pair -> units that hold it (may be stale)
    floor = max(min_frequency, 1)  # a pair below it is never merged: it enters the heap only once above
    heap = [(-n, tokens[key >> PAIR_SHIFT], tokens[key & mask], key) for key, n in pairs.items() if n >= floor]
    heapq.heapify(heap)
    pop, push, get = heapq.heappop, heapq.heappush, pairs.get
    merges: list[tuple[str, str]] = []
    known: set[str] = set()
    while heap and len(merges) < budget:
        negative, left, right, key = pop(heap)
        count = get(key, 0)
        if -negative != count:
            if -negative > count >= floor:  # the count went down since: back with its current count
                push(heap, (-count, left, right, key))
            continue  # (below it: a newer entry holds the current count)
        if count < floor:
            break
        new = left + right
        if new in known or words_in(new) > MAX_WORDS:
            continue
        known.add(new)
        merges.append((left, right))
        made = token_id(new)
        if made >= MAX_TOKENS:
            raise ValueError(f"vocabularies above {MAX_TOKENS} tokens are not supported")
        delta: dict[int, int] = {}
        merge_in_words(sequences, freqs, where.pop(key, ()), key >> PAIR_SHIFT, key & mask, made, delta, where)
        for pair, change in delta.items():  # a count that goes up gets a new entry, one that goes down
            if change > 0:  # keeps its old one (see above)
                count = pairs[pair] = get(pair, 0) + change
                if count >= floor:
                    push(heap, (-count, tokens[pair >> PAIR_SHIFT], tokens[pair & mask], pair))
            elif change:
                pairs[pair] += change
        del pairs[key]
    return merges


def _unit_sequences(
    units: Counter[tuple[str, ...]], encoded: dict[str, list[int]]
) -> tuple[list[list[int]], list[int]]:
    sequences: list[list[int]] = []
    freqs: list[int] = []
    for unit, freq in units.items():
        sequences.append([token for word in unit for token in encoded[word]])
        freqs.append(freq)
    return sequences, freqs


def train_superword(config: TrainConfig, batches: Iterable[list[str]]) -> tuple[str, dict[str, Any]]:
    """Two-stage training on ``batches`` (read once)."""
    from tokenizers import Tokenizer

    from tokcli.train.hf import train_hf
    from tokcli.train.merge_loop import TokenTable

    assert config.superword_transition is not None
    stage1_config = dataclasses.replace(config, vocab_size=config.superword_transition, superword_transition=None)
    units = UnitCounter(config)
    stage1_text, _ = train_hf(stage1_config, units.counting(batches))
    stage1 = Tokenizer.from_str(stage1_text)
    data = json.loads(stage1_text)
    model = data["model"]
    vocab: dict[str, int] = model["vocab"]
    added = {t["id"] for t in data.get("added_tokens") or []}
    next_id = max([*vocab.values(), *added]) + 1
    budget = config.vocab_size - stage1.get_vocab_size(with_added_tokens=True)

    # every distinct word through the bare stage-1 model (no normalizer, pre-tokenizer or added tokens)
    words = units.byte_level_words()
    plain = list(words)
    encodings = Tokenizer(stage1.model).encode_batch([words[w] for w in plain], add_special_tokens=False)
    table = TokenTable()
    tokens, token_id = table.tokens, table.add
    encoded = {word: [token_id(t) for t in enc.tokens] for word, enc in zip(plain, encodings, strict=True)}
    sequences, freqs = _unit_sequences(units.counts, encoded)
    merges = superword_merges(sequences, freqs, tokens, token_id, budget, config.min_frequency)
    for left, right in merges:
        vocab[left + right] = next_id
        next_id += 1
        model["merges"].append([left, right])
    final = Tokenizer.from_str(json.dumps(data, ensure_ascii=False))
    final.pre_tokenizer = _final_pre_tokenizer(config)
    text = final.to_str(pretty=True)
    facts = {
        "vocab_size": final.get_vocab_size(with_added_tokens=True),
        "merges": len(json.loads(text)["model"]["merges"]),
        "superword_merges": len(merges),
        "multiword_units": len(units.counts),
    }
    return text, facts
