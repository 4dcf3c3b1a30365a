"""Tokenizer-evaluation metrics, as pure functions over encodings (no tokenizer, no I/O here).

Definitions (docs/compare.md has the long form and the sources):

- Compression: UTF-8 bytes per token and characters per token as ratios of totals (micro), and the
  mean of per-document bytes-per-token ratios (macro).
- Fertility: tokens per word, with each word's tokens found from the tokens' in-context character
  offsets (a token counts for every word its span overlaps), not by re-encoding words alone; split
  rate: share of words covered by 2+ tokens. Scripts written without spaces between words (Han,
  Hiragana/Katakana, Thai, Lao, Khmer, Myanmar) use characters as the unit (``word_unit="char"``).
- Byte-fallback and UNK rates: share of tokens that are ``<0xNN>`` byte pieces / the UNK id.
- Rényi entropy of the unigram token distribution, H_a = 1/(1-a) log2 sum p_i^a, and efficiency
  H_a / log2 |V| (Zouhar et al., ACL 2023, "Tokenization and the Noiseless Channel"; a = 2.5 there),
  against the full vocabulary and against the observed types.
- Token premium (Petrov et al., NeurIPS 2023): tokens(language) / tokens(reference) on parallel text.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Scripts written without spaces between words: characters are the fertility unit there.
_NO_SPACE_RANGES: tuple[tuple[int, int], ...] = (
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x2FA1F),  # CJK extensions B-F, compatibility supplement
    (0x0E00, 0x0E7F),  # Thai
    (0x0E80, 0x0EFF),  # Lao
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer symbols
    (0x1000, 0x109F),  # Myanmar
    (0xAA60, 0xAA7F),  # Myanmar extended-A
)
# Unicode White_Space code points (str.isspace() also counts the C0 separators 0x1C-0x1F; we do not).
_SPACES = (
    0x09,
    0x0A,
    0x0B,
    0x0C,
    0x0D,
    0x20,
    0x85,
    0xA0,
    0x1680,
    *range(0x2000, 0x200B),
    0x2028,
    0x2029,
    0x202F,
    0x205F,
    0x3000,
)


def _codepoints(text: str) -> npt.NDArray[np.uint32]:
    import numpy as np

    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


@functools.cache
def _class_table() -> npt.NDArray[np.uint8]:
    """Per code point up to the last range we care about: bit 1 = white space, bit 2 = no-space script."""
    import numpy as np

    size = max(max(_SPACES), max(hi for _, hi in _NO_SPACE_RANGES)) + 2
    table = np.zeros(size, dtype=np.uint8)  # the last entry stands for every larger code point: 0
    table[list(_SPACES)] |= 1
    for lo, hi in _NO_SPACE_RANGES:
        table[lo : hi + 1] |= 2
    return table


def _classes(cps: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]:
    import numpy as np

    table = _class_table()
    return table[np.minimum(cps, table.size - 1)]


def _runs(solid: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    import numpy as np

    padded = np.concatenate(([False], solid, [False])).astype(np.int8)
    edges = np.diff(padded)
    return np.flatnonzero(edges == 1).astype(np.int64), np.flatnonzero(edges == -1).astype(np.int64)


def word_spans(text: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Character spans [start, end) of the maximal runs of non-whitespace characters."""
    return _runs((_classes(_codepoints(text)) & 1) == 0)


