"""Config key spellings and "did you mean" suggestions for unknown keys, sections and choices."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def normalise_key(key: str) -> str:
    """YAML keys and section names may use hyphens (``vocab-size``) or underscores."""
    return key.replace("-", "_")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or a list of valid choices."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "valid keys: " + ", ".join(choices)


SHOWN_CHARS = 200


def shown(value: object) -> str:
    """``repr(value)`` for a message: on one line and at most :data:`SHOWN_CHARS` characters (a value may
    be a whole file, or nested aliases expanding to millions of items)."""
    import reprlib

    limits = reprlib.Repr()
    limits.maxstring, limits.maxother, limits.maxlevel = SHOWN_CHARS, SHOWN_CHARS, 3
    limits.maxlist = limits.maxtuple = limits.maxdict = limits.maxset = 8
    text = limits.repr(value)  # bounded work, whatever the value's size
    if len(text) > SHOWN_CHARS:
        text = f"{text[: SHOWN_CHARS - 3]}..."
    return text
