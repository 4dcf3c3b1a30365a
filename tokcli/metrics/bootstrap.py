"""Uncertainty: percentile bootstrap confidence intervals over documents (or aligned lines)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy.typing as npt


def bootstrap_ratio_ci(
    numerators: npt.NDArray[Any],
    denominators: npt.NDArray[Any],
    *,
    resamples: int,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap CI of sum(numerators)/sum(denominators), resampling documents."""
    import numpy as np

    n = len(numerators)
    if n == 0 or resamples <= 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    num = np.asarray(numerators, dtype=np.float64)
    den = np.asarray(denominators, dtype=np.float64)
    stats = np.empty(resamples)
    for i in range(resamples):
        idx = rng.integers(0, n, size=n)
        d = den[idx].sum()
        stats[i] = num[idx].sum() / d if d else np.nan
    tail = (1.0 - level) / 2 * 100
    lo, hi = np.nanpercentile(stats, [tail, 100 - tail])
    return float(lo), float(hi)
