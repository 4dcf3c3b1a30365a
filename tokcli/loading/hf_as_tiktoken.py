"""Decide whether an HF ``tokenizer.json`` is exactly a tiktoken encoding, and build it if so.

A byte-level BPE tokenizer.json encodes text in three steps: split out added tokens, split the rest
with a regex (ByteLevel's GPT-2 regex, or a ``Split`` pre-tokenizer), then run BPE on each piece's bytes
by merge rank. tiktoken does the same with ranks on token bytes (merging the adjacent pair whose
concatenation ranks lowest, and emitting a whole piece found in the vocabulary directly). Both give the
same ids when, and only when, all of this holds (anything else falls back to ``tokenizers``):

- no normalizer; no BPE dropout, subword prefix/suffix or byte fallback; all 256 bytes in the vocabulary;
- the pre-tokenizer is ByteLevel(use_regex) or Split(known regex, Isolated) + ByteLevel(no regex), without
  add_prefix_space; the regex is a known preset, whose alternatives match every character (tiktoken
  drops unmatched text, HF keeps it);
- the merge list is exactly the one rank-based BPE implies: merge ``i`` creates a new token whose id
  grows with ``i``, and re-running rank BPE on each token with lower ranks ends in that merge's pair
  (then the state in which tiktoken merges any span equals the one BPE reaches on that span alone, so
  both pick the same pair). Vocabulary entries no merge creates are left out of the ranks, which is exact
  unless ``ignore_merges`` lets HF emit them for a whole-word match;
- added tokens have no lstrip/rstrip/single_word, and none is a prefix of another (HF matches added
  tokens leftmost-longest, tiktoken leftmost-first in arbitrary order: the same when no prefix exists).

The regex is passed to tiktoken verbatim: both engines are backtracking Perl-style matchers.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokcli.bpe.byte_level import byte_level_to_bytes
from tokcli.bpe.ranks import rebuild_merges, split_bytes
from tokcli.pretok.hf import pattern_of
from tokcli.pretok.presets import PRESETS

KNOWN_REGEXES = frozenset({p.hf for p in PRESETS.values()} | {p.tiktoken for p in PRESETS.values()})


@dataclass(frozen=True)
class TiktokenPlan:
    """What tiktoken needs to reproduce a tokenizer.json exactly."""

    pattern: str
    ranks: dict[bytes, int]
    special_tokens: dict[str, int]  # every added token (HF splits them out of text, special or not)


def parse_merges(raw: Any) -> list[tuple[str, str]]:
    """HF merges in either layout: ``"a b"`` strings (before 0.20) or ``["a", "b"]`` pairs."""
    merges: list[tuple[str, str]] = []
    for item in raw or []:
        if isinstance(item, str):
            left, _, right = item.partition(" ")
            merges.append((left, right))
        else:
            merges.append((str(item[0]), str(item[1])))
    return merges


class _NoPlan(Exception):
    """Why a tokenizer.json is not exactly a tiktoken encoding (raised by the checks below)."""


def plan_tiktoken(data: Mapping[str, Any]) -> TiktokenPlan | str:
    """A :class:`TiktokenPlan` for ``data`` (a parsed tokenizer.json), or why none exists."""
    model = data.get("model") or {}
    try:
        _check_model(data, model)
        pattern = _known_pattern(data)
        added = _added_tokens(data)
        ranks = _ranks(model, *_token_bytes(model, added))
    except _NoPlan as why:
        return str(why)
    return TiktokenPlan(pattern=pattern, ranks=ranks, special_tokens=added)


def _check_model(data: Mapping[str, Any], model: Mapping[str, Any]) -> None:
    """A plain BPE model (no dropout, subword affixes or byte fallback) and no normalizer."""
    if model.get("type") != "BPE":
        raise _NoPlan(f"model is {model.get('type')}, not BPE")
    if model.get("dropout") or model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
        raise _NoPlan("BPE uses dropout or a subword prefix/suffix")
    if model.get("byte_fallback"):
        raise _NoPlan("BPE uses byte_fallback")
    if data.get("normalizer") is not None:
        raise _NoPlan("tokenizer has a normalizer")


def _known_pattern(data: Mapping[str, Any]) -> str:
    """The pre-tokenizer's regex, a known preset's."""
    pattern = pattern_of(data.get("pre_tokenizer"))
    if pattern is None:
        raise _NoPlan("pre-tokenizer is not ByteLevel with a known regex")
    if pattern not in KNOWN_REGEXES:
        raise _NoPlan("pre-tokenizer regex is not a known preset")
    return pattern


def _added_tokens(data: Mapping[str, Any]) -> dict[str, int]:
    """Added token -> id; none strips, matches single words only, or is a prefix of another."""
    added: dict[str, int] = {}
    for token in data.get("added_tokens") or []:
        if token.get("lstrip") or token.get("rstrip") or token.get("single_word") or not token.get("content"):
            raise _NoPlan(f"added token {token.get('content')!r} uses lstrip/rstrip/single_word")
        added[token["content"]] = int(token["id"])
    contents = sorted(added)
    for a, b in itertools.pairwise(contents):
        if b.startswith(a):
            raise _NoPlan(f"added token {a!r} is a prefix of {b!r}")
    return added


def _token_bytes(model: Mapping[str, Any], added: Mapping[str, int]) -> tuple[dict[int, bytes], dict[bytes, int]]:
    """Id -> bytes of every vocabulary token that is not an added token, and the reverse: byte-level,
    distinct, and all 256 single bytes among them."""
    vocab: dict[str, int] = model.get("vocab") or {}
    token_bytes: dict[int, bytes] = {}
    for token, token_id in vocab.items():
        if token in added:
            continue
        data_bytes = byte_level_to_bytes(token)
        if data_bytes is None:
            raise _NoPlan(f"vocabulary token {token!r} is not byte-level")
        token_bytes[token_id] = data_bytes
    by_bytes = {b: i for i, b in token_bytes.items()}
    if len(by_bytes) != len(token_bytes):
        raise _NoPlan("two vocabulary tokens have the same bytes")
    if any(bytes([b]) not in by_bytes for b in range(256)):
        raise _NoPlan("not all 256 bytes are in the vocabulary")
    return token_bytes, by_bytes


def _ranks(model: Mapping[str, Any], token_bytes: dict[int, bytes], by_bytes: dict[bytes, int]) -> dict[bytes, int]:
    """tiktoken's ranks: the bytes of the single bytes and of every token a merge creates, by id; the
    merge list must be the one rank-based BPE implies."""
    vocab: dict[str, int] = model.get("vocab") or {}
    merges = parse_merges(model.get("merges"))
    created: list[int] = []
    for left, right in merges:
        merged = vocab.get(left + right)
        if merged is None or left not in vocab or right not in vocab:
            raise _NoPlan(f"merge {left!r} {right!r} refers to tokens missing from the vocabulary")
        created.append(merged)
    if any(b <= a for a, b in itertools.pairwise(created)):
        raise _NoPlan("merge results are not new tokens with increasing ids")
    reachable = set(created) | {by_bytes[bytes([b])] for b in range(256)}
    unreachable = [i for i in token_bytes if i not in reachable]
    if unreachable and model.get("ignore_merges"):
        raise _NoPlan("ignore_merges with vocabulary tokens that no merge creates")
    ranks = {token_bytes[i]: i for i in sorted(reachable)}
    rebuilt, stuck = rebuild_merges(list(ranks), split_bytes)
    expected = [(byte_level_to_bytes(a), byte_level_to_bytes(b)) for a, b in merges]
    if stuck or rebuilt != expected:
        raise _NoPlan("merge list differs from the one rank-based BPE implies")
    return ranks
