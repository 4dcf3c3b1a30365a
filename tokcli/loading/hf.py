"""HF ``tokenizer.json`` files, encoded by ``tokenizers`` or, when provably identical, by tiktoken."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tokcli.bpe.byte_level import byte_level_to_bytes, byte_piece_value, metaspace_to_bytes
from tokcli.errors import TokenizerError
from tokcli.loading.base import LoadedTokenizer, ModelType, TokenizerInfo
from tokcli.loading.hf_as_tiktoken import TiktokenPlan, parse_merges, plan_tiktoken
from tokcli.loading.tiktoken_ import TiktokenEngine, build_encoding
from tokcli.pretok.hf import pipeline_components, uses_metaspace

if TYPE_CHECKING:
    from tokenizers import Tokenizer

    from tokcli.loading.base import IdArrays

Engine = Literal["auto", "tokenizers"]

_MODEL_TYPES: dict[str, ModelType] = {
    "BPE": "bpe",
    "Unigram": "unigram",
    "WordPiece": "wordpiece",
    "WordLevel": "wordlevel",
}


def token_bytes_function(data: Mapping[str, Any]) -> Callable[[str], bytes]:
    """How this tokenizer.json spells bytes in its vocabulary (see tokcli.bpe.byte_level)."""
    model = data.get("model") or {}
    parts = pipeline_components(data.get("pre_tokenizer")) + pipeline_components(data.get("decoder"))
    types = {p.get("type") for p in parts}
    prefix = model.get("continuing_subword_prefix") or ""
    suffix = model.get("end_of_word_suffix") or ""

    def strip(token: str) -> str:
        if prefix and token.startswith(prefix):
            token = token[len(prefix) :]
        if suffix and token.endswith(suffix):
            token = token[: -len(suffix)]
        return token

    if "ByteLevel" in types:

        def byte_level(token: str) -> bytes:
            token = strip(token)
            return byte_level_to_bytes(token) or token.encode("utf-8")

        return byte_level
    metaspace = uses_metaspace(data)
    if metaspace or model.get("byte_fallback"):
        return lambda token: metaspace_to_bytes(strip(token)) if metaspace else _byte_or_utf8(strip(token))
    return lambda token: strip(token).encode("utf-8")


def _byte_or_utf8(token: str) -> bytes:
    value = byte_piece_value(token)
    return bytes([value]) if value is not None else token.encode("utf-8")


class HFTokenizer(LoadedTokenizer):
    """A tokenizer.json; ``info.engine`` says whether tiktoken or tokenizers encodes it."""

    def __init__(self, path: Path, data: dict[str, Any], name: str, sha256: str, engine: Engine = "auto") -> None:
        from tokenizers import Tokenizer

        try:
            self._tok: Tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises plain Exception for bad content
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise TokenizerError(f"{path}: not a valid tokenizer.json: {first}", hint="check the file") from None
        # Padding/truncation settings in the file would make ids depend on the batch; encode whole texts.
        self._tok.no_padding()
        self._tok.no_truncation()
        self._data = data
        model = data.get("model") or {}
        self._vocab: dict[str, int] = self._tok.get_vocab(with_added_tokens=True)
        self._added = {t["content"]: int(t["id"]) for t in data.get("added_tokens") or []}
        self._special = {t["content"]: int(t["id"]) for t in data.get("added_tokens") or [] if t.get("special")}
        self._to_bytes = token_bytes_function(data)
        self._fast: TiktokenEngine | None = None
        self._template: tuple[list[int], list[int]] | None = _single_template(data.get("post_processor"))
        notes: list[str] = []
        if engine == "auto":
            plan = plan_tiktoken(data)
            if isinstance(plan, TiktokenPlan):
                encoding = build_encoding(name, plan.pattern, plan.ranks, plan.special_tokens, str(path))
                self._fast = TiktokenEngine(encoding, parse_specials=bool(plan.special_tokens))
            else:
                notes.append(f"tiktoken engine not used: {plan}")
        model_type = _MODEL_TYPES.get(str(model.get("type")), "unknown")
        used = "tiktoken" if self._fast else "tokenizers"
        self.info = TokenizerInfo(name, path, "hf", model_type, used, sha256, tuple(notes))

    @property
    def vocab_size(self) -> int:
        return max(self._vocab.values(), default=-1) + 1

    def encode_batch(
        self, texts: Sequence[str], *, add_special_tokens: bool = False, threads: int = 1
    ) -> list[list[int]]:
        if self._fast is not None and (not add_special_tokens or self._template is not None):
            out = self._fast.encode_batch(texts, threads)
            if add_special_tokens and self._template is not None:
                head, tail = self._template
                if head or tail:
                    out = [[*head, *ids, *tail] for ids in out]
            return out
        # tokenizers reads TOKENIZERS_PARALLELISM on every call; its thread pool is sized once per
        # process from RAYON_NUM_THREADS.
        os.environ["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
        encodings = self._tok.encode_batch_fast(list(texts), add_special_tokens=add_special_tokens)
        return [e.ids for e in encodings]

    def encode_batch_array(self, texts: Sequence[str], *, threads: int = 1) -> IdArrays | None:
        return self._fast.encode_batch_array(texts, threads) if self._fast is not None else None

    def decode_batch(self, ids: Sequence[Sequence[int]]) -> list[str]:
        return self._tok.decode_batch([list(seq) for seq in ids], skip_special_tokens=False)

    def _build_token_bytes(self) -> list[bytes]:
        table = [b""] * self.vocab_size
        for token, token_id in self._vocab.items():
            table[token_id] = self._to_bytes(token)
        return table

    @property
    def special_tokens(self) -> Mapping[str, int]:
        return dict(self._special)

    @property
    def added_tokens(self) -> Mapping[str, int]:
        return dict(self._added)

    @property
    def byte_fallback_ids(self) -> Mapping[int, int]:
        if not (self._data.get("model") or {}).get("byte_fallback"):
            return {}
        out: dict[int, int] = {}
        for token, token_id in self._vocab.items():
            value = byte_piece_value(token)
            if value is not None:
                out[token_id] = value
        return out

    @property
    def unk_id(self) -> int | None:
        unk = (self._data.get("model") or {}).get("unk_token")
        return self._vocab.get(unk) if isinstance(unk, str) else None

    def merges(self) -> list[tuple[bytes, bytes]] | None:
        model = self._data.get("model") or {}
        if model.get("type") != "BPE":
            return None
        return [(self._to_bytes(a), self._to_bytes(b)) for a, b in parse_merges(model.get("merges"))]

    def token_to_id(self, token: str) -> int | None:
        return self._vocab.get(token)


def _single_template(post: Any) -> tuple[list[int], list[int]] | None:
    """Ids a post-processor adds around one sequence, if it is simple enough to apply by hand.

    None (unknown) makes ``add_special_tokens=True`` use tokenizers itself.
    """
    if post is None:
        return [], []
    kind = post.get("type")
    if kind == "ByteLevel":
        return [], []
    if kind == "Sequence":
        result: tuple[list[int], list[int]] = ([], [])
        for child in post.get("processors") or []:
            part = _single_template(child)
            if part is None:
                return None
            result = ([*result[0], *part[0]], [*part[1], *result[1]])
        return result
    if kind != "TemplateProcessing":
        return None
    specials = post.get("special_tokens") or {}
    head: list[int] = []
    tail: list[int] = []
    seen_sequence = False
    for piece in post.get("single") or []:
        if "Sequence" in piece:
            if seen_sequence:
                return None
            seen_sequence = True
        elif "SpecialToken" in piece:
            ids = (specials.get(piece["SpecialToken"]["id"]) or {}).get("ids")
            if not isinstance(ids, list):
                return None
            (tail if seen_sequence else head).extend(int(i) for i in ids)
        else:
            return None
    return (head, tail) if seen_sequence else None
