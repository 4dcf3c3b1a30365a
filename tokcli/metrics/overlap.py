"""Vocabulary overlap, with tokens compared as byte strings (GPT-2's ``Ġ`` and sentencepiece's ``▁``
are different markers for the same space)."""

from __future__ import annotations

import math
from collections.abc import Iterable


def vocabulary_bytes(token_bytes: Iterable[bytes]) -> set[bytes]:
    """A vocabulary as the set of its tokens' bytes (tokens without bytes, such as specials, left out)."""
    return {b for b in token_bytes if b}


def jaccard(a: Iterable[bytes], b: Iterable[bytes]) -> float:
    """Jaccard similarity of two vocabularies given as token byte strings."""
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return len(sa & sb) / union if union else math.nan
