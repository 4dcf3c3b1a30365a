"""Merge-list cleaning for mixture inference.

Symbols are integers: a token's id is its index in the token table built from the initial symbols and the
usable merges, in merge order. Converted tokenizers (sentencepiece or tiktoken -> tokenizer.json) can
repeat a merge or list merges whose sides no earlier merge produces (manually added tokens such as
whitespace runs); such merges can never be chosen by a BPE trainer, so they give no constraint
(Hayase et al. 2024, appendix on real tokenizers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tokcli.bpe.pairs import MAX_TOKENS, SymbolSplit
from tokcli.errors import TokenizerError

NOT_BPE_HINT = "give a BPE tokenizer: a byte-level tokenizer.json, a tiktoken ranks file or a sentencepiece BPE model"


class NotBpeError(TokenizerError):
    """The tokenizer has no ordered merge list (WordPiece, Unigram, WordLevel ...)."""

    def __init__(self, what: str, model_type: str) -> None:
        super().__init__(
            f"{what} is a {model_type} tokenizer: the method needs a BPE tokenizer's ordered merge list",
            hint=NOT_BPE_HINT,
        )


@dataclass
class MergeTable:
    """Token bytes <-> ids for the initial symbols and every usable merge, in merge order."""

    split: SymbolSplit = "bytes"
    ids: dict[bytes, int] = field(default_factory=dict)
    merges: list[tuple[int, int, int]] = field(default_factory=list)  # (left, right, new) per usable merge
    merge_bytes: list[tuple[bytes, bytes]] = field(default_factory=list)
    source_index: list[int] = field(default_factory=list)  # index of each usable merge in the input list
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (index in the input list, reason)
    input_length: int = 0

    def symbol(self, token: bytes) -> int:
        found = self.ids.get(token)
        if found is None:
            if len(self.ids) >= MAX_TOKENS:
                raise TokenizerError(f"more than {MAX_TOKENS} tokens in the merge list", hint=NOT_BPE_HINT)
            found = self.ids[token] = len(self.ids)
        return found

    @classmethod
    def build(
        cls, merges: Sequence[tuple[bytes, bytes]], split: SymbolSplit = "bytes", *, added: Iterable[bytes] = ()
    ) -> MergeTable:
        """Keep merges whose sides can be produced (an initial symbol or an earlier merge's token) and
        that create a token not created before (keep the first); record why the others were dropped.

        Initial symbols: every single byte (``split="bytes"``, byte-level BPE), or every single UTF-8
        character (``"chars"``, character-level BPE such as sentencepiece's). Merges that build one of
        the ``added`` tokens (tokens added by hand to the vocabulary, e.g. whitespace runs) are dropped:
        no trainer chose them.
        """
        banned = set(added)
        table = cls(split=split, input_length=len(merges))
        if split == "bytes":
            for b in range(256):
                table.symbol(bytes([b]))
        produced = set(table.ids)
        for index, (left, right) in enumerate(merges):
            sides_ok = all(side in produced or _is_initial(side, split) for side in (left, right))
            if not sides_ok:
                table.skipped.append((index, "a side is never produced by the initial symbols or earlier merges"))
                continue
            new = left + right
            if new in banned:
                table.skipped.append((index, "builds a manually added token"))
                continue
            if new in produced:
                table.skipped.append((index, "duplicate: creates a token an earlier merge created"))
                continue
            produced.update((left, right, new))
            table.merges.append((table.symbol(left), table.symbol(right), table.symbol(new)))
            table.merge_bytes.append((left, right))
            table.source_index.append(index)
        return table

    def digest(self, steps: int) -> str:
        """Identity of the first ``steps`` usable merges (for the count cache)."""
        h = hashlib.sha256(self.split.encode())
        for left, right in self.merge_bytes[:steps]:
            h.update(len(left).to_bytes(4, "little") + left + len(right).to_bytes(4, "little") + right)
        return h.hexdigest()

    def skipped_summary(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for _, reason in self.skipped:
            out[reason] = out.get(reason, 0) + 1
        return out


def creation_order(merges: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """One merge per token, for character-level lists converted from sentencepiece.

    transformers' converter (``SentencePieceExtractor``) writes every split of each piece into two
    pieces, ordered by the piece's score, so one token has several candidate merges and the first
    one whose sides exist is often not the one BPE made (Llama 2: 10,279 merges name a later piece, 21,358
    repeat a token). A list with such repeats is reduced to its tokens in the order of their first
    appearance (the trainer's creation order) and each token's merge is rebuilt by rank-based BPE over
    the earlier tokens, as for a sentencepiece ``.model``. A list without repeats is returned as is."""
    from tokcli.bpe.ranks import rebuild_merges

    tokens: dict[bytes, None] = {}
    for left, right in merges:
        tokens.setdefault(left + right, None)
    if len(tokens) == len(merges):
        return list(merges)

    def chars(token: bytes) -> list[bytes]:
        return [c.encode("utf-8") for c in token.decode("utf-8", "replace")]

    rebuilt, _ = rebuild_merges(list(tokens), chars)
    return rebuilt


def _is_initial(token: bytes, split: SymbolSplit) -> bool:
    if split == "bytes":
        return len(token) == 1
    try:
        return len(token.decode("utf-8")) == 1
    except UnicodeDecodeError:
        return False


def read_hf_merges(path: str | Path) -> list[tuple[bytes, bytes]]:
    """The ordered merges of a byte-level BPE tokenizer.json as byte pairs (GPT-2 byte-to-unicode
    alphabet mapped back to bytes). The tokenizer loader offers the same for every format; this one is
    for tests and scripts that only have a tokenizer.json."""
    from tokcli.bpe.byte_level import byte_level_to_bytes

    try:
        model = json.loads(Path(path).read_text(encoding="utf-8"))["model"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TokenizerError(f"{path}: not a readable tokenizer.json ({exc})") from None
    if model.get("type") != "BPE":
        raise NotBpeError(str(path), str(model.get("type", "unknown")))
    out: list[tuple[bytes, bytes]] = []
    for number, merge in enumerate(model.get("merges", []), 1):
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        a, b = byte_level_to_bytes(left), byte_level_to_bytes(right)
        if a is None or b is None:
            raise TokenizerError(
                f"{path}: merge {number} ({left!r} {right!r}) is not in the byte-level alphabet",
                hint="only byte-level BPE tokenizer.json files are read here",
            )
        out.append((a, b))
    return out
