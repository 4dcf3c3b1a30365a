"""tokcli as a library: one call per command, on plain arguments, returning the command's result dataclass.

Each function is what the CLI runs, without the CLI: no output on stdout, no progress bars, errors as
:class:`tokcli.errors.TokcliError` (with ``.message`` and ``.hint``). The command-line options are the
fields of the config dataclasses (``TrainConfig``, ``EncodeConfig``, ``CompareConfig``,
``InferMixtureConfig``, ``CorpusConfig``), which every function also takes whole.

>>> import tempfile, tokcli
>>> out = tempfile.mkdtemp()
>>> report = tokcli.train_tokenizer(["tests/data/austen.txt"], vocab_size=500, output=f"{out}/tok.json")
>>> report.vocab_size
500
>>> tok = tokcli.load_tokenizer(f"{out}/tok.json")
>>> tok.decode(tok.encode("Pride and Prejudice"))
'Pride and Prejudice'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tokcli.compare.options import CompareConfig, CompareResult
from tokcli.corpus import Corpus, CorpusConfig
from tokcli.encode.options import EncodeConfig
from tokcli.encode.run import EncodeResult
from tokcli.loading import LoadedTokenizer, load_tokenizer
from tokcli.mixture.infer import MixtureResult
from tokcli.mixture.options import Category, InferMixtureConfig
from tokcli.train.options import TrainConfig
from tokcli.train.report import TrainReport


def _tokenizer(spec: str | LoadedTokenizer, pattern: str | None = None) -> LoadedTokenizer:
    return spec if isinstance(spec, LoadedTokenizer) else load_tokenizer(spec, pattern=pattern)


def _corpus(inputs: Sequence[str] | CorpusConfig) -> CorpusConfig:
    return inputs if isinstance(inputs, CorpusConfig) else CorpusConfig(inputs=tuple(inputs))


def train_tokenizer(
    inputs: Sequence[str] | CorpusConfig, config: TrainConfig | None = None, **options: Any
) -> TrainReport:
    """Train on the files, folders or globs ``inputs`` (or a whole :class:`CorpusConfig`) and write
    ``output`` atomically. ``options`` are :class:`TrainConfig` fields (``vocab_size``, ``backend``,
    ``preset``, ``output``, ...) and override those of ``config``.

    >>> import tempfile
    >>> out = tempfile.mkdtemp()
    >>> report = train_tokenizer(["tests/data/austen.txt"], backend="spm-unigram", vocab_size=400,
    ...                          output=f"{out}/spm.model")
    >>> report.backend, report.vocab_size, report.docs
    ('spm-unigram', 400, 6)
    """
    from tokcli.train.run import train_tokenizer as train

    settings = dataclasses.replace(config or TrainConfig(), **options)
    return train(settings, Corpus(_corpus(inputs)))


def encode_documents(
    tokenizer: str | LoadedTokenizer,
    texts: Iterable[str],
    config: EncodeConfig | None = None,
    **options: Any,
) -> EncodeResult:
    """Encode ``texts`` with a tokenizer file (or a loaded one) and write them as ``format`` to ``output``
    (``ids``, ``tokens``, ``jsonl``, ``count``; ``npy``/``bin`` shards). ``options`` are
    :class:`EncodeConfig` fields. For ids in memory use the tokenizer itself (:func:`load_tokenizer`).

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "ids.txt"
    >>> result = encode_documents("tests/data/tokenizers/bpe-bytelevel.json", ["Hello world", "again"],
    ...                           output=str(out))
    >>> result.docs, out.read_text().splitlines()[0]
    (2, '40 309 76 79 283 302 497')
    """
    from tokcli.encode.run import encode_documents as encode

    settings = dataclasses.replace(config or EncodeConfig(), **options)
    loaded = _tokenizer(tokenizer, settings.pattern)
    if settings.format == "auto":
        settings = dataclasses.replace(settings, format="ids")
    return encode(loaded, texts, settings)


def compare_tokenizers(
    tokenizers: Sequence[str | LoadedTokenizer],
    inputs: Sequence[str] | CorpusConfig = (),
    config: CompareConfig | None = None,
    **options: Any,
) -> CompareResult:
    """Compare tokenizers on corpora (each input file is one corpus; ``parallel=DIR`` adds parallel text
    with token premiums): one row per (tokenizer, corpus) and a summary per tokenizer. ``options`` are
    :class:`CompareConfig` fields.

    >>> result = compare_tokenizers(["tests/data/tokenizers/bpe-bytelevel.json"], ["tests/data/austen.txt"])
    >>> row = result.rows[0]
    >>> row["corpus"], row["tokens"], round(row["bytes_per_token"], 3)
    ('austen', 34047, 2.002)
    """
    from tokcli.compare.plan import plan_corpora
    from tokcli.compare.run import run_compare

    settings = dataclasses.replace(config or CompareConfig(), **options)
    corpus = _corpus(inputs)
    loaded = [_tokenizer(t, settings.pattern) for t in tokenizers]
    return run_compare(settings, corpus, loaded, plan_corpora(corpus.inputs, settings.parallel))


def infer_mixture(
    tokenizer: str | LoadedTokenizer,
    categories: Mapping[str, str | Sequence[str]],
    config: InferMixtureConfig | None = None,
    **options: Any,
) -> MixtureResult:
    """Infer the mixture of ``categories`` (name -> path or paths of sample text) a BPE tokenizer was
    trained on (Hayase et al. 2024). ``options`` are :class:`InferMixtureConfig` fields (``merges``,
    ``sample_bytes``, ...). Rows ``{category, proportion}`` sum to 1.

    >>> result = infer_mixture("tests/data/tokenizers/bpe-bytelevel.json",
    ...                        {"en": "tests/data/austen.txt", "code": "tests/data/code"}, merges=200)
    >>> sorted(row["category"] for row in result.rows), round(sum(r["proportion"] for r in result.rows), 6)
    (['code', 'en'], 1.0)
    """
    from tokcli.mixture.command import infer_mixture as infer

    listed = tuple(
        Category(name=name, path=(paths,) if isinstance(paths, str) else tuple(paths))
        for name, paths in categories.items()
    )
    settings = dataclasses.replace(config or InferMixtureConfig(), categories=listed, **options)
    return infer(settings, CorpusConfig(), _tokenizer(tokenizer, settings.pattern))

