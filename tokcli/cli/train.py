"""``tokcli train``: train a tokenizer from a streaming corpus."""

from __future__ import annotations

import logging
import sys

from tokcli.cli.application import app, examples
from tokcli.cli.console import counted, progress_bar
from tokcli.cli.options import CORPUS_RENAMES, ResolvedConfig, config_command
from tokcli.cli.render import dumps_json
from tokcli.corpus import CorpusConfig, CorpusStats
from tokcli.outputs import RunConfig, corpus_inputs, locked_outputs
from tokcli.train.options import TrainConfig

SECTIONS = {"train": TrainConfig, "corpus": CorpusConfig, "run": RunConfig}
log = logging.getLogger("tokcli")


@app.command(
    "train",
    epilog=examples(
        "tokcli train tests/data/austen.txt tests/data/code --vocab-size 2000 -o tok.json",
        "tokcli train tests/data/austen.txt --backend spm-unigram --vocab-size 1000 -o spm.model",
        (
            "tokcli train --mix en=0.7:tests/data/parallel/udhr/eng.jsonl --mix "
            "de=0.3:tests/data/parallel/udhr/deu_1996.jsonl --max-bytes 10KB --vocab-size 500 -o mix.json"
        ),
        (
            "tokcli train tests/data/austen.txt --preset cl100k --digits rtl3 --superword-transition 1500 "
            "--vocab-size 2000 -o super.json"
        ),
    ),
)
@config_command(SECTIONS, positional="corpus.inputs", rename=CORPUS_RENAMES, short={"train.output": "-o"})
def train_command(config: ResolvedConfig) -> None:
    """Train a tokenizer on the INPUT corpus and write it atomically to -o OUT.

    hf-* backends write a tokenizer.json (tokenizers / transformers); spm-* write OUT (.model) and its
    .vocab. --from-counts DIR trains hf-bpe or spm-bpe from 'tokcli count' output instead, with the same
    result as training on the corpus. A JSON report (config, SHA-256, sizes, bytes per source, times,
    peak RSS) goes to stdout and to --report FILE. --mix NAME=WEIGHT:PATH with --max-bytes trains on a declared mixture.
    """
    from tokcli.corpus import Corpus
    from tokcli.files import atomic_write
    from tokcli.train import train_tokenizer, validate

    settings: TrainConfig = config["train"]
    validate(settings)
    corpus_config: CorpusConfig = config["corpus"]
    if settings.from_counts is not None and (corpus_config.inputs or corpus_config.mix):
        from tokcli.errors import UsageError

        raise UsageError(
            "both INPUT files and --from-counts were given", hint="train either on the corpus or on its counts"
        )
    with (
        locked_outputs(
            [settings.output, settings.report],
            config["run"],
            labels=["-o", "--report"],
            inputs=corpus_inputs(corpus_config) | {"--from-counts": [settings.from_counts]},
        ),
        progress_bar("reading corpus", unit="bytes") as update,
    ):

        def on_progress(stats: CorpusStats) -> None:
            update(stats.bytes, description=f"reading: {stats.docs:,} docs")

        corpus = Corpus(corpus_config, progress=on_progress)
        if settings.from_counts is not None:
            from tokcli.train.from_counts import train_from_counts

            report = train_from_counts(settings, if_changed=config["run"].if_changed)
        else:
            report = train_tokenizer(settings, corpus, if_changed=config["run"].if_changed)
        text = dumps_json(report.as_dict(), indent=True).decode() + "\n"
        if settings.report:
            with atomic_write(settings.report, "w") as handle:
                handle.write(text)
    if report.stop_reason == "source_exhausted":
        source = corpus.stats.exhausted_source or "a source"
        log.warning("mixture source %s ran out before --max-bytes; shares are as reported", source)
    if report.vocab_size < 0.9 * settings.vocab_size:
        log.warning(
            "the corpus gave %s of the %s asked for (--vocab-size %d): too little text for more",
            counted(report.vocab_size, "token"),
            f"{settings.vocab_size:,}",
            settings.vocab_size,
        )
    sys.stdout.write(text)
    log.info("trained %s: %s -> %s", report.backend, counted(report.vocab_size, "token"), report.tokenizer)
