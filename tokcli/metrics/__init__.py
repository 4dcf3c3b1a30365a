"""Tokenizer-evaluation metrics, as pure functions over encodings (no tokenizer, no I/O here).

Definitions (docs/compare.md has the long form and the sources), one module per family:

- Compression (:mod:`.compression`): UTF-8 bytes per token and characters per token as ratios of
  totals (micro), and the mean of per-document bytes-per-token ratios (macro).
- Fertility (:mod:`.fertility`): tokens per word, with each word's tokens found from the tokens'
  in-context character offsets (a token counts for every word its span overlaps), not by re-encoding
  words alone; split rate: share of words covered by 2+ tokens. Scripts written without spaces between
  words (Han, Hiragana/Katakana, Thai, Lao, Khmer, Myanmar; :mod:`.text_classes`) use characters as
  the unit (``word_unit="char"``). :mod:`.utf8_batch` gives the same from byte positions.
- Byte-fallback and UNK rates (:mod:`.fallback`): share of tokens that are ``<0xNN>`` byte pieces /
  the UNK id.
- Rényi entropy of the unigram token distribution, H_a = 1/(1-a) log2 sum p_i^a, and efficiency
  H_a / log2 |V| (:mod:`.renyi`; Zouhar et al., ACL 2023, "Tokenization and the Noiseless Channel";
  a = 2.5 there), against the full vocabulary and against the observed types.
- Token premium (:mod:`.premiums`; Petrov et al., NeurIPS 2023): tokens(language) / tokens(reference)
  on parallel text.
- Vocabulary overlap (:mod:`.overlap`), digit grouping (:mod:`.digits`), bootstrap intervals
  (:mod:`.bootstrap`).

:class:`MetricsAccumulator` (:mod:`.accumulator`) streams a corpus's encodings in and gives one
:class:`CorpusMetrics` row.
"""

from tokcli.metrics.accumulator import CorpusMetrics, MetricsAccumulator
from tokcli.metrics.bootstrap import bootstrap_ratio_ci
from tokcli.metrics.compression import macro_ratio, ratio
from tokcli.metrics.digits import classify_digit_split, digit_style
from tokcli.metrics.fallback import fallback_rates
from tokcli.metrics.fertility import tokens_per_unit
from tokcli.metrics.overlap import jaccard, vocabulary_bytes
from tokcli.metrics.premiums import premium_mean_max, token_premium
from tokcli.metrics.renyi import renyi_efficiency, renyi_entropy
from tokcli.metrics.text_classes import word_spans
from tokcli.metrics.utf8_batch import TextBatch, bytes_to_chars, char_offsets

__all__ = [
    "CorpusMetrics",
    "MetricsAccumulator",
    "TextBatch",
    "bootstrap_ratio_ci",
    "bytes_to_chars",
    "char_offsets",
    "classify_digit_split",
    "digit_style",
    "fallback_rates",
    "jaccard",
    "macro_ratio",
    "premium_mean_max",
    "ratio",
    "renyi_efficiency",
    "renyi_entropy",
    "token_premium",
    "tokens_per_unit",
    "vocabulary_bytes",
    "word_spans",
]
