"""Superword (SuperBPE-style) byte-level BPE: tokens may span several words.

Liu et al. (2025), "SuperBPE: Space Travel for Language Models": stage 1 is ordinary byte-level BPE up
to a transition vocabulary size; stage 2 keeps merging without splitting on whitespace, so merges can
join words. ``tokenizers`` cannot resume training from a merge list, so stage 2 is our own merge loop:

1. stage 1: the usual hf-bpe training to ``superword_transition`` tokens;
2. the corpus is read again and cut into *units*: maximal runs of word pre-tokens (``' ?\\p{L}+'``,
   e.g. `` the cat sat``), which the final pre-tokenizer also produces (its first regex alternative is
   ``(?: ?\\p{L}+)+``; everything else is split as the preset does);
3. each distinct unit is encoded with the stage-1 model, word by word, and counted;
4. BPE merges continue over the units (most frequent adjacent pair; ties broken by the pairs' bytes)
   until the vocabulary is full, never creating a token that spans more than ``MAX_WORDS`` words;
5. the new tokens and merges are appended to the stage-1 model. Stage-1 merges have lower ranks and
   never cross a word boundary, so encoding applies them first, then the superword merges, exactly as
   in training.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable
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

    from tokcli.presets import get_preset
    from tokcli.train.hf import NO_PRESET_PATTERN, _digit_step

    name = config.preset or "gpt2"
    rest = NO_PRESET_PATTERN if name == "none" else get_preset(name, key="train.preset").hf
    return pre_tokenizers.Sequence(
        [
            *_digit_step(config.digits),
            pre_tokenizers.Split(Regex(f"{UNIT_PATTERN}|{rest}"), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


def count_units(tokenizer: Any, batches: Iterable[list[str]]) -> Counter[tuple[str, ...]]:
    """Distinct multi-word units (as their byte-level words) and how often each occurs."""
    import regex

    word = regex.compile(WORD_PATTERN)
    pre = tokenizer.pre_tokenizer
    norm = tokenizer.normalizer
    counts: Counter[tuple[str, ...]] = Counter()
    for batch in batches:
        for text in batch:
            if norm is not None:
                text = norm.normalize_str(text)
            run: list[str] = []
            for piece, (start, end) in pre.pre_tokenize_str(text):
                if word.fullmatch(text[start:end]):
                    run.append(piece)
                    continue
                if len(run) > 1:
                    counts[tuple(run)] += 1
                run = []
            if len(run) > 1:
                counts[tuple(run)] += 1
    return counts


def superword_merges(
    units: Counter[tuple[str, ...]],
    tokenize: Callable[[str], list[str]],
    budget: int,
    min_frequency: int,
) -> list[tuple[str, str]]:
    """Up to ``budget`` merges over the units, most frequent pair first (ties: smallest pair)."""
    sequences: list[list[str]] = []
    freqs: list[int] = []
    for unit, freq in sorted(units.items()):
        symbols = [token for piece in unit for token in tokenize(piece)]
        sequences.append(symbols)
        freqs.append(freq)
    pairs: dict[tuple[str, str], int] = {}
    where: dict[tuple[str, str], set[int]] = {}
    for index, symbols in enumerate(sequences):
        for pair in itertools.pairwise(symbols):
            pairs[pair] = pairs.get(pair, 0) + freqs[index]
            where.setdefault(pair, set()).add(index)
    heap = [(-count, pair) for pair, count in pairs.items()]
    heapq.heapify(heap)
    merges: list[tuple[str, str]] = []
    known: set[str] = set()
    while heap and len(merges) < budget:
        negative, pair = heapq.heappop(heap)
        count = pairs.get(pair, 0)
        if -negative != count:
            continue  # stale
        if count < max(min_frequency, 1):
            break
        new = pair[0] + pair[1]
        if words_in(new) > MAX_WORDS or new in known:
            continue
        known.add(new)
        merges.append(pair)
        touched: set[tuple[str, str]] = set()
        for index in where.pop(pair, ()):
            symbols, freq = sequences[index], freqs[index]
            merged: list[str] = []
            i = 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
                    merged.append(new)
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            if len(merged) == len(symbols):
                continue
            for old in itertools.pairwise(symbols):
                pairs[old] -= freq
                touched.add(old)
            for fresh in itertools.pairwise(merged):
                pairs[fresh] = pairs.get(fresh, 0) + freq
                where.setdefault(fresh, set()).add(index)
                touched.add(fresh)
            sequences[index] = merged
        pairs.pop(pair, None)
        for key in touched:
            if key != pair and pairs.get(key, 0) > 0:
                heapq.heappush(heap, (-pairs[key], key))
    return merges


def train_superword(config: TrainConfig, read: Callable[[], Iterable[list[str]]]) -> tuple[str, dict[str, Any]]:
    """Two-stage training; ``read()`` streams the corpus (called twice)."""
    from tokenizers import Tokenizer

    from tokcli.train.hf import train_hf

    assert config.superword_transition is not None
    stage1_config = dataclasses.replace(config, vocab_size=config.superword_transition, superword_transition=None)
    stage1_text, _ = train_hf(stage1_config, read())
    stage1 = Tokenizer.from_str(stage1_text)
    units = count_units(stage1, read())
    data = json.loads(stage1_text)
    model = data["model"]
    vocab: dict[str, int] = model["vocab"]
    added = {t["id"] for t in data.get("added_tokens") or []}
    next_id = max([*vocab.values(), *added]) + 1
    budget = config.vocab_size - stage1.get_vocab_size(with_added_tokens=True)

    def tokenize(piece: str) -> list[str]:
        return [token.value for token in stage1.model.tokenize(piece)]

    merges = superword_merges(units, tokenize, budget, config.min_frequency)
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
        "multiword_units": len(units),
    }
    return text, facts
