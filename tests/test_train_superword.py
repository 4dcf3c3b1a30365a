"""Superword (SuperBPE) training, stage 2: the unit counter and the merge loop against a plain reference.

The references below are the first implementation of stage 2 (string pairs, every pair of a changed unit
recounted, one ``model.tokenize`` per word of every unit); the fast code must give the same units and the
same merges.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from tokcli.cli.app import main
from tokcli.corpus import Corpus, CorpusConfig
from tokcli.errors import ExitCode
from tokcli.train import TrainConfig, train_tokenizer
from tokcli.train.superbpe import MAX_WORDS, WORD_PATTERN, UnitCounter, superword_merges, words_in

DATA = Path(__file__).parent / "data"
INPUTS = (str(DATA / "austen.txt"), str(DATA / "code" / "python.jsonl"))
MULTILINGUAL = (*INPUTS, str(DATA / "parallel" / "udhr"))


def reference_units(tokenizer: Any, batches: Iterable[list[str]]) -> Counter[tuple[str, ...]]:
    """Runs of 2+ word pre-tokens (byte-level), cut by HF's ``pre_tokenize_str`` one document at a time."""
    import regex

    word = regex.compile(WORD_PATTERN)
    pre, norm = tokenizer.pre_tokenizer, tokenizer.normalizer
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


def reference_merges(
    units: Counter[tuple[str, ...]], tokenize: Callable[[str], list[str]], budget: int, min_frequency: int
) -> list[tuple[str, str]]:
    """Most frequent pair first (ties: the smaller pair of strings), with every count kept current in the heap."""
    sequences = [[t for piece in unit for t in tokenize(piece)] for unit in units]
    freqs = list(units.values())
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
            continue
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


