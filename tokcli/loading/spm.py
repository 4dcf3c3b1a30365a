"""sentencepiece ``.model`` files, encoded by sentencepiece itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from tokcli.bpe.byte_level import SPM_SPACE, metaspace_to_bytes
from tokcli.bpe.ranks import rebuild_merges, split_chars
from tokcli.errors import TokenizerError
from tokcli.loading.base import LoadedTokenizer, ModelType, TokenizerInfo
from tokcli.spm_model import USER_DEFINED, model_type_of, piece_types

if TYPE_CHECKING:
    from sentencepiece import SentencePieceProcessor


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
        self.info = TokenizerInfo(name, path, "spm", cast(ModelType, model_type_of(proto)), "sentencepiece", sha256)
        size = sp.GetPieceSize()
        self._pieces = [sp.IdToPiece(i) for i in range(size)]
        self._control = {self._pieces[i]: i for i in range(size) if sp.IsControl(i)}
        try:
            types = piece_types(proto)
        except (ValueError, IndexError):
            types = []
        self._user = {self._pieces[i]: i for i, kind in enumerate(types) if kind == USER_DEFINED}

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
