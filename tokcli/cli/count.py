"""``tokcli count``: pre-token counts of a corpus as sorted Parquet parts plus manifest.json."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from tokcli.cli.application import app, examples
from tokcli.cli.console import counted, progress_bar
from tokcli.cli.options import CORPUS_RENAMES, ResolvedConfig, config_command
from tokcli.cli.render import dumps_json
from tokcli.corpus import CorpusConfig
from tokcli.counts.count import CountConfig
from tokcli.outputs import RunConfig
from tokcli.parallel.options import ScaleConfig

SECTIONS = {"count": CountConfig, "corpus": CorpusConfig, "scale": ScaleConfig, "run": RunConfig}
log = logging.getLogger("tokcli")


@app.command(
    "count",
    epilog=examples(
        "tokcli count tests/data/austen.txt tests/data/code -o counts/",
        (
            "tokcli count tests/data/austen.txt tests/data/code -o counts/ && tokcli train --from-counts "
            "counts/ --vocab-size 1000 -o tok.json"
        ),
    ),
)
@config_command(
    SECTIONS,
    positional="corpus.inputs",
    rename=CORPUS_RENAMES,
    short={"count.output": "-o"},
    hidden=("run.if_changed",),
)
def count_command(config: ResolvedConfig) -> None:
    """Count the pre-tokens of the INPUT corpus into -o DIR (sorted Parquet parts + manifest.json).

    Words are normalised and pre-tokenized exactly as --pretok does (an hf-bpe preset as train builds
    it, spm:RULE, or a tokenizer.json). The counts feed 'tokcli train --from-counts DIR' and
    'tokcli infer-mixture --counts'. --engine local|ray and --workers N only change the speed: the
    output is identical. A JSON summary goes to stdout.
    """
    from tokcli.counts.count import run_count

    settings: CountConfig = config["count"]
    with (
        folder_lock(settings.output, config["run"]),
        progress_bar("counting", unit="splits") as update,
    ):
        result = run_count(
            settings,
            config["corpus"],
            config["scale"],
            progress=lambda stage, done, total: update(done, description=f"{stage}: {done}/{total}"),
        )
    sys.stdout.write(dumps_json(result.report(), indent=True).decode() + "\n")
    log.info(
        "counted %s (%d distinct) of %s -> %s",
        counted(result.manifest["words"], "word"),
        result.manifest["distinct"],
        counted(result.manifest["docs"], "document"),
        result.output,
    )


@contextlib.contextmanager
def folder_lock(output: str | None, run: RunConfig) -> Iterator[None]:
    """Hold the advisory lock of an output folder (``.NAME.lock`` next to it; exit 75 if held)."""
    if not output:
        yield
        return
    from tokcli.locks import output_lock

    with output_lock(Path(output.rstrip("/") or "/"), wait=run.wait_lock):
        yield