def fast_merges(
    units: Counter[tuple[str, ...]],
    tokenize: Callable[[str], list[str]],
    budget: int,
    min_frequency: int,
    base: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """:func:`superword_merges` on the same units (token strings interned as ids, ``base`` first)."""
    tokens: list[str] = []
    ids: dict[str, int] = {}

    def token_id(token: str) -> int:
        if token not in ids:
            ids[token] = len(tokens)
            tokens.append(token)
        return ids[token]

    for token in base:
        token_id(token)
    sequences = [[token_id(t) for piece in unit for t in tokenize(piece)] for unit in units]
    return superword_merges(sequences, list(units.values()), tokens, token_id, budget, min_frequency)


def corpus_batches(inputs: tuple[str, ...], size: int = 100) -> Iterable[list[str]]:
    return Corpus(CorpusConfig(inputs=inputs)).text_batches(size)


def stage1_like(config: TrainConfig) -> Any:
    """An untrained tokenizer with stage 1's normalizer and pre-tokenizer."""
    from tokcli.train.hf import build_tokenizer

    return build_tokenizer(config)[0]


PRETOK = [
    {},
    {"preset": "cl100k", "digits": "rtl3"},
    {"preset": "o200k", "normalizer": ("nfkc", "lowercase")},
    {"preset": "llama3", "digits": "single"},
    {"preset": "none", "normalizer": ("nfc",)},
]


@pytest.mark.parametrize("options", PRETOK)
@pytest.mark.parametrize("fast", [True, False])
def test_units_equal_reference(options: dict[str, Any], fast: bool) -> None:
    config = TrainConfig(vocab_size=2000, superword_transition=1000, **options)
    counter = UnitCounter(config, fast=fast)
    for batch in corpus_batches(MULTILINGUAL):
        counter.add(batch)
    words = counter.byte_level_words()
    ours = Counter({tuple(words[w] for w in unit): n for unit, n in counter.counts.items()})
    expected = reference_units(stage1_like(config), corpus_batches(MULTILINGUAL))
    assert len(expected) > 1000 and ours == expected


def test_units_of_documents_the_fast_cutter_cannot_cut() -> None:
    """A code point the two regex engines class differently (U+0295) sends its document to HF, in the
    batch where it first appears and in later ones; the other documents keep the fast path."""
    from tokcli.pretok.regex_cutter import members, verified_table

    config = TrainConfig(vocab_size=2000, superword_transition=1000)
    table = verified_table()
    assert table is not None
    odd = members(table)[0]  # U+0295 with tokenizers 0.23.3
    batches = [
        ["the cat sat on the mat", f"a{odd}b cd{odd} ef gh", "x y z"],
        [f"again a{odd}b cd{odd} ef gh", "the cat sat", f"{odd}{odd} {odd}"],
        [f"a{odd}b cd{odd} ef gh", "it's the end, my friend"],
    ]
    counter = UnitCounter(config)
    for batch in batches:
        counter.add(batch)
    words = counter.byte_level_words()
    ours = Counter({tuple(words[w] for w in unit): n for unit, n in counter.counts.items()})
    assert ours == reference_units(stage1_like(config), batches)
    assert not any(odd in word for word in counter._kinds)  # never cached: found again in every batch


def test_merges_equal_reference_on_the_corpus() -> None:
    """Units of the fixtures through a stage-1 model: the same merges for several budgets and floors."""
    from tokenizers import Tokenizer

    from tokcli.train.hf import build_tokenizer

    stage1, trainer = build_tokenizer(TrainConfig(vocab_size=900))
    stage1.train_from_iterator(corpus_batches(INPUTS), trainer=trainer)
    model = Tokenizer.from_str(stage1.to_str()).model
    units = reference_units(stage1, corpus_batches(INPUTS))

    def tokenize(piece: str) -> list[str]:
        return [token.value for token in model.tokenize(piece)]

    for budget, floor in ((600, 2), (2000, 0), (100, 1)):
        expected = reference_merges(units, tokenize, budget, floor)
        assert fast_merges(units, tokenize, budget, floor) == expected
        assert expected and any(words_in(a + b) >= 2 for a, b in expected)


def symbols(piece: str) -> list[str]:
    return piece.split("|")


@pytest.mark.parametrize(
    ("units", "base"),
    [
        # overlapping pairs (a a a a -> aa aa), ties between equal counts, a unit repeated
        (Counter({("a|a|a|a",): 5, ("a|a|a",): 2, ("Ġb|a", "Ġa|b"): 3, ("Ġa|b", "Ġb|a"): 3}), ()),
        # one string from two pairs (Ġt+he, Ġth+e): made once; the word cap (Ġa Ġa Ġa Ġa Ġa)
        (Counter({("Ġt|he", "Ġx"): 4, ("Ġth|e", "Ġy"): 3, ("Ġa", "Ġa", "Ġa", "Ġa", "Ġa", "Ġa"): 9}), ()),
        # merges that make a token already in the vocabulary (ab), whose pairs then count from both sides
        (Counter({("a|b|c",): 4, ("ab|c",): 1, ("x|ab", "Ġa|b"): 3, ("x|a|b",): 2}), ("ab", "abc")),
    ],
)
def test_merges_equal_reference_on_edge_cases(units: Counter[tuple[str, ...]], base: tuple[str, ...]) -> None:
    for budget, floor in ((100, 0), (100, 2), (3, 1), (100, 6)):
        assert fast_merges(units, symbols, budget, floor, base) == reference_merges(units, symbols, budget, floor)


def test_merges_equal_reference_on_random_units() -> None:
    rng = random.Random(3)
    alphabet = ["a", "b", "ab", "Ġa", "Ġb", "Ġab", "c"]
    for _ in range(150):
        units: Counter[tuple[str, ...]] = Counter()
        for _ in range(rng.randint(1, 12)):
            unit = tuple("|".join(rng.choices(alphabet, k=rng.randint(1, 4))) for _ in range(rng.randint(1, 6)))
            units[unit] += rng.randint(1, 4)
        floor = rng.choice([0, 1, 2, 3])
        expected = reference_merges(units, symbols, 200, floor)
        assert fast_merges(units, symbols, 200, floor, alphabet) == expected


CONFIGS = [
    (INPUTS, {"vocab_size": 1500, "superword_transition": 900}),
    (
        MULTILINGUAL,
        {
            "vocab_size": 2000,
            "superword_transition": 1000,
            "preset": "cl100k",
            "digits": "rtl3",
            "normalizer": ("nfkc",),
            "special_tokens": ("<|endoftext|>",),
        },
    ),
]


@pytest.mark.parametrize(("inputs", "options"), CONFIGS)
def test_superword_file_is_the_same_with_or_without_the_fast_cutter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inputs: tuple[str, ...], options: dict[str, Any]
) -> None:
    """On any library versions: the fast cutter changes nothing in the file, and a rerun is byte-identical
    (the units and merges themselves are checked against the reference implementation above)."""
    from tokcli.pretok import regex_cutter as fastwords

    def train(name: str) -> bytes:
        out = tmp_path / name
        train_tokenizer(TrainConfig(output=str(out), **options), Corpus(CorpusConfig(inputs=inputs)))
        return out.read_bytes()

    assert fastwords.splitter(fastwords.known_patterns()[0], None) is not None  # the fast path is on here
    fast, again = train("fast.json"), train("again.json")
    monkeypatch.setattr(fastwords, "splitter", lambda pattern, digits: None)
    assert fast == again == train("hf.json")


def test_superword_from_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The corpus is read once, so stdin works, and gives the file the same documents give from a file."""
    import io
    import sys

    text = (DATA / "austen.txt").read_text(encoding="utf-8")
    from_file, from_stdin = tmp_path / "file.json", tmp_path / "stdin.json"
    options = ["--vocab-size", "1000", "--superword-transition", "700"]
    assert main(["-q", "train", str(DATA / "austen.txt"), *options, "-o", str(from_file)]) == ExitCode.OK
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8"))
    assert main(["-q", "train", "-", *options, "-o", str(from_stdin)]) == ExitCode.OK
    assert from_stdin.read_bytes() == from_file.read_bytes()
