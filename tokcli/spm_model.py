"""The one reader and writer of sentencepiece ``.model`` files (a serialized ``ModelProto``).

Only the few fields tokcli needs are read or rewritten, straight from the protobuf wire format
(https://protobuf.dev/programming-guides/encoding/), so no ``protobuf`` package is needed. Field
numbers are those of sentencepiece's ``sentencepiece_model.proto``: ``ModelProto.pieces = 1`` (each a
``SentencePiece`` with ``piece = 1``, ``score = 2``, ``type = 3``) and ``ModelProto.trainer_spec = 2``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tokcli.errors import TokenizerError

PIECES = 1  # ModelProto.pieces
TRAINER_SPEC = 2  # ModelProto.trainer_spec
PIECE_TYPE = 3  # SentencePiece.type: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
MODEL_TYPE = 3  # TrainerSpec.model_type
NUM_THREADS = 16  # TrainerSpec.num_threads
MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}
USER_DEFINED = 4
# The sentence length tokcli trains with (bytes; sentencepiece skips longer lines) and counts words by.
MAX_SENTENCE_LENGTH = 1 << 16

# TrainerSpec fields that decide how sentencepiece's trainer splits text into words and which pieces it
# may build (field number, proto default).
TRAINER_FIELDS: dict[str, tuple[int, int]] = {
    "max_sentence_length": (18, 4192),
    "max_sentencepiece_length": (20, 16),
    "split_by_unicode_script": (21, 1),
    "split_by_whitespace": (22, 1),
    "split_by_number": (23, 1),
    "treat_whitespace_as_suffix": (24, 0),
    "split_digits": (25, 0),
    "allow_whitespace_only_pieces": (26, 0),
}


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def fields(data: bytes) -> Iterator[tuple[int, int, bytes, int | bytes]]:
    """The top-level fields of a message: (number, wire type, the field's raw bytes, its value: an int
    for varint and fixed-width fields, the payload for length-delimited ones)."""
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = read_varint(data, pos)
        elif wire == 1:
            value, pos = int.from_bytes(data[pos : pos + 8], "little"), pos + 8
        elif wire == 2:
            length, pos = read_varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = int.from_bytes(data[pos : pos + 4], "little"), pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, data[start:pos], value


def field_values(data: bytes) -> dict[int, list[int | bytes]]:
    """Field number -> its values, in order."""
    out: dict[int, list[int | bytes]] = {}
    for number, _, _, value in fields(data):
        out.setdefault(number, []).append(value)
    return out


def drop_fields(data: bytes, numbers: set[int]) -> bytes:
    return b"".join(raw for number, _, raw, _ in fields(data) if number not in numbers)


def rewrite_field(data: bytes, number: int, change: Callable[[bytes], bytes]) -> bytes:
    """``data`` with the payload of each length-delimited field ``number`` replaced by ``change(payload)``."""
    out = []
    for n, wire, raw, value in fields(data):
        if n == number and wire == 2 and isinstance(value, bytes):
            body = change(value)
            out.append(encode_varint((n << 3) | 2) + encode_varint(len(body)) + body)
        else:
            out.append(raw)
    return b"".join(out)


def set_varint_field(data: bytes, number: int, value: int) -> bytes:
    """``data`` with every varint field ``number`` set to ``value`` in place (absent: unchanged)."""
    fixed = encode_varint(number << 3) + encode_varint(value)
    return b"".join(fixed if n == number and wire == 0 else raw for n, wire, raw, _ in fields(data))


def trainer_spec(proto: bytes) -> bytes:
    found = field_values(proto).get(TRAINER_SPEC, [b""])[0]
    return found if isinstance(found, bytes) else b""


def piece_types(proto: bytes) -> list[int]:
    """``SentencePiece.type`` of every piece (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte)."""
    types: list[int] = []
    for piece in field_values(proto).get(PIECES, []):
        kind = field_values(piece).get(PIECE_TYPE, [1])[0] if isinstance(piece, bytes) else 1
        types.append(kind if isinstance(kind, int) else 1)
    return types


def model_type_of(proto: bytes) -> str:
    """The trainer's model type recorded in a serialized ModelProto (unigram when absent)."""
    try:
        kind = field_values(trainer_spec(proto)).get(MODEL_TYPE, [1])[0]
    except (ValueError, IndexError):
        return "unknown"
    return MODEL_TYPES.get(kind if isinstance(kind, int) else 0, "unknown")


def trainer_options(proto: bytes) -> dict[str, int]:
    """The word-splitting options of the TrainerSpec recorded in a serialized ModelProto (booleans as
    0/1), with the proto defaults for fields that are absent."""
    try:
        values = field_values(trainer_spec(proto))
    except (ValueError, IndexError) as exc:
        raise TokenizerError(f"corrupt sentencepiece model ({exc})") from None
    out: dict[str, int] = {}
    for name, (number, default) in TRAINER_FIELDS.items():
        value = values.get(number, [default])[-1]
        out[name] = value if isinstance(value, int) else default
    return out
