"""Fertility: tokens per word, each word's tokens found from the tokens' in-context positions (a token
counts for every word its span overlaps), never by re-encoding words alone; split rate: share of
words covered by 2+ tokens. The same per character, for scripts written without spaces.

Two ways to the same numbers: from character offsets (any tokenizer that gives them), and from byte
positions when the tokens' own bytes spell the text (compare's fast path, no bytes-to-characters map).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tokcli.metrics.text_classes import true_runs

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from tokcli.metrics.utf8_batch import TextBatch


@dataclass(frozen=True)
class BatchUnits:
    """Per document of a batch: words and non-space characters, and the tokens covering them."""

    words: npt.NDArray[np.int64]
    word_tokens: npt.NDArray[np.int64]  # tokens per word, summed over the document's words
    split_words: int  # words of the batch covered by 2+ tokens
    chars: npt.NDArray[np.int64]
    char_tokens: npt.NDArray[np.int64]
    split_chars: int


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


def units_from_offsets(
    solid: npt.NDArray[np.bool_],
    solid_per_doc: npt.NDArray[np.int64],
    doc_starts: npt.NDArray[np.int64],
    offsets: npt.NDArray[np.int64],
) -> BatchUnits:
    """Units of the documents starting at ``doc_starts`` in a joined text whose non-space characters
    are ``solid``, covered by tokens with (start, end) character ``offsets`` in that text."""
    import numpy as np

    n_docs = doc_starts.size
    off = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    off = off[off[:, 1] > off[:, 0]]  # added/special tokens with empty spans cover no text
    t_starts, t_ends = off[:, 0], off[:, 1]
    w_starts, w_ends = true_runs(solid)
    per_word = tokens_per_unit(w_starts, w_ends, t_starts, t_ends)
    word_doc = np.searchsorted(doc_starts, w_starts, side="right") - 1
    # Characters as units: with contiguous offsets a character is covered by 1 + (number of tokens
    # that start inside it) tokens; a token starts inside a character when it overlaps the token
    # before it (byte-level BPE splitting a multi-byte character).
    inside = t_starts[1:] < t_ends[:-1]
    inside_starts = t_starts[1:][inside]
    inside_doc = np.searchsorted(doc_starts, inside_starts, side="right") - 1
    return BatchUnits(
        words=np.bincount(word_doc, minlength=n_docs),
        word_tokens=np.bincount(word_doc, weights=per_word, minlength=n_docs).astype(np.int64),
        split_words=int(np.count_nonzero(per_word >= 2)),
        chars=solid_per_doc,
        char_tokens=solid_per_doc + np.bincount(inside_doc, minlength=n_docs),
        split_chars=int(np.unique(inside_starts).size),
    )


def token_bounds(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Tokens of document i are ``bound[i]:bound[i + 1]``."""
    import numpy as np

    bound = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=bound[1:])
    return bound


def place_tokens(
    batch: TextBatch,
    counts: npt.NDArray[np.int64],
    lengths: npt.NDArray[np.int64],
    bound: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64] | None,
) -> npt.NDArray[np.int64] | None:
    """End positions of the tokens in the batch's text, such that byte p of the text is at p + shift and
    the tokens span [ends - lengths, ends); ``ends``, if given, is ``np.cumsum(lengths)`` and is
    overwritten. None when tokens cannot be placed so: empty tokens, or empty documents with tokens."""
    import numpy as np

    # ``ends`` count the bytes the tokens spell, in which a document's text starts ``shift`` bytes after
    # its tokens do. The batch's text has one newline between documents, so the tokens of consecutive
    # documents must be ``gap`` bytes apart.
    ends = np.cumsum(lengths) if ends is None else ends
    spelled = np.diff(np.where(bound > 0, ends[bound - 1], 0))
    gap = batch.doc_bytes + 1 - spelled
    if int(lengths.min()) < 1 or int(gap.min()) < 0:
        return None
    if gap[:-1].any():
        adjust = np.zeros(counts.size, dtype=np.int64)
        np.cumsum(gap[:-1], out=adjust[1:])
        ends += np.repeat(adjust, counts)
    return ends


def units_from_spelling(
    batch: TextBatch,
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    shift: int,
    bound: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
) -> BatchUnits:
    """Units of the batch covered by tokens at byte positions [starts, ends) (from :func:`place_tokens`;
    ``counts`` tokens per document, ``bound`` from :func:`token_bounds`)."""
    import numpy as np

    words = batch.words
    words_per_doc = np.diff(words.bound)
    flags = words.flags[1 - shift :][starts]  # a start before the text reads flags[0]: 0
    # Tokens cover each document's text without gaps, so a word is covered by the token holding
    # its first byte plus every token starting inside it (flag 1). Tokens starting inside a
    # character (flag 2) add one token to the character.
    inside = np.flatnonzero(flags >= 2)
    inside_per_doc = np.diff(np.searchsorted(inside, bound))  # (a search per document, not per token)
    with_tokens = np.flatnonzero(counts)
    flag_sum = np.zeros(counts.size, dtype=np.int64)
    flag_sum[with_tokens] = np.add.reduceat(flags, bound[with_tokens], dtype=np.int64)
    interior = flag_sum - 2 * inside_per_doc
    word_starts = words.starts + shift if shift else words.starts
    first = np.searchsorted(starts, word_starts, side="right") - 1
    return BatchUnits(
        words=words_per_doc,
        word_tokens=words_per_doc + interior,
        split_words=int(np.count_nonzero(ends[first] - shift < words.ends)),
        chars=words.solid_chars,
        char_tokens=words.solid_chars + inside_per_doc,
        split_chars=split_characters(batch, starts[inside] - shift) if inside.size else 0,
    )


def split_characters(batch: TextBatch, at: npt.NDArray[np.int64]) -> int:
    """Distinct characters holding the token starts ``at`` (byte positions of continuation bytes, in
    order): two such tokens (p < q) start in the same character only if q - p is 1, or 2 with byte
    p + 1 a continuation byte too."""
    import numpy as np

    step = np.diff(at)
    same = step == 1
    two = np.flatnonzero(step == 2)
    same[two] = (batch.data[at[two] + 1] & 0xC0) == 0x80
    return int(at.size - np.count_nonzero(same))


def units_without_tokens(batch: TextBatch) -> BatchUnits:
    """Units of the batch with no token positions known (no fertility): words and characters only."""
    import numpy as np

    words = batch.words
    n_docs = words.solid_chars.size
    return BatchUnits(
        np.diff(words.bound), np.zeros(n_docs, dtype=np.int64), 0, words.solid_chars, words.solid_chars, 0
    )
