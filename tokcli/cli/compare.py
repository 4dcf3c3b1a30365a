"""``tokcli compare``: compare tokenizers on corpora."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

import typer

from tokcli.cli.application import app, examples
from tokcli.cli.console import progress_bar
from tokcli.cli.options import CORPUS_RENAMES, ResolvedConfig, config_command
from tokcli.cli.render import dumps_json, format_option, render, resolve_format
from tokcli.compare.options import CompareConfig, CompareResult
from tokcli.corpus import CorpusConfig
from tokcli.outputs import RunConfig, locked_outputs

if TYPE_CHECKING:
    from tokcli.loading.base import LoadedTokenizer

SECTIONS = {"compare": CompareConfig, "corpus": CorpusConfig, "run": RunConfig}
ROW_COLUMNS = (
    "tokenizer", "corpus", "docs", "bytes", "tokens", "bytes_per_token", "chars_per_token", "fertility",
    "split_rate", "word_unit", "premium", "byte_fallback_rate", "unk_rate", "renyi_efficiency", "vocab_used",
    "mb_per_s",
)  # fmt: skip
log = logging.getLogger("tokcli")


@app.command(
    "compare",
    epilog=examples(
        (
            "tokcli compare -t tests/data/tokenizers/bpe-bytelevel.json -t "
            "tests/data/tokenizers/spm-bpe-bytefallback.model tests/data/austen.txt tests/data/code"
        ),
        (
            "tokcli compare -t tests/data/tokenizers/bpe-bytelevel.json -t "
            "tests/data/tokenizers/spm-bpe-bytefallback.model --parallel tests/data/parallel/udhr -f "
            "markdown"
        ),
    ),
)
@config_command(
    SECTIONS,
    positional="corpus.inputs",
    rename={**CORPUS_RENAMES, "compare.tokenizers": "--tokenizer"},
    short={"compare.tokenizers": "-t"},
)
def compare_command(
    config: ResolvedConfig,
    output_format: str = format_option(""),
) -> None:
    """Compare tokenizers: compression, fertility, token premium, Rényi efficiency, overlap, speed.

    Each INPUT file is one corpus named by its stem (NAME=PATH renames it; a folder is one corpus per
    file); --parallel DIR adds a parallel corpus, one file per language, with premiums against
    --reference. Special tokens are never added. Rows go to stdout; mb_per_s is machine-dependent.
    """
    from tokcli.compare.plan import plan_corpora
    from tokcli.compare.run import keep_freed_memory, run_compare

    keep_freed_memory()

    fmt = resolve_format(output_format, sys.stdout)  # an unknown format fails before any work
    settings: CompareConfig = config["compare"]
    corpus: CorpusConfig = config["corpus"]
    tokenizers = _load_tokenizers(settings)
    corpora = plan_corpora(corpus.inputs, settings.parallel)
    if settings.plot:
        from tokcli.plot import check_plot_path

        check_plot_path(settings.plot)  # before the work, not after it
    # The plot is held under its output lock for the whole run, like train's and encode's outputs.
    with locked_outputs([settings.plot], config["run"]), progress_bar("encoding", unit="bytes") as update:
        done: dict[str, int] = {}

        def on_progress(name: str, n_bytes: int) -> None:
            done[name] = n_bytes
            update(sum(done.values()), description=f"encoding {name}")

        result = run_compare(settings, corpus, tokenizers, corpora, progress=on_progress)
        for message in result.errors:
            log.warning("skipped corpus %s", message)
        _warn_fallback_rates(result.rows)
        if settings.plot:
            from tokcli.plot import write_plot

            write_plot(result.rows, settings.plot, if_changed=config["run"].if_changed)
    _write_result(result, fmt)


# Above these rates a row's compression says little: UNK or byte-fallback tokens stand for text the
# vocabulary does not cover (an [UNK]-only tokenizer "compresses" everything).
UNK_RATE_WARNING = 0.01
BYTE_FALLBACK_RATE_WARNING = 0.25


def _warn_fallback_rates(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        unk, fallback = row.get("unk_rate") or 0.0, row.get("byte_fallback_rate") or 0.0
        if unk > UNK_RATE_WARNING or fallback > BYTE_FALLBACK_RATE_WARNING:
            log.warning(
                "%s on %s: %.1f%% of its tokens are UNK and %.1f%% byte fallback; its compression figures "
                "count text it does not cover",
                row.get("tokenizer"),
                row.get("corpus"),
                100 * unk,
                100 * fallback,
            )


def _load_tokenizers(settings: CompareConfig) -> list[LoadedTokenizer]:
    """The -t tokenizers, loaded; their names must differ."""
    from tokcli.loading import load_tokenizer

    if not settings.tokenizers:
        raise typer.BadParameter("give at least one tokenizer", param_hint="'-t/--tokenizer'")
    tokenizers = [load_tokenizer(spec, pattern=settings.pattern) for spec in settings.tokenizers]
    names = [t.name for t in tokenizers]
    if len(set(names)) != len(names):
        raise typer.BadParameter("two tokenizers share a name; name them with NAME=PATH", param_hint="'-t'")
    return tokenizers


def _write_result(result: CompareResult, fmt: str) -> None:
    """json: everything (meta, rows, summary); jsonl/tsv/csv: one record per row, every field; table and
    markdown: the main row columns, then the summary."""
    if fmt == "json":
        document = {"meta": result.meta, "rows": result.rows, "summary": result.summary}
        sys.stdout.write(dumps_json(document, indent=True).decode() + "\n")
        return
    if fmt in ("jsonl", "tsv", "csv"):
        render(result.rows, fmt)
        return
    columns = [c for c in ROW_COLUMNS if any(c in row for row in result.rows)]
    render(result.rows, fmt, columns=columns, title="tokcli compare")
    summary_columns = ["tokenizer", "vocab_size", "bytes_per_token", "premium_mean", "digit_style", "mb_per_s"]
    render(
        result.summary,
        fmt,
        columns=[c for c in summary_columns if any(c in s for s in result.summary)],
        title="summary per tokenizer",
    )
