"""Documents of a batch as one UTF-8 buffer, and what its bytes alone give: word spans, characters,
and the character offsets of tokens from their byte lengths. compare's fast path works on byte
positions only; these tables tell a character's class from its first bytes without decoding it."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokcli.metrics.text_classes import SPACES, class_table, classify_code_points

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

_PAD = 4  # newline bytes after a batch's text, so a token or character may be looked at 3 bytes ahead


@functools.cache
def utf8_byte_kinds() -> bytes:
    """``bytes.translate`` table of bit flags: 1 ASCII white space, 2 continuation byte, 4 lead byte of a
    character that may be white space or of a no-space script, whose class depends on its next byte
    (C2, E0-E4, EA, EF, F0), 8 lead byte of a no-space-script character (E5-E9: U+5000-U+9FFF). Other
    lead bytes start characters of class 0 (C3-DF: U+00C0-U+07FF, EB-EE: U+B000-U+EFFF, F1-F7)."""
    kinds = bytearray(256)
    for c in SPACES:
        if c < 0x80:
            kinds[c] = 1
    kinds[0x80:0xC0] = b"\x02" * 0x40
    for lead in (0xC2, 0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xEA, 0xEF, 0xF0):
        kinds[lead] = 4
    kinds[0xE5:0xEA] = b"\x08" * 5
    return bytes(kinds)


@functools.cache
def utf8_pair_classes() -> npt.NDArray[np.uint8]:
    """Class bits (see ``class_table``) indexed by a character's first two bytes (lead << 8 | next):
    the class of every code point those bytes can start, or 4 where they differ (decode the character)."""
    import numpy as np

    table = class_table()
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
class BatchWords:
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
    def words(self) -> BatchWords:
        import numpy as np

        data = self.data
        kinds = np.frombuffer(self.joined.translate(utf8_byte_kinds()), dtype=np.uint8)
        solid = (kinds & 1) == 0
        solid[self.size :] = False
        # Characters beyond ASCII that may be white space or of a no-space script: their first two
        # bytes give the class, or else the whole code point is decoded.
        lead = np.flatnonzero(kinds == 4)  # (lead bytes have no other bit: == is a cheaper test than &)
        b0 = data[lead].astype(np.intp)
        classes = utf8_pair_classes()[(b0 << 8) | data[lead + 1]]
        mixed = np.flatnonzero(classes & 4)
        if mixed.size:
            at, c0 = lead[mixed], b0[mixed]
            c1, c2, c3 = (data[at + i].astype(np.intp) & 0x3F for i in (1, 2, 3))
            three = ((c0 & 0x0F) << 12) | (c1 << 6) | c2
            four = ((c0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3
            cps = np.where(c0 < 0xE0, ((c0 & 0x1F) << 6) | c1, np.where(c0 < 0xF0, three, four))
            classes[mixed] = classify_code_points(cps.astype(np.uint32))
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
        return BatchWords(flags, starts, ends, bound, solid_chars, no_space)


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
