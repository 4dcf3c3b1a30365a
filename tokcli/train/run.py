"""``tokcli train`` from a streaming corpus: pick the backend, write the file atomically, report."""

from __future__ import annotations

from pathlib import Path

from tokcli.corpus import Corpus
from tokcli.errors import InputError, OutputError
from tokcli.files import atomic_write, sha256_file
from tokcli.train.options import TrainConfig, validate
from tokcli.train.report import Clock, TrainReport, build_report, limit_threads, source_shares


def train_tokenizer(
    config: TrainConfig, corpus: Corpus, *, batch_size: int = 1000, if_changed: bool = False
) -> TrainReport:
    """Train on ``corpus`` and write ``config.output`` (nothing is written if anything fails).

    ``if_changed``: an existing byte-identical tokenizer file keeps its mtime (Makefile friendly).
    """
    validate(config)
    assert config.output is not None
    output = Path(config.output)
    if not output.parent.is_dir():
        raise OutputError(f"cannot write {output}: folder {output.parent} does not exist", hint="create it first")
    limit_threads(config.threads)
    clock = Clock()
    batches = corpus.text_batches(batch_size)
    extra: tuple[str, ...] = ()
    if config.is_spm:
        from tokcli.train.spm import train_spm

        facts = train_spm(config, batches, output)
        extra = (facts.pop("vocab_file"),)
    else:
        if config.superword_transition is not None:
            from tokcli.train.superbpe import train_superword

            text, facts = train_superword(config, batches)
        else:
            from tokcli.train.hf import train_hf

            text, facts = train_hf(config, batches)
        if corpus.stats.docs == 0:
            raise InputError("the corpus is empty: no document to train on", hint="check the inputs and limits")
        with atomic_write(output, "w", if_changed=if_changed) as handle:
            handle.write(text)
    stats = corpus.stats
    weights = {m.name: m.weight for m in corpus.config.mix}
    counts = {name: (stats.docs_by_source.get(name, 0), n) for name, n in stats.bytes_by_source.items()}
    return build_report(
        config,
        facts,
        clock=clock,
        sha256=sha256_file(output),
        docs=stats.docs,
        n_bytes=stats.bytes,
        sources=source_shares(counts, stats.bytes, weights),
        stop_reason=stats.stop_reason,
        extra_files=extra,
    )
