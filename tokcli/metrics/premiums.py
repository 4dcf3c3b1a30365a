"""Token premium (Petrov et al., NeurIPS 2023): on parallel text, tokens(language) / tokens(reference
language), the reference English unless stated, encoded without special tokens."""

from __future__ import annotations

import math
from collections.abc import Sequence


def token_premium(tokens: int, reference_tokens: int) -> float:
    """tokens / reference_tokens, NaN when the reference has no tokens."""
    return tokens / reference_tokens if reference_tokens else math.nan


def premium_mean_max(premiums: Sequence[float]) -> tuple[float, float]:
    """The mean and the largest of several languages' premiums (at least one)."""
    return sum(premiums) / len(premiums), max(premiums)
