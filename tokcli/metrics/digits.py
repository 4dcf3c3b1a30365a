"""Digit grouping: how a tokenizer splits runs of digits (single digits as in Llama 2, threes from the
left as in cl100k, threes aligned right, or whole numbers)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def classify_digit_split(lengths: Sequence[int]) -> str:
    """How one run of digits was split, from the digit counts of its consecutive tokens.

    ``whole`` (one token), ``single`` (one digit per token), ``ltr3`` (threes from the left, remainder
    last: 1234567 -> 123|456|7, cl100k), ``rtl3`` (threes aligned right: 1|234|567), ``triples``
    (all threes: ltr3 and rtl3 agree) or ``irregular``.
    """
    lengths = list(lengths)
    if len(lengths) <= 1:
        return "whole"
    if all(n == 1 for n in lengths):
        return "single"
    if all(n == 3 for n in lengths):
        return "triples"
    if all(n == 3 for n in lengths[:-1]) and 1 <= lengths[-1] < 3:
        return "ltr3"
    if 1 <= lengths[0] < 3 and all(n == 3 for n in lengths[1:]):
        return "rtl3"
    return "irregular"


def digit_style(runs: Iterable[Sequence[int]]) -> str:
    """A tokenizer's digit grouping from several probe runs: the styles seen, ``triples`` resolved."""
    styles = {classify_digit_split(r) for r in runs}
    decisive = styles - {"triples", "whole"}
    if len(decisive) == 1:
        return decisive.pop()
    if decisive:
        return "irregular"
    if "triples" in styles:
        return "ltr3"  # only multiples of three were split; both groupings agree on them
    return "whole" if styles else "none"
