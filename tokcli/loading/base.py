"""The one interface every loaded tokenizer offers to encode, decode, compare and infer-mixture."""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    # Every id of a batch in order (int64), and the number of ids of each text (int64).
    IdArrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]

TokenizerKind = Literal["hf", "spm", "tiktoken", "tekken"]
ModelType = Literal["bpe", "unigram", "wordpiece", "wordlevel", "char", "word", "unknown"]


@dataclass(frozen=True)
class TokenizerInfo:
    """What a tokenizer is, for logs and result headers."""

    name: str
    path: Path
    kind: TokenizerKind
    model_type: ModelType
    engine: str  # the library that actually encodes: "tokenizers", "tiktoken", "sentencepiece"
    sha256: str
    notes: tuple[str, ...] = field(default=())  # e.g. why the fast engine was not used


def default_threads() -> int:
    """The CPUs this process may run on, capped by ``--threads``/``TOKCLI_THREADS`` (tokcli.resources)."""
    from tokcli.resources import cpu_budget

    return cpu_budget()


class LoadedTokenizer(ABC):
    """A tokenizer file loaded for use. Ids always equal those of the file's reference library."""

    info: TokenizerInfo

    @property
    def name(self) -> str:
        return self.info.name

    @property
    @abstractmethod
    def vocab_size(self) -> int:
        """Number of ids: one more than the largest id (special and added tokens included)."""

    @abstractmethod
    def encode_batch(
        self, texts: Sequence[str], *, add_special_tokens: bool = False, threads: int = 1
    ) -> list[list[int]]:
        """Ids of each text. ``add_special_tokens`` adds BOS/EOS-style tokens the way the library does."""

    @abstractmethod
    def decode_batch(self, ids: Sequence[Sequence[int]]) -> list[str]:
        """Text of each id sequence (special tokens kept), as the reference library decodes it."""

    def encode_batch_array(self, texts: Sequence[str], *, threads: int = 1) -> IdArrays | None:
        """The ids of ``encode_batch`` (no special tokens added) as arrays: all ids in order and the
        count per text; None when the engine gives only lists (then use ``encode_batch``)."""
        return None

    def encode(self, text: str, *, add_special_tokens: bool = False) -> list[int]:
        return self.encode_batch([text], add_special_tokens=add_special_tokens)[0]

    def decode(self, ids: Sequence[int]) -> str:
        return self.decode_batch([ids])[0]

    @abstractmethod
    def _build_token_bytes(self) -> list[bytes]:
        """The bytes of every id, indexed by id (b"" for unused ids)."""

    @functools.cached_property
    def token_bytes_table(self) -> list[bytes]:
        """``token_bytes_table[id]``: the token's own bytes (see tokcli.bpe.byte_level)."""
        return self._build_token_bytes()

    def token_bytes(self, token_id: int) -> bytes:
        return self.token_bytes_table[token_id]

    @property
    @abstractmethod
    def special_tokens(self) -> Mapping[str, int]:
        """Special/control tokens (never produced from ordinary text by the model itself)."""

    @property
    def added_tokens(self) -> Mapping[str, int]:
        """Tokens added on top of the model's vocabulary (special ones included)."""
        return self.special_tokens

    @property
    def byte_fallback_ids(self) -> Mapping[int, int]:
        """id -> byte value of byte-fallback tokens (``<0xNN>``); empty if the model has none."""
        return {}

    @property
    def unk_id(self) -> int | None:
        return None

    @abstractmethod
    def merges(self) -> list[tuple[bytes, bytes]] | None:
        """The ordered BPE merge list as pairs of token bytes; None for non-BPE models."""

    @abstractmethod
    def token_to_id(self, token: str) -> int | None:
        """Id of a token written as in the vocabulary file (or a special token's text)."""

    def check_id(self, token_id: int) -> bool:
        return 0 <= token_id < self.vocab_size
