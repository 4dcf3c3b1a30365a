"""sentencepiece ``.model`` files, encoded by sentencepiece itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tokcli.errors import TokenizerError
from tokcli.loading.base import LoadedTokenizer, ModelType, TokenizerInfo
from tokcli.loading.bpe import rebuild_merges, split_chars
from tokcli.loading.bytes_ import SPM_SPACE, metaspace_to_bytes

if TYPE_CHECKING:
    from sentencepiece import SentencePieceProcessor

# sentencepiece_model.proto: ModelProto.trainer_spec = 2; TrainerSpec.model_type = 3.
_MODEL_TYPES: dict[int, ModelType] = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}
_USER_DEFINED = 4  # SentencePiece.Type.USER_DEFINED


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> dict[int, list[int | bytes]]:
    """Top-level fields of a protobuf message (varints as int, length-delimited as bytes)."""
    out: dict[int, list[int | bytes]] = {}
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = int.from_bytes(data[pos : pos + 8], "little"), pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = int.from_bytes(data[pos : pos + 4], "little"), pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def piece_types(proto: bytes) -> list[int]:
    """``SentencePiece.type`` of every piece (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte)."""
    types: list[int] = []
    for piece in _fields(proto).get(1, []):
        kind = _fields(piece).get(3, [1])[0] if isinstance(piece, bytes) else 1
        types.append(kind if isinstance(kind, int) else 1)
    return types


def model_type_of(proto: bytes) -> ModelType:
    """The trainer's model type recorded in a serialized ModelProto (unigram when absent)."""
    try:
        trainer = _fields(proto).get(2, [b""])[0]
        kind = _fields(trainer if isinstance(trainer, bytes) else b"").get(3, [1])[0]
    except (ValueError, IndexError):
        return "unknown"
    return _MODEL_TYPES.get(kind if isinstance(kind, int) else 0, "unknown")


class SpmTokenizer(LoadedTokenizer):
    """A sentencepiece model. ``add_special_tokens`` adds BOS (as HF's Llama tokenizers do), not EOS."""

    def __init__(self, path: Path, name: str, sha256: str) -> None:
        from sentencepiece import SentencePieceProcessor

        proto = path.read_bytes()
        sp = SentencePieceProcessor()
        try:
            sp.LoadFromSerializedProto(proto)
        except (RuntimeError, OSError, TypeError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise TokenizerError(f"{path}: not a valid sentencepiece model: {first}", hint="check the file") from None
        self._sp: SentencePieceProcessor = sp
        self.info = TokenizerInfo(name, path, "spm", model_type_of(proto), "sentencepiece", sha256)
        size = sp.GetPieceSize()
        self._pieces = [sp.IdToPiece(i) for i in range(size)]
        self._control = {self._pieces[i]: i for i in range(size) if sp.IsControl(i)}
        try:
            types = piece_types(proto)
        except (ValueError, IndexError):
            types = []
        self._user = {self._pieces[i]: i for i, kind in enumerate(types) if kind == _USER_DEFINED}

    @property
    def vocab_size(self) -> int:
        return len(self._pieces)

    def encode_batch(
        self, texts: Sequence[str], *, add_special_tokens: bool = False, threads: int = 1
    ) -> list[list[int]]:
        if threads <= 1:  # sentencepiece's batch call starts a thread pool even for one thread
            encode = self._sp.Encode
            return [encode(t, out_type=int, add_bos=add_special_tokens, add_eos=False) for t in texts]
        result: list[list[int]] = self._sp.Encode(
            list(texts), out_type=int, add_bos=add_special_tokens, add_eos=False, num_threads=threads
        )
        return result

    def decode_batch(self, ids: Sequence[Sequence[int]]) -> list[str]:
        result: list[str] = self._sp.Decode([list(seq) for seq in ids])
        return result

    def _build_token_bytes(self) -> list[bytes]:
        return [metaspace_to_bytes(piece) for piece in self._pieces]

    @property
    def special_tokens(self) -> Mapping[str, int]:
        return dict(self._control)

    @property
    def added_tokens(self) -> Mapping[str, int]:
        return {**self._control, **self._user}

    @property
    def byte_fallback_ids(self) -> Mapping[int, int]:
        table = self.token_bytes_table
        return {i: table[i][0] for i in range(len(self._pieces)) if self._sp.IsByte(i)}

    @property
    def unk_id(self) -> int | None:
        unk = self._sp.unk_id()
        return unk if unk >= 0 else None

    def merges(self) -> list[tuple[bytes, bytes]] | None:
        if self.info.model_type != "bpe":
            return None
        sp = self._sp
        user = set(self._user.values())  # matched verbatim, never built by merges
        normal = [
            i
            for i in range(len(self._pieces))
            if not (sp.IsControl(i) or sp.IsUnknown(i) or sp.IsByte(i) or sp.IsUnused(i) or i in user)
        ]
        # spm BPE merges the adjacent pair whose concatenation is the highest-scoring piece
        # (bpe_model.cc), so rank = position in descending score order (ties: lower id first).
        normal.sort(key=lambda i: (-sp.GetScore(i), i))
        merges, _ = rebuild_merges([self._pieces[i] for i in normal], split_chars)
        return [(metaspace_to_bytes(a), metaspace_to_bytes(b)) for a, b in merges]

    def token_to_id(self, token: str) -> int | None:
        token_id = self._sp.PieceToId(token)
        if token_id == self._sp.unk_id() and token != self._pieces[token_id]:
            token_id = self._sp.PieceToId(token.replace(" ", SPM_SPACE))
            if token_id == self._sp.unk_id() and token.replace(" ", SPM_SPACE) != self._pieces[token_id]:
                return None
        return int(token_id)


# TrainerSpec fields that decide how sentencepiece's trainer splits text into words and which pieces it
# may build (sentencepiece_model.proto field number, proto default).
_TRAINER_FIELDS: dict[str, tuple[int, int]] = {
    "max_sentence_length": (18, 4192),
    "max_sentencepiece_length": (20, 16),
    "split_by_unicode_script": (21, 1),
    "split_by_whitespace": (22, 1),
    "split_by_number": (23, 1),
    "treat_whitespace_as_suffix": (24, 0),
    "split_digits": (25, 0),
    "allow_whitespace_only_pieces": (26, 0),
}


def trainer_options(proto: bytes) -> dict[str, int]:
    """The word-splitting options of the TrainerSpec recorded in a serialized ModelProto (booleans as
    0/1), with the proto defaults for fields that are absent."""
    try:
        trainer = _fields(proto).get(2, [b""])[0]
        fields = _fields(trainer if isinstance(trainer, bytes) else b"")
    except (ValueError, IndexError) as exc:
        raise TokenizerError(f"corrupt sentencepiece model ({exc})") from None
    out: dict[str, int] = {}
    for name, (number, default) in _TRAINER_FIELDS.items():
        value = fields.get(number, [default])[-1]
        out[name] = value if isinstance(value, int) else default
    return out
