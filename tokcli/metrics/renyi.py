"""Rényi entropy of the unigram token distribution, H_a = 1/(1-a) log2 sum p_i^a, and efficiency
H_a / log2 |V| (Zouhar et al., ACL 2023, "Tokenization and the Noiseless Channel"; a = 2.5 there),
against the full vocabulary and against the observed types."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tokcli.metrics.compression import ratio

if TYPE_CHECKING:
    import numpy.typing as npt


def renyi_entropy(counts: Iterable[int] | npt.NDArray[Any], alpha: float) -> float:
    """H_alpha in bits of the distribution given by ``counts`` (alpha=1: Shannon entropy)."""
    import numpy as np

    c = np.asarray(list(counts) if not hasattr(counts, "__array__") else counts, dtype=np.float64)
    c = c[c > 0]
    if c.size == 0:
        return math.nan
    p = c / c.sum()
    if math.isclose(alpha, 1.0):
        return float(-(p * np.log2(p)).sum())
    return float(np.log2((p**alpha).sum()) / (1.0 - alpha))


def renyi_efficiency(entropy: float, types: int) -> float:
    """``entropy / log2(types)``: NaN for fewer than two types."""
    return ratio(entropy, math.log2(types)) if types > 1 else math.nan
