"""``tokcli infer-mixture``: recover a BPE tokenizer's training-data mixture from its merges."""

from __future__ import annotations

import logging
import sys

import typer

from tokcli.cli.application import app, examples
from tokcli.cli.console import progress_bar
from tokcli.cli.options import CORPUS_RENAMES, ResolvedConfig, config_command
from tokcli.cli.render import dumps_json, format_option, render, resolve_format
from tokcli.corpus import CorpusConfig
from tokcli.mixture import InferMixtureConfig

SECTIONS = {"infer_mixture": InferMixtureConfig, "corpus": CorpusConfig}
log = logging.getLogger("tokcli")


@app.command(
    "infer-mixture",
    epilog=examples(
        (
            "tokcli infer-mixture -t tests/data/tokenizers/bpe-bytelevel.json --category "
            "en=tests/data/parallel/udhr/eng.jsonl --category code=tests/data/code --merges 300"
        ),
        (
            "tokcli infer-mixture -t tests/data/tokenizers/bpe-bytelevel.json "
            "--categories-dir tests/data/parallel/udhr -f json"
        ),
    ),
)
@config_command(
    SECTIONS,
    rename={**CORPUS_RENAMES, "infer_mixture.categories": "--category"},
    short={"infer_mixture.tokenizer": "-t"},
)
def infer_mixture_command(
    config: ResolvedConfig,
    output_format: str = format_option("; json adds solver and sampling metadata"),
) -> None:
    """Infer the data mixture a BPE tokenizer was trained on (Hayase et al. 2024).

    Give the tokenizer with -t and two or more candidate categories (--category NAME=PATH, or
    --categories-dir DIR with one file per category). Rows {category, proportion} are sorted by
    proportion and sum to 1.
    """
    from tokcli.loading import load_tokenizer
    from tokcli.mixture import infer_mixture

    fmt = resolve_format(output_format, sys.stdout)  # an unknown format fails before any work
    settings: InferMixtureConfig = config["infer_mixture"]
    if not settings.tokenizer:
        raise typer.BadParameter("give the tokenizer file", param_hint="'-t/--tokenizer'")
    tokenizer = load_tokenizer(settings.tokenizer, pattern=settings.pattern)
    with progress_bar("infer-mixture", unit="rounds") as update:
        result = infer_mixture(
            settings, config["corpus"], tokenizer, progress=lambda status: update(0, description=status)
        )
    for warning in result.warnings:
        log.warning("%s", warning)
    if fmt == "json":
        sys.stdout.write(dumps_json({"meta": result.meta, "rows": result.rows}, indent=True).decode() + "\n")
        return
    render(result.rows, fmt, title="inferred mixture")
