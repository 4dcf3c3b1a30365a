"""The ``tokcli`` entry point: runs the application (:mod:`tokcli.cli.application`) inside the error boundary.

Exit codes (docs/exit-codes.md): 0 ok, 1 data/config error, 2 usage, 75 output lock held,
130 interrupted. Every failure ends with one line ``tokcli: error: ...`` on stderr; ``--traceback``
or ``TOKCLI_TRACEBACK=1`` adds the Python traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from types import FrameType

import typer

try:  # Recent Typer vendors click as typer._click; older releases use click itself.
    from typer._click.exceptions import UsageError as ClickUsageError
except ImportError:  # pragma: no cover - depends on the installed Typer
    from click.exceptions import UsageError as ClickUsageError  # type: ignore[assignment]

from tokcli import interrupts
from tokcli.cli.application import app
from tokcli.cli.commands import hoist_global_options, register
from tokcli.cli.console import STATE, log_event, print_error, setup_logging
from tokcli.errors import ExitCode, Interrupted, TokcliError


def _out_of_memory_message() -> str:
    from tokcli.resources import format_size, memory_limit

    if memory_limit is not None:
        return (
            f"out of memory (limit {format_size(memory_limit)} set by --max-memory/TOKCLI_MAX_MEMORY); "
            "no partial output was written; raise --max-memory, or lower --threads, --max-line-bytes or "
            "(encode, compare) --batch-size"
        )
    return (
        "out of memory; no partial output was written; lower --threads, --max-line-bytes or (encode, compare) "
        "--batch-size, or run on a machine with more memory"
    )


def _register_commands(args: list[str]) -> None:
    register(args)


class _Signals:
    """SIGINT and SIGTERM become exceptions (``KeyboardInterrupt``, :class:`Interrupted`) so ``finally``
    blocks remove temporary files. Only the first one is raised: a second signal must not break the
    clean-up of the first. Anything that fails during that clean-up (a module whose import the signal
    cut short, a pool being torn down) is reported as the interruption it is."""

    interrupted = False

    @classmethod
    def on_signal(cls, signum: int, frame: FrameType | None) -> None:
        if cls.interrupted:
            return
        cls.interrupted = True

        def act() -> None:
            raise KeyboardInterrupt() if signum == signal.SIGINT else Interrupted()

        interrupts.deliver(act)  # after a critical stretch, e.g. starting a worker process

    @classmethod
    @contextlib.contextmanager
    def handled(cls) -> Iterator[None]:
        cls.interrupted = False
        # a SIGINT that is ignored (a background job of a shell, nohup) stays ignored
        signals = [signal.SIGTERM] + ([signal.SIGINT] if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN else [])
        previous = {sig: signal.signal(sig, cls.on_signal) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    STATE.traceback = os.environ.get("TOKCLI_TRACEBACK", "") not in ("", "0") or "--traceback" in args
    setup_logging(0)
    started = time.monotonic()
    code: int = ExitCode.ERROR
    try:
        with _Signals.handled():
            code = _dispatch(args)
        return code
    finally:
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
        args = hoist_global_options(args)
        _register_commands(args)
        result = app(args=args, prog_name="tokcli", standalone_mode=False)
        if result == ExitCode.INTERRUPTED:
            # Typer turns Ctrl-C into a silent exit code 130; say what happened, as for SIGTERM.
            print_error("interrupted; no partial output was written")
        return int(result) if isinstance(result, int) else ExitCode.OK
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:
        if _closed_pipe(exc):  # click turns EPIPE into a silent exit 1; a reader that left is no error
            _silence_stdout()
            return ExitCode.OK
        raise
    except ClickUsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError" and exc.ctx is not None:
            sys.stderr.write(exc.ctx.get_help() + "\n")  # `tokcli` alone: help on stderr, as a usage error
            return ExitCode.USAGE
        hint = f"; see '{exc.ctx.command_path} --help'" if exc.ctx is not None else ""
        print_error(f"{exc.format_message().rstrip('.')}{hint}")
        return ExitCode.USAGE
    except (KeyboardInterrupt, typer.Abort):
        return _say_interrupted()
    except Exception as exc:
        return _say_interrupted() if _Signals.interrupted else _report_failure(exc)


def _say_interrupted() -> int:
    _maybe_traceback()
    print_error("interrupted; no partial output was written")
    return ExitCode.INTERRUPTED


def _report_failure(exc: Exception) -> int:
    """The one error line of a failed run, and its exit code."""
    if isinstance(exc, BrokenPipeError):  # the reader of our stdout went away (| head): no error
        _silence_stdout()
        return ExitCode.OK
    _maybe_traceback()
    if isinstance(exc, TokcliError):
        print_error(str(exc))
        return exc.exit_code
    if isinstance(exc, MemoryError):  # under --max-memory (RLIMIT_AS) or a real shortage
        print_error(_out_of_memory_message())
        return ExitCode.ERROR
    # imported only now: out of memory, loading its shared library can fail (with older dependencies
    # nothing before had imported it)
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):  # a worker was killed (OOM killer, Rust abort, kill -9)
        print_error(
            "a worker process died (killed by a signal, e.g. by the system when out of memory); no output "
            "was written; run again with fewer --threads/--workers or more memory (--max-memory)"
        )
        return ExitCode.ERROR
    print_error(f"internal error: {type(exc).__name__}: {exc}; rerun with --traceback and report it")
    return ExitCode.ERROR


def _closed_pipe(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while handling a write to a pipe whose reader went away (``| head``)."""
    cause = exc.__context__
    return isinstance(cause, BrokenPipeError) or (isinstance(cause, OSError) and cause.errno == errno.EPIPE)


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
