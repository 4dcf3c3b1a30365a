"""The ``tokcli`` Typer application and its global options (``-q``, ``--log-file``, ``--max-memory``, ...).

Each command module under ``tokcli.cli`` adds its command to :data:`app`; :mod:`tokcli.cli.app` runs it
inside the error boundary.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from tokcli.cli.console import STATE, log_event, setup_logging
from tokcli.version import __version__


class _Group(TyperGroup):
    """The app's click group; plain parameter values are converted without pydantic (tokcli.cli.fastparams)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from tokcli.cli.fastparams import install

        install(self)


app = typer.Typer(
    cls=_Group,
    name="tokcli",
    help="Train, apply, compare and audit tokenizers. Data goes to stdout; messages go to stderr.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"tokcli {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _global_options(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_version_callback, help="print the version and exit"
    ),
    quiet: int = typer.Option(
        0, "-q", "--quiet", count=True, show_default=False, help="-q: warnings and errors only; -qq: errors only"
    ),
    show_traceback: bool = typer.Option(
        False, "--traceback", help="show Python tracebacks on errors (also TOKCLI_TRACEBACK=1)"
    ),
    log_file: str | None = typer.Option(
        None,
        "--log-file",
        metavar="FILE",
        envvar="TOKCLI_LOG_FILE",
        help="append log messages and events (start, end, errors) to FILE (also TOKCLI_LOG_FILE)",
    ),
    log_format: str = typer.Option(
        "text",
        "--log-format",
        metavar="CHOICE",
        envvar="TOKCLI_LOG_FORMAT",
        help="text, or json: one JSON object per event (also TOKCLI_LOG_FORMAT)  [text|json]",
    ),
    max_memory: str | None = typer.Option(
        None,
        "--max-memory",
        metavar="SIZE",
        help="limit the address space (RLIMIT_AS) to SIZE, e.g. 8GB: running out is a clean error, exit 1 "
        "(also TOKCLI_MAX_MEMORY)",
    ),
) -> None:
    if log_format not in ("text", "json"):
        hint = "'--log-format' / TOKCLI_LOG_FORMAT"
        raise typer.BadParameter(f"{log_format!r} is not one of text, json", param_hint=hint)
    _apply_memory_limit(max_memory)
    setup_logging(quiet, log_file=log_file, log_format=log_format)  # type: ignore[arg-type]
    STATE.traceback = STATE.traceback or show_traceback
    log_event("start", command=ctx.invoked_subcommand, argv=sys.argv[1:], version=__version__)


def _apply_memory_limit(flag: str | None) -> None:
    from tokcli.config import parse_size
    from tokcli.errors import ConfigError
    from tokcli.resources import MEMORY_ENV, set_memory_limit

    text, origin = (flag, "--max-memory") if flag is not None else (os.environ.get(MEMORY_ENV, ""), MEMORY_ENV)
    if not text.strip():
        return
    try:
        limit = parse_size(text)
    except ValueError:
        limit = 0
    if limit < 1 << 20:
        message = f"{origin}: expected a size such as 8GB or 512MiB, got {text!r}"
        if flag is not None:
            raise typer.BadParameter(message.split(": ", 1)[1], param_hint="'--max-memory'")
        raise ConfigError(message, hint=f"fix or unset {MEMORY_ENV}")
    set_memory_limit(limit)


def examples(*commands: str) -> str:
    """The end of a command's ``--help``: real command lines on the data shipped in tests/data, run from a
    checkout of tokcli (tests/test_help_examples.py runs every one of them). ``\\b`` keeps click from
    re-wrapping them."""
    return "Examples (from a checkout of tokcli):\n\n\b\n" + "\n".join(f"  $ {c}" for c in commands)
