"""The one streaming corpus reader: options, input resolution, per-format readers, mixtures.

>>> from tokcli.corpus import Corpus, CorpusConfig
>>> corpus = Corpus(CorpusConfig(inputs=("tests/data/austen.txt",)))
>>> sum(len(batch) for batch in corpus.text_batches(100)) > 0
True
"""

from tokcli.corpus.reader import Corpus, CorpusConfig, Document, MixSource

__all__ = ["Corpus", "CorpusConfig", "Document", "MixSource"]
