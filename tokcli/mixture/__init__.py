"""``tokcli infer-mixture``: recover the data mixture a BPE tokenizer was trained on from its merges.

Hayase, Liu, Choi, Oh, Smith (NeurIPS 2024), "Data Mixture Inference: What do BPE Tokenizers Reveal
about their Training Data?". For each candidate category, a text sample is pre-tokenized exactly as the
tokenizer does and the tokenizer's merges are replayed on it (:mod:`tokcli.mixture.replay`); a linear
program then finds the mixture weights under which every merge was the most frequent pair
(:mod:`tokcli.mixture.lp`).

Modules: :mod:`~tokcli.mixture.options` (the command's options and categories), :mod:`~tokcli.mixture.merges`
(merge-list cleaning), :mod:`~tokcli.mixture.replay` (the merge replay), :mod:`~tokcli.mixture.counting`
(per-category sampling, counting in processes, the count cache of :mod:`~tokcli.mixture.cache`),
:mod:`~tokcli.mixture.lp` (the LP), :mod:`~tokcli.mixture.infer` (the whole method on plain inputs) and
:mod:`~tokcli.mixture.command` (the command from a loaded tokenizer and corpus options).

Entry points: :func:`infer_mixture_from` (plain inputs: byte-pair merges, a pre-tokenizer spec and
name -> documents) and :func:`infer_mixture` (a loaded tokenizer and corpus options, for the CLI).
"""

from tokcli.mixture.command import infer_mixture, plan_categories, pretokenizer_for
from tokcli.mixture.counting import Counted, count_categories, replay_word_counts
from tokcli.mixture.infer import MixtureResult, infer_mixture_from, to_byte_shares
from tokcli.mixture.lp import LpResult, SolveError, solve_mixture
from tokcli.mixture.merges import MergeTable, NotBpeError, read_hf_merges
from tokcli.mixture.options import Category, InferMixtureConfig
from tokcli.mixture.replay import ReplayCounts, count_words, replay
from tokcli.pretok.spec import (
    Pretokenizer,
    PretokenizerSpec,
    hf_pretokenizer,
    regex_pretokenizer,
    spm_pretokenizer,
)

__all__ = [
    "Category",
    "Counted",
    "InferMixtureConfig",
    "LpResult",
    "MergeTable",
    "MixtureResult",
    "NotBpeError",
    "Pretokenizer",
    "PretokenizerSpec",
    "ReplayCounts",
    "SolveError",
    "count_categories",
    "count_words",
    "hf_pretokenizer",
    "infer_mixture",
    "infer_mixture_from",
    "plan_categories",
    "pretokenizer_for",
    "read_hf_merges",
    "regex_pretokenizer",
    "replay",
    "replay_word_counts",
    "solve_mixture",
    "spm_pretokenizer",
    "to_byte_shares",
]
