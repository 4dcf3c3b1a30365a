"""The one streaming corpus reader: options, input resolution, per-format readers, mixtures.

Modules: ``options`` (CorpusConfig, MixSource, ReadOptions), ``reader`` (Corpus), ``inputs`` (files,
folders, globs, ``-``, ``hf:`` names), ``formats`` (the table of format readers), one module per format
(``text``, ``jsonl``, ``hf_datasets``; ``stdin`` opens and sniffs stdin), ``mixing`` (sharding,
sampling, mixtures, shuffle, skip, limits), ``batch`` (the values passed between them), ``streams`` and
``input_errors`` (shared by the readers).

>>> from tokcli.corpus import Corpus, CorpusConfig
>>> corpus = Corpus(CorpusConfig(inputs=("tests/data/austen.txt",)))
>>> sum(len(batch) for batch in corpus.text_batches(100)) > 0
True
"""

from tokcli.corpus.batch import CorpusStats, Document
from tokcli.corpus.options import CorpusConfig, MixSource
from tokcli.corpus.reader import Corpus

__all__ = ["Corpus", "CorpusConfig", "CorpusStats", "Document", "MixSource"]
