"""The ``tokcli`` Typer application: global options and the error boundary.

Exit codes (docs/exit-codes.md): 0 ok, 1 data/config error, 2 usage, 75 output lock held,
130 interrupted. Every failure ends with one line ``tokcli: error: ...`` on stderr; ``--traceback``
or ``TOKCLI_TRACEBACK=1`` adds the Python traceback.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
import time
import traceback
from types import FrameType
from typing import Any

import typer
from typer.core import TyperGroup

try:  # Recent Typer vendors click as typer._click; older releases use click itself.
    from typer._click.exceptions import UsageError as ClickUsageError
except ImportError:  # pragma: no cover - depends on the installed Typer
    from click.exceptions import UsageError as ClickUsageError  # type: ignore[assignment]

from tokcli import __version__
from tokcli.cli.console import STATE, log_event, print_error, setup_logging
from tokcli.errors import ExitCode, Interrupted, TokcliError


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
        None, "--log-file", metavar="FILE", help="append log messages and events (start, end, errors) to FILE"
    ),
    log_format: str = typer.Option(
        "text", "--log-format", metavar="CHOICE", help="text, or json: one JSON object per event  [text|json]"
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
        raise typer.BadParameter(f"{log_format!r} is not one of text, json", param_hint="'--log-format'")
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


def _out_of_memory_message() -> str:
    from tokcli.resources import format_size, memory_limit

    if memory_limit is not None:
        return (
            f"out of memory (limit {format_size(memory_limit)} set by --max-memory/TOKCLI_MAX_MEMORY); "
            "no partial output was written; raise --max-memory, or lower --batch-size, --threads or "
            "--max-line-bytes"
        )
    return (
        "out of memory; no partial output was written; lower --batch-size, --threads or --max-line-bytes, "
        "or run on a machine with more memory"
    )


def _register_commands(args: list[str]) -> None:
    # Imported here so each command module can import `app` helpers without a cycle.
    from tokcli.cli.commands import register

    register(args)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so `finally` blocks remove temporary files.
    raise Interrupted()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    STATE.traceback = os.environ.get("TOKCLI_TRACEBACK", "") not in ("", "0") or "--traceback" in args
    setup_logging(0)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    started = time.monotonic()
    code: int = ExitCode.ERROR
    try:
        code = _dispatch(args)
        return code
    finally:
        signal.signal(signal.SIGTERM, previous)
        from tokcli.resources import restore

        restore()
        _flush_stdout()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        log_event(
            "end",
            exit_code=int(code),
            wall_s=round(time.monotonic() - started, 3),
            cpu_s=round(usage.ru_utime + usage.ru_stime, 3),
            max_rss_mb=round(usage.ru_maxrss / 1024, 1),
        )


def _dispatch(args: list[str]) -> int:
    """Run the app; turn every outcome into an exit code and at most one error line."""
    try:
        _register_commands(args)
        result = app(args=args, prog_name="tokcli", standalone_mode=False)
        if result == ExitCode.INTERRUPTED:
            # Typer turns Ctrl-C into a silent exit code 130; say what happened, as for SIGTERM.
            print_error("interrupted; no partial output was written")
        return int(result) if isinstance(result, int) else ExitCode.OK
    except typer.Exit as exc:
        return exc.exit_code
    except ClickUsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError" and exc.ctx is not None:
            sys.stderr.write(exc.ctx.get_help() + "\n")  # `tokcli` alone: help on stderr, as a usage error
            return ExitCode.USAGE
        hint = f"; see '{exc.ctx.command_path} --help'" if exc.ctx is not None else ""
        print_error(f"{exc.format_message().rstrip('.')}{hint}")
        return ExitCode.USAGE
    except (KeyboardInterrupt, typer.Abort):
        _maybe_traceback()
        print_error("interrupted; no partial output was written")
        return ExitCode.INTERRUPTED
    except TokcliError as exc:
        _maybe_traceback()
        print_error(str(exc))
        return exc.exit_code
    except MemoryError:
        # Raised under --max-memory (RLIMIT_AS) or a real shortage; the big objects are gone by now.
        _maybe_traceback()
        print_error(_out_of_memory_message())
        return ExitCode.ERROR
    except BrokenPipeError:
        # The reader of our stdout went away (e.g. `| head`): not an error worth a message.
        _silence_stdout()
        return ExitCode.OK
    except Exception as exc:
        _maybe_traceback()
        from concurrent.futures.process import BrokenProcessPool

        if isinstance(exc, BrokenProcessPool):  # a worker was killed (OOM killer, Rust abort, kill -9)
            print_error(
                "a worker process died (killed by a signal, e.g. by the system when out of memory); no output "
                "was written; run again with fewer --threads/--workers or more memory (--max-memory)"
            )
            return ExitCode.ERROR
        print_error(f"internal error: {type(exc).__name__}: {exc}; rerun with --traceback and report it")
        return ExitCode.ERROR


def _maybe_traceback() -> None:
    if STATE.traceback:
        traceback.print_exc(file=sys.stderr)


def _flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that does not raise too.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def run() -> None:
    sys.exit(main())
