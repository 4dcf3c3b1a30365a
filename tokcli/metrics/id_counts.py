"""Per-id token counts over a corpus (one array the size of the vocabulary), the input of Rényi
entropy, vocabulary use and the fallback rates."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class IdCounts:
    """How often each token id occurs. Small arrays of ids are buffered and counted together, one
    bincount per ~1M tokens rather than per document (a bincount costs the vocabulary size)."""

    def __init__(self, vocab_size: int) -> None:
        import numpy as np

        self._counts = np.zeros(vocab_size, dtype=np.int64)
        self._pending: list[npt.NDArray[np.int64]] = []
        self._pending_count = 0

    def add(self, ids: npt.NDArray[np.int64]) -> None:
        """Count ids: large arrays at once, small ones buffered."""
        if not ids.size:
            return
        if int(ids.min()) < 0:
            raise ValueError("token ids must be non-negative")
        self._pending.append(ids)
        self._pending_count += int(ids.size)
        if self._pending_count >= min(1 << 20, max(1 << 16, self._counts.size)):
            self._flush()

    def counts(self) -> npt.NDArray[np.int64]:
        """Occurrences per id (longer than the vocabulary when added tokens lie beyond it)."""
        self._flush()
        return self._counts

    def _flush(self) -> None:
        import numpy as np

        if not self._pending:
            return
        ids = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending)
        self._pending, self._pending_count = [], 0
        top = int(ids.max()) + 1
        if top > self._counts.size:  # added tokens beyond the base vocabulary
            self._counts = np.concatenate([self._counts, np.zeros(top - self._counts.size, dtype=np.int64)])
        self._counts += np.bincount(ids, minlength=self._counts.size)
