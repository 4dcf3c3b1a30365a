"""The per-document accumulator: streams a corpus's encodings in, batch by batch, and gives one
:class:`CorpusMetrics` row at the end."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tokcli.metrics.compression import macro_ratio, ratio
from tokcli.metrics.fallback import fallback_rates
from tokcli.metrics.fertility import (
    BatchUnits,
    place_tokens,
    token_bounds,
    units_from_offsets,
    units_from_spelling,
    units_without_tokens,
)
from tokcli.metrics.id_counts import IdCounts
from tokcli.metrics.renyi import renyi_efficiency, renyi_entropy
from tokcli.metrics.text_classes import classify_code_points, code_points
from tokcli.metrics.utf8_batch import TextBatch, char_offsets

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


@dataclass
class DocRecord:
    """Per-document counts, in document order (for the macro average and bootstrap intervals)."""

    bytes: list[int] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    words: list[int] = field(default_factory=list)
    word_tokens: list[int] = field(default_factory=list)
    chars_units: list[int] = field(default_factory=list)
    char_tokens: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class CorpusMetrics:
    """One (tokenizer, corpus) row."""

    docs: int
    bytes: int
    chars: int
    words: int
    tokens: int
    bytes_per_token: float
    chars_per_token: float
    bytes_per_token_macro: float
    fertility: float
    split_rate: float
    word_unit: str
    byte_fallback_rate: float
    unk_rate: float
    renyi_entropy: float
    renyi_efficiency: float
    renyi_efficiency_observed: float
    vocab_used: float


class MetricsAccumulator:
    """Streams documents' encodings in and produces a :class:`CorpusMetrics` row at the end.

    Keeps per-id counts (one array the size of the vocabulary) and a few integers per document (for
    the macro average and bootstrap intervals); never the documents themselves.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        byte_fallback_ids: Iterable[int] = (),
        unk_id: int | None = None,
        renyi_alpha: float = 2.5,
    ) -> None:
        import numpy as np

        self.vocab_size = vocab_size
        self.renyi_alpha = renyi_alpha
        self._ids = IdCounts(vocab_size)
        self._byte_fallback = np.asarray(sorted(set(byte_fallback_ids)), dtype=np.int64)
        self._unk_id = unk_id
        self._docs = DocRecord()
        self._chars = 0
        self._split_words = 0
        self._split_chars = 0
        self._no_space_chars = 0
        self._letters = 0
        self._offsets_missing = False

    def add(
        self,
        text: str,
        ids: Sequence[int] | npt.NDArray[Any],
        offsets: Sequence[tuple[int, int]] | npt.NDArray[Any] | None,
    ) -> None:
        """Add one document: its text, token ids, and each token's (start, end) character offsets.

        ``offsets=None`` skips fertility for this document (tokenizers that cannot give offsets).
        """
        import numpy as np

        self.add_batch([text], [np.asarray(ids, dtype=np.int64)], None if offsets is None else np.asarray(offsets))

    def add_batch(
        self,
        texts: Sequence[str],
        ids: Sequence[npt.NDArray[np.int64]],
        offsets: npt.NDArray[np.int64] | None,
    ) -> None:
        """Add a batch of documents at once (vectorised over the batch, not per document).

        ``offsets`` holds the (start, end) character offsets of every token of the batch, in order,
        within ``"\\n".join(texts)``; None when the tokenizer cannot give offsets (no fertility).
        """
        import numpy as np

        n_docs = len(texts)
        if n_docs == 0:
            return
        token_counts = np.fromiter((a.size for a in ids), dtype=np.int64, count=n_docs)
        if token_counts.sum():
            self._ids.add(np.concatenate(ids))
        record = self._docs
        record.tokens.extend(token_counts.tolist())
        record.bytes.extend(len(t.encode("utf-8", "surrogatepass")) for t in texts)
        joined = "\n".join(texts)  # the separator is white space, so no word crosses documents
        self._chars += len(joined) - (n_docs - 1)
        doc_starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]], dtype=np.int64)
        doc_ends = doc_starts + np.fromiter((len(t) for t in texts), dtype=np.int64, count=n_docs)

        classes = classify_code_points(code_points(joined))
        solid = (classes & 1) == 0
        solid_before = np.concatenate(([0], np.cumsum(solid, dtype=np.int64)))
        solid_per_doc = solid_before[doc_ends] - solid_before[doc_starts]
        self._no_space_chars += int(np.count_nonzero(classes & 2))
        self._letters += int(solid_per_doc.sum())
        if offsets is None:
            self._offsets_missing = True
            offsets = np.zeros((0, 2), dtype=np.int64)
        self._record_units(units_from_offsets(solid, solid_per_doc, doc_starts, offsets))

    def add_spelled(
        self,
        batch: TextBatch,
        ids: npt.NDArray[np.int64],
        counts: npt.NDArray[np.int64],
        lengths: npt.NDArray[np.int64] | None,
        shift: int = 0,
        ends: npt.NDArray[np.int64] | None = None,
    ) -> None:
        """Add a batch from its token ids alone: the same as ``add_batch`` with the offsets of
        :func:`char_offsets`, computed on byte positions without mapping bytes to characters.

        ``ids`` are the batch's ids in order, ``counts`` the number per document; ``lengths`` the byte
        length of every token (None: the tokenizer gives no offsets, no fertility), which add up to
        ``shift`` plus the document's UTF-8 length for every non-empty document; ``ends``, if given,
        is ``np.cumsum(lengths)`` and is overwritten.
        """
        import numpy as np

        if len(batch.texts) == 0:
            return
        bound = token_bounds(counts)
        placed = None
        if lengths is not None and ids.size:
            placed = place_tokens(batch, counts, lengths, bound, ends)
            if placed is None:  # tokens the byte positions cannot place: the character-offset path
                offsets = char_offsets(batch, counts, lengths, shift)
                self.add_batch(batch.texts, np.split(ids, bound[1:-1]), offsets)
                return
        self._ids.add(ids)
        self._record_batch_text(batch, counts)
        if placed is None:
            self._offsets_missing |= lengths is None
            self._record_units(units_without_tokens(batch))
        else:
            assert lengths is not None
            self._record_units(units_from_spelling(batch, placed - lengths, placed, shift, bound, counts))

    def _record_batch_text(self, batch: TextBatch, counts: npt.NDArray[np.int64]) -> None:
        """Tokens, bytes and characters of the batch's documents."""
        self._docs.tokens.extend(counts.tolist())
        self._docs.bytes.extend(batch.doc_bytes.tolist())
        self._chars += int(batch.doc_chars.sum())
        words = batch.words
        self._no_space_chars += words.no_space_chars
        self._letters += int(words.solid_chars.sum())

    def _record_units(self, units: BatchUnits) -> None:
        record = self._docs
        record.words.extend(units.words.tolist())
        record.word_tokens.extend(units.word_tokens.tolist())
        record.chars_units.extend(units.chars.tolist())
        record.char_tokens.extend(units.char_tokens.tolist())
        self._split_words += units.split_words
        self._split_chars += units.split_chars

    @property
    def word_unit(self) -> str:
        """``char`` when most non-space characters belong to scripts written without spaces."""
        return "char" if self._letters and self._no_space_chars / self._letters > 0.5 else "word"

    def per_document(self) -> dict[str, npt.NDArray[np.int64]]:
        """Per-document counts (bytes, tokens, units, unit_tokens) for bootstrap intervals."""
        import numpy as np

        unit_is_char = self.word_unit == "char"
        return {
            "bytes": np.asarray(self._docs.bytes, dtype=np.int64),
            "tokens": np.asarray(self._docs.tokens, dtype=np.int64),
            "units": np.asarray(self._docs.chars_units if unit_is_char else self._docs.words, dtype=np.int64),
            "unit_tokens": np.asarray(
                self._docs.char_tokens if unit_is_char else self._docs.word_tokens, dtype=np.int64
            ),
        }

    def result(self) -> CorpusMetrics:
        id_counts = self._ids.counts()
        docs = self.per_document()
        tokens = int(docs["tokens"].sum())
        n_bytes = int(docs["bytes"].sum())
        units = int(docs["units"].sum())
        unit_tokens = int(docs["unit_tokens"].sum())
        split = self._split_chars if self.word_unit == "char" else self._split_words
        observed = int((id_counts > 0).sum())
        entropy = renyi_entropy(id_counts, self.renyi_alpha)
        fallback_rate, unk_rate = fallback_rates(id_counts, self._byte_fallback, self._unk_id, tokens)
        return CorpusMetrics(
            docs=int(docs["tokens"].size),
            bytes=n_bytes,
            chars=self._chars,
            words=units,
            tokens=tokens,
            bytes_per_token=ratio(n_bytes, tokens),
            chars_per_token=ratio(self._chars, tokens),
            bytes_per_token_macro=macro_ratio(docs["bytes"], docs["tokens"]),
            fertility=math.nan if self._offsets_missing else ratio(unit_tokens, units),
            split_rate=math.nan if self._offsets_missing else ratio(split, units),
            word_unit=self.word_unit,
            byte_fallback_rate=fallback_rate,
            unk_rate=unk_rate,
            renyi_entropy=entropy,
            renyi_efficiency=renyi_efficiency(entropy, self.vocab_size),
            renyi_efficiency_observed=renyi_efficiency(entropy, observed),
            vocab_used=ratio(observed, self.vocab_size),
        )
