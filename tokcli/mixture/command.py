"""``tokcli infer-mixture`` from a loaded tokenizer and corpus options: the CLI's adapter to
:func:`tokcli.mixture.infer.infer_mixture_from` (merges, pre-tokenizer and added tokens from the
tokenizer; categories read with the corpus reader, or word counts from ``tokcli count --by source``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokcli.errors import InputError, TokenizerError, UsageError
from tokcli.mixture.infer import MixtureResult, infer_mixture_from
from tokcli.mixture.merges import NOT_BPE_HINT, NotBpeError, creation_order
from tokcli.mixture.options import Category, InferMixtureConfig
from tokcli.pretok.spec import PretokenizerSpec, hf_pretokenizer, regex_pretokenizer, spm_pretokenizer

if TYPE_CHECKING:
    from tokcli.corpus import CorpusConfig
    from tokcli.loading.base import LoadedTokenizer


def pretokenizer_for(tokenizer: LoadedTokenizer) -> PretokenizerSpec:
    """How ``tokenizer`` splits text into words before BPE (as its trainer did)."""
    kind = tokenizer.info.kind
    if kind in ("tiktoken", "tekken"):
        return regex_pretokenizer(tokenizer.pattern)  # type: ignore[attr-defined]
    if kind == "hf":
        return hf_pretokenizer(tokenizer.info.path)
    if kind == "spm":
        return spm_pretokenizer(tokenizer.info.path)
    raise TokenizerError(f"{tokenizer.info.path}: infer-mixture does not support {kind} tokenizers", hint=NOT_BPE_HINT)


def plan_categories(config: InferMixtureConfig) -> list[Category]:
    """Every category given by ``categories`` and ``categories_dir`` (one per file, named by its stem)."""
    categories = list(config.categories)
    if config.categories_dir is not None:
        folder = Path(config.categories_dir)
        if not folder.is_dir():
            raise InputError(f"categories_dir {folder}: not a folder", hint="give a folder with one file per category")
        for entry in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            categories.append(Category(name=entry.name.split(".")[0], path=(str(entry),)))
    names = [c.name for c in categories]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"two categories are named {twice[0]!r}", hint="give each category a distinct name")
    if len(categories) < 2:
        raise UsageError("infer-mixture needs at least two categories", hint="add --category NAME=PATH")
    return categories


def _documents(corpus_config: CorpusConfig, category: Category, limit: int) -> Iterator[str]:
    from tokcli.corpus import Corpus

    changes: dict[str, Any] = {"inputs": category.path, "mix": (), "max_bytes": limit}
    if category.text_field:
        changes["text_field"] = category.text_field
    reader = Corpus(dataclasses.replace(corpus_config, **changes))
    for batch in reader.text_batches(1000):
        yield from batch


def _in_creation_order(
    merges: Sequence[tuple[bytes, bytes]], pretokenizer: PretokenizerSpec, meta: dict[str, Any]
) -> Sequence[tuple[bytes, bytes]]:
    """Character-level merges in creation order: a list converted from sentencepiece holds every split of
    every piece, and is rebuilt one merge per token (noted in ``meta``)."""
    if pretokenizer.split != "chars":
        return merges
    listed = len(merges)
    merges = creation_order(merges)
    if len(merges) != listed:
        meta["merges_listed"] = listed
        meta["merges_rebuilt_one_per_token"] = len(merges)
    return merges


def infer_mixture(
    config: InferMixtureConfig,
    corpus_config: CorpusConfig,
    tokenizer: LoadedTokenizer,
    progress: Callable[[str], None] | None = None,
) -> MixtureResult:
    """``tokcli infer-mixture``: categories read with the corpus reader, merges from the loaded tokenizer."""
    listed = tokenizer.merges()
    if listed is None:
        raise NotBpeError(str(tokenizer.info.path), tokenizer.info.model_type)
    pretokenizer = pretokenizer_for(tokenizer)
    meta: dict[str, Any] = {"name": tokenizer.name, "path": str(tokenizer.info.path), "sha256": tokenizer.info.sha256}
    merges = _in_creation_order(listed, pretokenizer, meta)
    added = [tokenizer.token_bytes(i) for i in tokenizer.added_tokens.values() if tokenizer.check_id(i)]
    if config.counts is not None:
        if config.categories or config.categories_dir is not None:
            raise UsageError(
                "--counts gives the categories (its sources); --category/--categories-dir were given too",
                hint="drop one of them",
            )
        from tokcli.counts.store import source_word_counts

        words = source_word_counts(config.counts, pretokenizer.count)
        return infer_mixture_from(
            merges, pretokenizer, {}, config, added_tokens=added, tokenizer_meta=meta, word_counts=words,
            progress=progress,
        )  # fmt: skip
    categories = plan_categories(config)
    # the corpus reader stops BEFORE the document that would pass its limit; ask for a little more so
    # that the sample reaches sample_bytes (infer_mixture_from cuts it there)
    limit = config.sample_bytes + 1_000_000
    texts = {c.name: _documents(corpus_config, c, limit) for c in categories}
    return infer_mixture_from(
        merges, pretokenizer, texts, config, added_tokens=added, tokenizer_meta=meta, progress=progress
    )
