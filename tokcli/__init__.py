"""tokcli: train, apply, compare and audit tokenizers, from the command line or from Python.

The public API (:mod:`tokcli.api`) is loaded on first use, so ``import tokcli`` and ``tokcli --help``
stay instant:

>>> import tokcli
>>> tok = tokcli.load_tokenizer("tests/data/tokenizers/bpe-bytelevel.json")
>>> tok.encode("Hello world")
[40, 309, 76, 79, 283, 302, 497]

``train_tokenizer``, ``encode_documents``, ``compare_tokenizers`` and ``infer_mixture`` run the commands
of the same names; their configs (``TrainConfig``, ``EncodeConfig``, ``CompareConfig``,
``InferMixtureConfig``, ``CorpusConfig``) and results (``TrainReport``, ``EncodeResult``,
``CompareResult``, ``MixtureResult``) are here too, with ``Corpus``, the streaming reader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tokcli.version import __version__

if TYPE_CHECKING:
    from tokcli.api import (
        CompareConfig,
        CompareResult,
        Corpus,
        CorpusConfig,
        EncodeConfig,
        EncodeResult,
        InferMixtureConfig,
        LoadedTokenizer,
        MixtureResult,
        TrainConfig,
        TrainReport,
        compare_tokenizers,
        encode_documents,
        infer_mixture,
        load_tokenizer,
        train_tokenizer,
    )

__all__ = [
    "CompareConfig",
    "CompareResult",
    "Corpus",
    "CorpusConfig",
    "EncodeConfig",
    "EncodeResult",
    "InferMixtureConfig",
    "LoadedTokenizer",
    "MixtureResult",
    "TrainConfig",
    "TrainReport",
    "__version__",
    "compare_tokenizers",
    "encode_documents",
    "infer_mixture",
    "load_tokenizer",
    "train_tokenizer",
]


def __getattr__(name: str) -> Any:  # the public names above, each from tokcli.api on first use
    if name in __all__:
        from tokcli import api

        return getattr(api, name)
    raise AttributeError(f"module 'tokcli' has no attribute {name!r}")
