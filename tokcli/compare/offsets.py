"""In-context character spans of tokens, from the tokens' own bytes: a lossless tokenizer's tokens spell
the text, so their byte lengths place them; a tokenizer that normalises text gives no offsets."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tokcli.metrics import TextBatch, bytes_to_chars, char_offsets

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from tokcli.loading.base import LoadedTokenizer

OFFSET_CHECK_DOCS = 64  # documents per tokenizer whose token bytes are checked against the text


def char_offsets_from_bytes(text: str, lengths: npt.NDArray[np.int64], shift: int = 0) -> npt.NDArray[np.int64]:
    """(start, end) character offsets of consecutive tokens whose byte lengths are ``lengths``.

    ``shift`` is subtracted from byte positions (1 for sentencepiece's dummy-prefix space). A token
    that starts inside a multi-byte character is counted as overlapping that character.
    """
    import numpy as np

    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    ends = np.clip(np.cumsum(lengths) - shift, 0, data.size)
    starts = np.clip(ends - lengths, 0, data.size)
    return bytes_to_chars(data, starts, ends)


class OffsetAligner:
    """Decides once per tokenizer whether its token bytes spell the text (lossless tokenizers) and
    then gives the byte length of every token of a batch. Tokenizers that normalise text give no
    offsets, and their fertility is reported as missing rather than guessed."""

    def __init__(self, tokenizer: LoadedTokenizer) -> None:
        import numpy as np

        table = tokenizer.token_bytes_table
        self._table = table
        self._lengths = np.fromiter((len(b) for b in table), dtype=np.int64, count=len(table))
        self._checked = 0
        self.shift: int | None = None  # bytes before the text (1: sentencepiece's dummy prefix space)
        self.note = ""

    def token_lengths(
        self, batch: TextBatch, ids: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
        """Byte length of every token of the batch (``ids``: all ids in order, ``counts`` per document)
        and their running sum, or None when the tokens do not spell the text. Sets ``shift``."""
        import numpy as np

        if self.note:
            return None
        if ids.size and int(ids.max()) >= self._lengths.size:
            self._give_up("ids beyond the token table")
            return None
        lengths = self._lengths[ids]
        ends = np.cumsum(lengths)
        bound = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=bound[1:])
        spelled = np.diff(np.where(bound > 0, ends[bound - 1], 0)) if ids.size else np.zeros(counts.size, np.int64)
        non_empty = batch.doc_bytes > 0
        shifts = (spelled - batch.doc_bytes)[non_empty]
        seen = {int(shifts.min()), int(shifts.max())} if shifts.size else set()
        if self.shift is not None:
            seen.add(self.shift)
        if len(seen) > 1 or not seen <= {0, 1}:
            self._give_up("token bytes do not spell the text (the tokenizer normalises it)")
            return None
        if seen:
            self.shift = seen.pop()
        shift = self.shift or 0
        table = self._table
        for i in range(min(counts.size, OFFSET_CHECK_DOCS - self._checked)):  # spot-check the bytes themselves
            self._checked += 1
            joined = b"".join(map(table.__getitem__, ids[bound[i] : bound[i + 1]].tolist()))
            text = batch.texts[i].encode("utf-8", "surrogatepass")
            if non_empty[i] and (joined[shift:] != text or joined[:shift] != b" " * shift):
                self._give_up("token bytes do not spell the text (the tokenizer normalises it)")
                return None
        return lengths, ends

    def batch_offsets(self, texts: Sequence[str], ids: Sequence[npt.NDArray[np.int64]]) -> npt.NDArray[np.int64] | None:
        """(start, end) character offsets of every token of the batch within ``"\\n".join(texts)``."""
        import numpy as np

        batch = TextBatch.of(texts)
        counts = np.fromiter((a.size for a in ids), dtype=np.int64, count=len(ids))
        flat = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
        spelled = self.token_lengths(batch, flat.astype(np.int64, copy=False), counts)
        return None if spelled is None else char_offsets(batch, counts, spelled[0], self.shift or 0)

    def offsets(self, text: str, ids: Sequence[int] | npt.NDArray[np.int64]) -> npt.NDArray[np.int64] | None:
        import numpy as np

        return self.batch_offsets([text], [np.asarray(ids, dtype=np.int64)])

    def fresh(self) -> OffsetAligner:
        """An aligner for the same tokenizer that has seen no text yet (the token table is shared)."""
        other = copy.copy(self)
        other._checked, other.shift, other.note = 0, None, ""
        return other

    def _give_up(self, why: str) -> None:
        self.note = f"fertility unavailable: {why}"
