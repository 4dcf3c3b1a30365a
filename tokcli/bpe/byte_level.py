"""Token strings <-> the bytes they stand for, for each vocabulary convention.

- Byte-level BPE (GPT-2, ``tokenizers`` ByteLevel): every byte is shown as one printable character of
  the alphabet built by GPT-2's ``bytes_to_unicode`` (openai/gpt-2 ``src/encoder.py``): printable
  Latin-1 bytes map to themselves, the 68 others to U+0100 onwards in byte order (space -> ``Ġ``).
- sentencepiece: ``▁`` (U+2581) marks a space, and byte-fallback pieces ``<0xNN>`` stand for one byte.

Token bytes are a token's own bytes, never the decode of a one-token sequence (a partial UTF-8
sequence would decode to U+FFFD).
"""

from __future__ import annotations

import functools
import re

SPM_SPACE = "\u2581"
BYTE_PIECE_RE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


@functools.cache
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table (256 entries)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


@functools.cache
def unicode_to_bytes() -> dict[str, int]:
    """Inverse of :func:`bytes_to_unicode`."""
    return {char: byte for byte, char in bytes_to_unicode().items()}


def byte_level_to_bytes(token: str) -> bytes | None:
    """The bytes of a byte-level token, or None if it has a character outside the alphabet."""
    table = unicode_to_bytes()
    try:
        return bytes(table[c] for c in token)
    except KeyError:
        return None


def byte_piece_value(piece: str) -> int | None:
    """255 for ``<0xFF>``; None for any other piece."""
    match = BYTE_PIECE_RE.match(piece)
    return int(match.group(1), 16) if match else None


def metaspace_to_bytes(piece: str) -> bytes:
    """The bytes of a sentencepiece-style piece: ``<0xNN>`` -> that byte, ``▁`` -> space."""
    value = byte_piece_value(piece)
    if value is not None:
        return bytes([value])
    return piece.replace(SPM_SPACE, " ").encode("utf-8")


_VISIBLE = {" ": "␣", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\"}


def render_token(data: bytes) -> str:
    """A readable one-word form of a token's bytes, for ``encode --format tokens``.

    Valid UTF-8 is shown as text, with space as ``␣``, newline/tab/CR as ``\\n``/``\\t``/``\\r`` and
    backslash doubled; invalid bytes and other control characters are shown as ``\\xNN``.
    """
    text = data.decode("utf-8", errors="backslashreplace")
    if text.isprintable() and " " not in text and "\\" not in text:
        return text  # fast path: nothing to escape
    out: list[str] = []
    # backslashreplace already produced "\xNN" for invalid bytes; literal backslashes must be told
    # apart, so decode piecewise: valid runs are escaped, invalid bytes kept as \xNN.
    for chunk, bad in _utf8_runs(data):
        if bad:
            out.append("".join(f"\\x{b:02x}" for b in chunk))
            continue
        for char in chunk.decode("utf-8"):
            if char in _VISIBLE:
                out.append(_VISIBLE[char])
            elif char.isprintable():
                out.append(char)
            else:
                out.append("".join(f"\\x{b:02x}" for b in char.encode("utf-8")))
    return "".join(out)


def _utf8_runs(data: bytes) -> list[tuple[bytes, bool]]:
    """Split ``data`` into (chunk, is_invalid) runs of valid UTF-8 and invalid bytes."""
    runs: list[tuple[bytes, bool]] = []
    rest = data
    while rest:
        try:
            rest.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start:
                runs.append((rest[: exc.start], False))
            runs.append((rest[exc.start : exc.end], True))
            rest = rest[exc.end :]
            continue
        runs.append((rest, False))
        break
    return runs
