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


# ---------------------------------------------------------------------------------------------------
# Batches in UTF-8: the fast path of compare works on byte positions only (no character offsets)

_PAD = 4  # newline bytes after a batch's text, so a token or character may be looked at 3 bytes ahead


@functools.cache
def _byte_kinds() -> bytes:
    """``bytes.translate`` table of bit flags: 1 ASCII white space, 2 continuation byte, 4 lead byte of a
    character that may be white space or of a no-space script, whose class depends on its next byte
    (C2, E0-E4, EA, EF, F0), 8 lead byte of a no-space-script character (E5-E9: U+5000-U+9FFF). Other
    lead bytes start characters of class 0 (C3-DF: U+00C0-U+07FF, EB-EE: U+B000-U+EFFF, F1-F7)."""
    kinds = bytearray(256)
    for c in _SPACES:
        if c < 0x80:
            kinds[c] = 1
    kinds[0x80:0xC0] = b"\x02" * 0x40
    for lead in (0xC2, 0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xEA, 0xEF, 0xF0):
        kinds[lead] = 4
    kinds[0xE5:0xEA] = b"\x08" * 5
    return bytes(kinds)


@functools.cache
def _pair_classes() -> npt.NDArray[np.uint8]:
    """Class bits (see ``_class_table``) indexed by a character's first two bytes (lead << 8 | next):
    the class of every code point those bytes can start, or 4 where they differ (decode the character)."""
    import numpy as np

    table = _class_table()
    last = table.size - 1  # table[last] stands for every larger code point
    out = np.zeros(1 << 16, dtype=np.uint8)
    for lead in (0xC2, *range(0xE0, 0xF8)):
        for second in range(0x80, 0xC0):
            if lead < 0xE0:
                lo, size = ((lead & 0x1F) << 6) | (second & 0x3F), 1
            elif lead < 0xF0:
                lo, size = ((lead & 0x0F) << 12) | ((second & 0x3F) << 6), 0x40
            else:
                lo, size = ((lead & 0x07) << 18) | ((second & 0x3F) << 12), 0x1000
            block = table[min(lo, last) : min(lo + size, last)]
            if lo + size > last:
                block = np.append(block, table[last])
            out[(lead << 8) | second] = block[0] if block.min() == block.max() else 4
    return out


@dataclass(frozen=True)
class _Words:
    """What a batch's text alone gives (the same for every tokenizer)."""

    flags: npt.NDArray[np.uint8]  # flags[p + 1] of byte p: 1 in a word after its first byte, 2 continuation
    starts: npt.NDArray[np.int64]  # byte spans [start, end) of the words (maximal runs of non-white-space bytes)
    ends: npt.NDArray[np.int64]
    bound: npt.NDArray[np.int64]  # words of document i: bound[i]:bound[i + 1]
    solid_chars: npt.NDArray[np.int64]  # non-white-space characters per document
    no_space_chars: int  # characters of scripts written without spaces


