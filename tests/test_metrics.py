"""Metric definitions on hand-computable cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokcli.metrics import (
    MetricsAccumulator,
    TextBatch,
    bootstrap_ratio_ci,
    char_offsets,
    classify_digit_split,
    digit_style,
    jaccard,
    renyi_entropy,
    tokens_per_unit,
    word_spans,
)


def test_three_word_sentence() -> None:
    # "the cats sat" tokenized as [the][ cat][s][ sat]: 4 tokens, 3 words, "cats" split in 2.
    text = "the cats sat"
    offsets = [(0, 3), (3, 7), (7, 8), (8, 12)]
    acc = MetricsAccumulator(vocab_size=16)
    acc.add(text, [1, 2, 3, 4], offsets)
    m = acc.result()
    assert (m.docs, m.bytes, m.chars, m.words, m.tokens) == (1, 12, 12, 3, 4)
    assert m.bytes_per_token == 3.0 and m.chars_per_token == 3.0
    assert m.fertility == pytest.approx(4 / 3)
    assert m.split_rate == pytest.approx(1 / 3)
    assert m.word_unit == "word"
    assert m.vocab_used == pytest.approx(4 / 16)


def test_cjk_sentence_uses_characters() -> None:
    # 我们是学生。 is 6 characters with no spaces, tokenized as [我们][是][学生][。].
    text = "我们是学生。"
    offsets = [(0, 2), (2, 3), (3, 5), (5, 6)]
    acc = MetricsAccumulator(vocab_size=10)
    acc.add(text, [1, 2, 3, 4], offsets)
    m = acc.result()
    assert m.word_unit == "char"
    assert m.words == 6  # characters are the unit
    assert m.fertility == pytest.approx(1.0)  # each character lies in exactly one token
    assert m.split_rate == 0.0
    assert m.bytes == 18 and m.chars == 6
    assert m.bytes_per_token == pytest.approx(18 / 4)


def test_byte_fallback_and_unk_rates() -> None:
    # "é€" where the tokenizer fell back to bytes for "€" (3 byte tokens) and had one UNK.
    acc = MetricsAccumulator(vocab_size=300, byte_fallback_ids=range(3, 259), unk_id=0)
    acc.add("é€ x", [270, 3 + 0xE2, 3 + 0x82, 3 + 0xAC, 0], [(0, 1), (1, 2), (1, 2), (1, 2), (3, 4)])
    m = acc.result()
    assert m.tokens == 5
    assert m.byte_fallback_rate == pytest.approx(3 / 5)
    assert m.unk_rate == pytest.approx(1 / 5)
    # the word "é€" is covered by 4 tokens (three of them share a span), "x" by one
    assert m.fertility == pytest.approx(5 / 2)


def test_macro_average_is_mean_of_document_ratios() -> None:
    acc = MetricsAccumulator(vocab_size=8)
    acc.add("aaaa", [1], [(0, 4)])  # 4 bytes/token
    acc.add("bb", [2, 2], [(0, 1), (1, 2)])  # 1 byte/token
    m = acc.result()
    assert m.bytes_per_token == pytest.approx(6 / 3)
    assert m.bytes_per_token_macro == pytest.approx((4 + 1) / 2)


def test_missing_offsets_give_no_fertility() -> None:
    acc = MetricsAccumulator(vocab_size=8)
    acc.add("a b", [1, 2], None)
    m = acc.result()
    assert math.isnan(m.fertility) and m.tokens == 2


def test_renyi_entropy_known_values() -> None:
    assert renyi_entropy([1, 1, 1, 1], 2.5) == pytest.approx(2.0)  # uniform over 4: log2 4
    assert renyi_entropy([5, 0, 0], 2.5) == pytest.approx(0.0)
    # alpha = 2 is the collision entropy -log2 sum p^2; p = (.5, .25, .25)
    assert renyi_entropy([2, 1, 1], 2.0) == pytest.approx(-math.log2(0.25 + 0.0625 + 0.0625))
    assert renyi_entropy([2, 1, 1], 1.0) == pytest.approx(1.5)


def test_renyi_efficiency_against_full_and_observed_vocabulary() -> None:
    acc = MetricsAccumulator(vocab_size=16, renyi_alpha=2.5)
    acc.add("abcd", [0, 1, 2, 3], [(0, 1), (1, 2), (2, 3), (3, 4)])
    m = acc.result()
    assert m.renyi_entropy == pytest.approx(2.0)
    assert m.renyi_efficiency == pytest.approx(2.0 / 4.0)
    assert m.renyi_efficiency_observed == pytest.approx(1.0)


def test_word_spans_unicode_whitespace() -> None:
    starts, ends = word_spans(" a\u3000bc\u00a0 d ")
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == [(1, 2), (3, 5), (7, 8)]


@given(st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=30), st.data())
def test_tokens_per_unit_matches_brute_force(token_lengths: list[int], data: st.DataObject) -> None:
    ends = np.cumsum(token_lengths)
    starts = ends - np.asarray(token_lengths)
    total = int(ends[-1])
    a = data.draw(st.integers(min_value=0, max_value=total - 1))
    b = data.draw(st.integers(min_value=a + 1, max_value=total))
    got = tokens_per_unit(np.array([a]), np.array([b]), starts, ends)[0]
    brute = sum(1 for s, e in zip(starts, ends, strict=True) if s < b and e > a)
    assert got == brute


def test_bootstrap_interval_contains_the_estimate() -> None:
    rng = np.random.default_rng(1)
    num = rng.integers(50, 150, size=200)
    den = rng.integers(20, 40, size=200)
    lo, hi = bootstrap_ratio_ci(num, den, resamples=300, seed=3)
    point = num.sum() / den.sum()
    assert lo < point < hi
    assert hi - lo < 0.5 * point
    assert bootstrap_ratio_ci(num, den, resamples=300, seed=3) == (lo, hi)  # deterministic


def test_jaccard() -> None:
    assert jaccard([b"a", b"b"], [b"b", b"c"]) == pytest.approx(1 / 3)
    assert jaccard([b" the"], [b" the"]) == 1.0


@pytest.mark.parametrize(
    ("lengths", "style"),
    [
        ([7], "whole"),
        ([1, 1, 1, 1], "single"),
        ([3, 3, 1], "ltr3"),
        ([1, 3, 3], "rtl3"),
        ([3, 3], "triples"),
        ([2, 2, 3], "irregular"),
    ],
)
def test_classify_digit_split(lengths: list[int], style: str) -> None:
    assert classify_digit_split(lengths) == style


def test_digit_style_aggregates_probes() -> None:
    assert digit_style([[3, 3, 1], [3, 2], [3, 3]]) == "ltr3"
    assert digit_style([[1, 3, 3], [2, 3], [3, 3]]) == "rtl3"
    assert digit_style([[4], [2]]) == "whole"
    assert digit_style([[3, 1], [1, 3]]) == "irregular"


# ---------------------------------------------------------------------------------------------------
# The byte-position fast path (add_spelled) against the character-offset path (add_batch)

_FAST_ALPHABET = "ab1 \n\t\xa0\u2009\u3000\x85\u1680é€’日本กက\U0001f600\U0002f800\U0002fa20"


def _state(acc: MetricsAccumulator) -> tuple[object, ...]:
    docs = acc.per_document()
    result = acc.result()
    return (
        tuple(x if not (isinstance(x, float) and math.isnan(x)) else "nan" for x in result.__dict__.values()),
        tuple(tuple(docs[k].tolist()) for k in ("bytes", "tokens", "units", "unit_tokens")),
        tuple(tuple(v) for v in acc._docs.__dict__.values()),
        (acc._split_words, acc._split_chars, acc._no_space_chars, acc._letters, acc._chars),
    )


@st.composite
def _spelled_batches(draw: st.DrawFn) -> tuple[list[str], list[list[int]], int]:
    """Texts and, per document, token byte lengths that spell it (cut anywhere, even inside a
    character), with an optional dummy-prefix byte, zero-length tokens and tokens on empty documents."""
    texts = draw(st.lists(st.text(alphabet=_FAST_ALPHABET, max_size=14), min_size=1, max_size=6))
    shift = draw(st.integers(0, 1))
    lengths: list[list[int]] = []
    for text in texts:
        size = len(text.encode("utf-8"))
        if size == 0:
            lengths.append(draw(st.lists(st.integers(0, 2), max_size=2)))
            continue
        cuts = sorted(draw(st.sets(st.integers(1, size + shift - 1), max_size=size))) if size + shift > 1 else []
        pieces = [b - a for a, b in zip([0, *cuts], [*cuts, size + shift], strict=True)]
        if draw(st.booleans()) and draw(st.booleans()):
            pieces.insert(draw(st.integers(0, len(pieces))), 0)
        lengths.append(pieces)
    return texts, lengths, shift


@settings(max_examples=300, deadline=None)
@given(_spelled_batches())
def test_add_spelled_equals_add_batch(case: tuple[list[str], list[list[int]], int]) -> None:
    texts, lengths, shift = case
    batch = TextBatch.of(texts)
    counts = np.asarray([len(x) for x in lengths], dtype=np.int64)
    flat_lengths = np.asarray([n for x in lengths for n in x], dtype=np.int64)
    ids = flat_lengths + 7  # any ids: both paths count the same ones
    reference = MetricsAccumulator(16)
    offsets = char_offsets(batch, counts, flat_lengths, shift)
    reference.add_batch(texts, np.split(ids, np.cumsum(counts)[:-1]), offsets)
    fast = MetricsAccumulator(16)
    fast.add_spelled(batch, ids, counts, flat_lengths, shift)
    assert _state(fast) == _state(reference)
    without = MetricsAccumulator(16)
    without.add_spelled(batch, ids, counts, None)
    reference_without = MetricsAccumulator(16)
    reference_without.add_batch(texts, np.split(ids, np.cumsum(counts)[:-1]), None)
    assert _state(without) == _state(reference_without)


def test_byte_tables_classify_every_code_point() -> None:
    """The lead-byte and two-byte tables of the fast path agree with the code-point class table."""
    from tokcli.metrics.text_classes import class_table
    from tokcli.metrics.utf8_batch import utf8_byte_kinds, utf8_pair_classes

    cps = np.arange(0x80, 0x110000)
    b0 = np.where(cps < 0x800, 0xC0 | (cps >> 6), np.where(cps < 0x10000, 0xE0 | (cps >> 12), 0xF0 | (cps >> 18)))
    second = np.where(cps < 0x800, cps, np.where(cps < 0x10000, cps >> 6, cps >> 12))
    b1 = 0x80 | (second & 0x3F)
    table = class_table()
    want = table[np.minimum(cps, table.size - 1)]
    kinds = np.frombuffer(utf8_byte_kinds(), dtype=np.uint8)[b0]
    pair = utf8_pair_classes()[(b0 << 8) | b1]
    got = np.where(kinds & 8, 2, np.where(kinds & 4, np.where(pair == 4, want, pair), 0))
    assert np.array_equal(got, want)
    for cp in (0x85, 0x7FF, 0x800, 0x3000, 0xFFFF, 0x10000, 0x2F800, 0x10FFFF):  # the bytes above are UTF-8
        assert bytes([b0[cp - 0x80], b1[cp - 0x80]]) == chr(cp).encode("utf-8", "surrogatepass")[:2]
