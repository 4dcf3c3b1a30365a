"""Byte-fallback and UNK rates: the share of tokens that are ``<0xNN>`` byte pieces, and of the UNK id.
A tokenizer that falls back to bytes or UNK can look cheap or dear for the wrong reason, so these are
reported beside premiums."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokcli.metrics.compression import ratio

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def fallback_rates(
    id_counts: npt.NDArray[np.int64], byte_fallback_ids: npt.NDArray[Any], unk_id: int | None, tokens: int
) -> tuple[float, float]:
    """(byte-fallback rate, UNK rate) of ``tokens`` tokens whose per-id counts are ``id_counts``."""
    fallback = int(id_counts[byte_fallback_ids].sum()) if byte_fallback_ids.size else 0
    unk = int(id_counts[unk_id]) if unk_id is not None else 0
    return ratio(fallback, tokens), ratio(unk, tokens)
