"""Character classes for counting words: Unicode white space, and the scripts written without spaces
between words (Han, Hiragana/Katakana, Thai, Lao, Khmer, Myanmar), whose characters are the unit there.

Class bits: 1 white space, 2 a character of a no-space script.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# Scripts written without spaces between words: characters are the fertility unit there.
NO_SPACE_RANGES: tuple[tuple[int, int], ...] = (
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
SPACES = (
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


def code_points(text: str) -> npt.NDArray[np.uint32]:
    """The code points of ``text`` (lone surrogates included)."""
    import numpy as np

    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


@functools.cache
def class_table() -> npt.NDArray[np.uint8]:
    """Class bits per code point up to the last range we care about; the last entry stands for every
    larger code point (class 0)."""
    import numpy as np

    size = max(max(SPACES), max(hi for _, hi in NO_SPACE_RANGES)) + 2
    table = np.zeros(size, dtype=np.uint8)
    table[list(SPACES)] |= 1
    for lo, hi in NO_SPACE_RANGES:
        table[lo : hi + 1] |= 2
    return table


def classify_code_points(cps: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]:
    """Class bits of every code point."""
    import numpy as np

    table = class_table()
    return table[np.minimum(cps, table.size - 1)]


def true_runs(solid: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Spans [start, end) of the maximal runs of True."""
    import numpy as np

    padded = np.concatenate(([False], solid, [False])).astype(np.int8)
    edges = np.diff(padded)
    return np.flatnonzero(edges == 1).astype(np.int64), np.flatnonzero(edges == -1).astype(np.int64)


def word_spans(text: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Character spans [start, end) of the maximal runs of non-whitespace characters."""
    return true_runs((classify_code_points(code_points(text)) & 1) == 0)
