"""Compression: UTF-8 bytes (or characters) per token as a ratio of totals (micro), and the mean of
per-document ratios (macro)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is 0."""
    return numerator / denominator if denominator else math.nan


def macro_ratio(numerators: npt.NDArray[np.int64], denominators: npt.NDArray[np.int64]) -> float:
    """Mean of the per-document ratios over the documents with a non-zero denominator (NaN: none)."""
    import numpy as np

    kept = denominators > 0
    return float(np.mean(numerators[kept] / denominators[kept])) if kept.any() else math.nan
