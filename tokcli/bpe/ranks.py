"""Rank-based BPE (tiktoken, sentencepiece BPE) and the merge list it implies.

tiktoken ranks files and sentencepiece BPE models hold no merge list: at each step the encoder merges
the adjacent pair whose *concatenation* has the lowest rank (tiktoken ``_byte_pair_merge``; spm
``bpe_model.cc``: highest score), leftmost first on ties. The merge that creates token ``t`` is
recovered by running that procedure on ``t``'s symbols using only ranks lower than ``t``'s: it must
stop at exactly two parts (Hayase et al. 2024, and HF's tiktoken converter, do the same).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

S = TypeVar("S", bytes, str)


def rank_bpe(parts: list[S], ranks: Mapping[S, int], limit: int | None = None) -> list[S]:
    """Merge ``parts`` greedily by lowest rank of the concatenated pair (ranks < ``limit`` only)."""
    parts = list(parts)
    while len(parts) > 1:
        best = -1
        best_rank = limit if limit is not None else None
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and (best_rank is None or rank < best_rank):
                best, best_rank = i, rank
        if best < 0:
            break
        parts[best : best + 2] = [parts[best] + parts[best + 1]]
    return parts


def rebuild_merges(tokens: Sequence[S], split: Callable[[S], list[S]]) -> tuple[list[tuple[S, S]], list[S]]:
    """The merge creating each multi-symbol token of ``tokens`` (given in rank order).

    Returns ``(merges, unreachable)``: merges in rank order of the token they create, and the tokens
    rank-based BPE can never produce from their own symbols (their rebuild does not end in 2 parts).
    """
    ranks = {token: rank for rank, token in enumerate(tokens)}
    merges: list[tuple[S, S]] = []
    unreachable: list[S] = []
    for rank, token in enumerate(tokens):
        symbols = split(token)
        if len(symbols) < 2:
            continue
        parts = rank_bpe(symbols, ranks, rank)
        if len(parts) == 2:
            merges.append((parts[0], parts[1]))
        else:
            unreachable.append(token)
    return merges, unreachable


def split_bytes(token: bytes) -> list[bytes]:
    return [token[i : i + 1] for i in range(len(token))]


def split_chars(token: str) -> list[str]:
    return list(token)