def tokens_per_unit(
    unit_starts: npt.NDArray[np.int64],
    unit_ends: npt.NDArray[np.int64],
    token_starts: npt.NDArray[np.int64],
    token_ends: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """For each unit span, the number of token spans overlapping it.

    Token spans are in text order and do not overlap each other (true of every tokenizer's
    in-context offsets); empty spans (added or special tokens) must be removed beforehand.
    """
    import numpy as np

    # tokens starting before the unit ends, minus tokens ending at or before the unit starts
    before_end = np.searchsorted(token_starts, unit_ends, side="left")
    ended = np.searchsorted(token_ends, unit_starts, side="right")
    return (before_end - ended).astype(np.int64)


@dataclass
class _DocRecord:
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


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


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


class MetricsAccumulator:
    """Streams documents' encodings in and produces a :class:`CorpusMetrics` row at the end.

    Keeps per-id counts (one array the size of the vocabulary) and four integers per document (for
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
        self._id_counts = np.zeros(vocab_size, dtype=np.int64)
        self._byte_fallback = np.asarray(sorted(set(byte_fallback_ids)), dtype=np.int64)
        self._unk_id = unk_id
        self._docs = _DocRecord()
        self._chars = 0
        self._split_words = 0
        self._split_chars = 0
        self._no_space_chars = 0
        self._letters = 0
        self._offsets_missing = False
        self._pending_ids: list[npt.NDArray[np.int64]] = []
        self._pending_count = 0

    def _flush_ids(self) -> None:
        """Add the buffered ids to the per-id counts (one bincount per ~1M tokens, not per document)."""
        import numpy as np

        if not self._pending_ids:
            return
        ids = np.concatenate(self._pending_ids)
        self._pending_ids, self._pending_count = [], 0
        top = int(ids.max()) + 1
        if top > self._id_counts.size:  # added tokens beyond the base vocabulary
            self._id_counts = np.concatenate([self._id_counts, np.zeros(top - self._id_counts.size, dtype=np.int64)])
        self._id_counts += np.bincount(ids, minlength=self._id_counts.size)

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
            all_ids = np.concatenate(ids)
            if all_ids.min() < 0:
                raise ValueError("token ids must be non-negative")
            self._pending_ids.append(all_ids)
            self._pending_count += int(all_ids.size)
            if self._pending_count >= 1 << 20:
                self._flush_ids()
        record = self._docs
        record.tokens.extend(token_counts.tolist())
        record.bytes.extend(len(t.encode("utf-8", "surrogatepass")) for t in texts)
        joined = "\n".join(texts)  # the separator is white space, so no word crosses documents
        self._chars += len(joined) - (n_docs - 1)
        doc_starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]], dtype=np.int64)
        doc_ends = doc_starts + np.fromiter((len(t) for t in texts), dtype=np.int64, count=n_docs)

        classes = _classes(_codepoints(joined))
        solid = (classes & 1) == 0
        solid_before = np.concatenate(([0], np.cumsum(solid, dtype=np.int64)))
        solid_per_doc = solid_before[doc_ends] - solid_before[doc_starts]
        self._no_space_chars += int(np.count_nonzero(classes & 2))
        self._letters += int(solid_per_doc.sum())
        if offsets is None:
            self._offsets_missing = True
            offsets = np.zeros((0, 2), dtype=np.int64)
        off = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
        off = off[off[:, 1] > off[:, 0]]  # added/special tokens with empty spans cover no text
        t_starts, t_ends = off[:, 0], off[:, 1]

        w_starts, w_ends = _runs(solid)
        per_word = tokens_per_unit(w_starts, w_ends, t_starts, t_ends)
        word_doc = np.searchsorted(doc_starts, w_starts, side="right") - 1
        record.words.extend(np.bincount(word_doc, minlength=n_docs).tolist())
        record.word_tokens.extend(np.bincount(word_doc, weights=per_word, minlength=n_docs).astype(np.int64).tolist())
        self._split_words += int(np.count_nonzero(per_word >= 2))
        # Characters as units: with contiguous offsets a character is covered by 1 + (number of tokens
        # that start inside it) tokens; a token starts inside a character when it overlaps the token
        # before it (byte-level BPE splitting a multi-byte character).
        inside = t_starts[1:] < t_ends[:-1]
        inside_starts = t_starts[1:][inside]
        inside_doc = np.searchsorted(doc_starts, inside_starts, side="right") - 1
        record.chars_units.extend(solid_per_doc.tolist())
        record.char_tokens.extend((solid_per_doc + np.bincount(inside_doc, minlength=n_docs)).tolist())
        self._split_chars += int(np.unique(inside_starts).size)

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
        import numpy as np

        self._flush_ids()
        docs = self.per_document()
        tokens = int(docs["tokens"].sum())
        n_bytes = int(docs["bytes"].sum())
        units = int(docs["units"].sum())
        unit_tokens = int(docs["unit_tokens"].sum())
        split = self._split_chars if self.word_unit == "char" else self._split_words
        with_tokens = docs["tokens"] > 0
        macro = (
            float(np.mean(docs["bytes"][with_tokens] / docs["tokens"][with_tokens])) if with_tokens.any() else math.nan
        )
        observed = int((self._id_counts > 0).sum())
        entropy = renyi_entropy(self._id_counts, self.renyi_alpha)
        fallback = int(self._id_counts[self._byte_fallback].sum()) if self._byte_fallback.size else 0
        unk = int(self._id_counts[self._unk_id]) if self._unk_id is not None else 0
        return CorpusMetrics(
            docs=int(docs["tokens"].size),
            bytes=n_bytes,
            chars=self._chars,
            words=units,
            tokens=tokens,
            bytes_per_token=_ratio(n_bytes, tokens),
            chars_per_token=_ratio(self._chars, tokens),
            bytes_per_token_macro=macro,
            fertility=math.nan if self._offsets_missing else _ratio(unit_tokens, units),
            split_rate=math.nan if self._offsets_missing else _ratio(split, units),
            word_unit=self.word_unit,
            byte_fallback_rate=_ratio(fallback, tokens),
            unk_rate=_ratio(unk, tokens),
            renyi_entropy=entropy,
            renyi_efficiency=_ratio(entropy, math.log2(self.vocab_size)) if self.vocab_size > 1 else math.nan,
            renyi_efficiency_observed=_ratio(entropy, math.log2(observed)) if observed > 1 else math.nan,
            vocab_used=_ratio(observed, self.vocab_size),
        )


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


def jaccard(a: Iterable[bytes], b: Iterable[bytes]) -> float:
    """Jaccard similarity of two vocabularies given as token byte strings."""
    sa, sb = set(a), set(b)
    union = len(sa | sb)
    return len(sa & sb) / union if union else math.nan


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