@dataclass(frozen=True)
class TextBatch:
    """Documents as one UTF-8 buffer: ``"\\n".join(texts)`` (the separator is white space, so no word
    crosses documents), then ``_PAD`` more newline bytes. Built once per batch for every tokenizer."""

    texts: Sequence[str]
    joined: bytes
    size: int  # bytes of the joined text, padding excluded
    doc_bytes: npt.NDArray[np.int64]
    doc_chars: npt.NDArray[np.int64]
    doc_base: npt.NDArray[np.int64]  # where each document starts in ``data``

    @classmethod
    def of(cls, texts: Sequence[str]) -> TextBatch:
        import numpy as np

        encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
        n = len(encoded)
        doc_bytes = np.fromiter(map(len, encoded), dtype=np.int64, count=n)
        doc_chars = np.fromiter(map(len, texts), dtype=np.int64, count=n)
        encoded.append(b"\n" * (_PAD - 1))
        joined = b"\n".join(encoded)
        doc_base = np.zeros(n, dtype=np.int64)
        np.cumsum(doc_bytes[:-1] + 1, out=doc_base[1:])
        return cls(texts, joined, len(joined) - _PAD, doc_bytes, doc_chars, doc_base)

    @functools.cached_property
    def data(self) -> npt.NDArray[np.uint8]:
        import numpy as np

        return np.frombuffer(self.joined, dtype=np.uint8)

    @functools.cached_property
    def words(self) -> _Words:
        import numpy as np

        data = self.data
        kinds = np.frombuffer(self.joined.translate(_byte_kinds()), dtype=np.uint8)
        solid = (kinds & 1) == 0
        solid[self.size :] = False
        # Characters beyond ASCII that may be white space or of a no-space script: their first two
        # bytes give the class, or else the whole code point is decoded.
        lead = np.flatnonzero(kinds == 4)  # (lead bytes have no other bit: == is a cheaper test than &)
        b0 = data[lead].astype(np.intp)
        classes = _pair_classes()[(b0 << 8) | data[lead + 1]]
        mixed = np.flatnonzero(classes & 4)
        if mixed.size:
            at, c0 = lead[mixed], b0[mixed]
            c1, c2, c3 = (data[at + i].astype(np.intp) & 0x3F for i in (1, 2, 3))
            three = ((c0 & 0x0F) << 12) | (c1 << 6) | c2
            four = ((c0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3
            cps = np.where(c0 < 0xE0, ((c0 & 0x1F) << 6) | c1, np.where(c0 < 0xF0, three, four))
            classes[mixed] = _classes(cps.astype(np.uint32))
        is_space = (classes & 1) != 0
        space_at = lead[is_space]
        space_width = np.where(b0[is_space] < 0xE0, 2, 3)  # no white space needs 4 bytes
        for i in range(3):
            solid[space_at[space_width > i] + i] = False
        edges = np.flatnonzero(solid[1:] != solid[:-1]) + 1  # the padding ends the last word
        if solid[0]:
            edges = np.concatenate(([0], edges))
        starts, ends = edges[0::2], edges[1::2]
        # flags[p + 1] for byte p (flags[0] stands for the byte before the text): 1 inside a word after
        # its first byte, 2 continuation byte (3: both).
        flags = np.zeros(kinds.size + 1, dtype=np.uint8)
        np.bitwise_and(kinds, 2, out=flags[1:])
        flags[2:] |= (solid[1:] & solid[:-1]).view(np.uint8)
        bound = np.append(np.searchsorted(starts, self.doc_base), starts.size)
        solid_bytes = np.diff(np.concatenate(([0], np.cumsum(ends - starts)))[bound])
        n_docs = self.doc_bytes.size
        space_doc = np.searchsorted(self.doc_base, space_at, side="right") - 1
        space_extra = np.bincount(space_doc, weights=space_width - 1, minlength=n_docs).astype(np.int64)
        solid_chars = self.doc_chars - (self.doc_bytes - solid_bytes - space_extra)
        no_space = int(np.count_nonzero(classes & 2)) + int(np.count_nonzero(kinds == 8))
        return _Words(flags, starts, ends, bound, solid_chars, no_space)


def char_offsets(
    batch: TextBatch, counts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64], shift: int
) -> npt.NDArray[np.int64]:
    """(start, end) character offsets within ``"\\n".join(batch.texts)`` of consecutive tokens whose
    byte lengths are ``lengths`` (``counts`` per document; ``shift`` bytes before each document's text,
    1 for sentencepiece's dummy-prefix space). Token bytes are clipped to their document's text; a
    token starting inside a multi-byte character overlaps that character."""
    import numpy as np

    n_docs = counts.size
    doc_bytes = batch.doc_bytes
    token_doc = np.repeat(np.arange(n_docs), counts)
    ends = np.cumsum(lengths)
    first_token = np.concatenate(([0], np.cumsum(counts)[:-1]))
    before_doc = np.concatenate(([0], ends))[first_token]
    local_ends = np.clip(ends - before_doc[token_doc] - shift, 0, doc_bytes[token_doc])
    local_starts = np.minimum(np.maximum(ends - lengths - before_doc[token_doc] - shift, 0), doc_bytes[token_doc])
    base = batch.doc_base[token_doc]
    return bytes_to_chars(batch.data[: batch.size], local_starts + base, local_ends + base)


def bytes_to_chars(
    data: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Byte spans to character spans; a span starting inside a multi-byte character overlaps it."""
    import numpy as np

    is_start = (data & 0xC0) != 0x80
    prefix = np.concatenate(([0], np.cumsum(is_start, dtype=np.int64)))
    start_chars = np.where(starts < data.size, prefix[np.minimum(starts + 1, data.size)] - 1, prefix[-1])
    return np.stack([start_chars, prefix[ends]], axis=1)


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
        ids = self._pending_ids[0] if len(self._pending_ids) == 1 else np.concatenate(self._pending_ids)
        self._pending_ids, self._pending_count = [], 0
        top = int(ids.max()) + 1
        if top > self._id_counts.size:  # added tokens beyond the base vocabulary
            self._id_counts = np.concatenate([self._id_counts, np.zeros(top - self._id_counts.size, dtype=np.int64)])
        self._id_counts += np.bincount(ids, minlength=self._id_counts.size)

    def _add_ids(self, ids: npt.NDArray[np.int64]) -> None:
        """Count ids: large arrays at once, small ones buffered (a bincount costs the vocabulary size)."""
        if not ids.size:
            return
        if int(ids.min()) < 0:
            raise ValueError("token ids must be non-negative")
        self._pending_ids.append(ids)
        self._pending_count += int(ids.size)
        if self._pending_count >= min(1 << 20, max(1 << 16, self._id_counts.size)):
            self._flush_ids()

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
            self._add_ids(np.concatenate(ids))
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

        n_docs = len(batch.texts)
        if n_docs == 0:
            return
        tok_bound = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(counts, out=tok_bound[1:])
        if lengths is not None and ids.size:
            # Token positions: ``ends`` count the bytes the tokens spell, in which a document's text
            # starts ``shift`` bytes after its tokens do. The batch's text has one newline between
            # documents, so the tokens of consecutive documents must be ``gap`` bytes apart.
            ends = np.cumsum(lengths) if ends is None else ends
            spelled = np.diff(np.where(tok_bound > 0, ends[tok_bound - 1], 0))
            gap = batch.doc_bytes + 1 - spelled
            if int(lengths.min()) < 1 or int(gap.min()) < 0:  # empty tokens, or empty documents with tokens
                offsets = char_offsets(batch, counts, lengths, shift)
                self.add_batch(batch.texts, np.split(ids, tok_bound[1:-1]), offsets)
                return
            if gap[:-1].any():
                adjust = np.zeros(n_docs, dtype=np.int64)
                np.cumsum(gap[:-1], out=adjust[1:])
                ends += np.repeat(adjust, counts)
            # now byte p of the text is at position p + shift: tokens [ends - lengths, ends)
        else:
            ends = None
        self._add_ids(ids)
        record = self._docs
        record.tokens.extend(counts.tolist())
        record.bytes.extend(batch.doc_bytes.tolist())
        self._chars += int(batch.doc_chars.sum())
        words = batch.words
        self._no_space_chars += words.no_space_chars
        self._letters += int(words.solid_chars.sum())
        record.chars_units.extend(words.solid_chars.tolist())
        words_per_doc = np.diff(words.bound)
        record.words.extend(words_per_doc.tolist())
        if ends is None:
            self._offsets_missing |= lengths is None
            record.word_tokens.extend([0] * n_docs)
            record.char_tokens.extend(words.solid_chars.tolist())
            return

        assert lengths is not None
        starts = ends - lengths
        flags = words.flags[1 - shift :][starts]  # a start before the text reads flags[0]: 0
        # Tokens cover each document's text without gaps, so a word is covered by the token holding
        # its first byte plus every token starting inside it (flag 1). Tokens starting inside a
        # character (flag 2) add one token to the character.
        inside = np.flatnonzero(flags >= 2)
        inside_per_doc = np.diff(np.searchsorted(inside, tok_bound))  # (a search per document, not per token)
        with_tokens = np.flatnonzero(counts)
        flag_sum = np.zeros(n_docs, dtype=np.int64)
        flag_sum[with_tokens] = np.add.reduceat(flags, tok_bound[with_tokens], dtype=np.int64)
        interior = flag_sum - 2 * inside_per_doc
        record.word_tokens.extend((words_per_doc + interior).tolist())
        word_starts = words.starts + shift if shift else words.starts
        first = np.searchsorted(starts, word_starts, side="right") - 1
        self._split_words += int(np.count_nonzero(ends[first] - shift < words.ends))
        record.char_tokens.extend((words.solid_chars + inside_per_doc).tolist())
        if inside.size:
            # Distinct characters: two such tokens (p < q, both at continuation bytes) start in the
            # same character only if q - p is 1, or 2 with byte p + 1 a continuation byte too.
            at = starts[inside] - shift
            step = np.diff(at)
            same = step == 1
            two = np.flatnonzero(step == 2)
            same[two] = (batch.data[at[two] + 1] & 0xC0) == 0x80
            self._split_chars += int(at.size - np.count_nonzero(same))

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
