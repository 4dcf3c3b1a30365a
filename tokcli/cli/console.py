"""Everything the CLI says on stderr: log messages by verbosity, progress bars only on a terminal.

The core logs through the standard ``logging`` module (logger ``tokcli``) and reports progress through
callbacks; this module decides what reaches the screen. ``-q`` hides info, ``-qq`` warnings too.
No ANSI codes are written when stderr is not a terminal, and ``NO_COLOR`` is honoured.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import orjson

LogFormat = Literal["text", "json"]
EVENT_LOGGER = "tokcli.events"


@dataclass
class CliState:
    quiet: int = 0
    traceback: bool = False
    log_format: LogFormat = "text"


STATE = CliState()


class _OneLineFormatter(logging.Formatter):
    """``tokcli: warning: ...`` on stderr."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == EVENT_LOGGER:
            fields = " ".join(f"{k}={v}" for k, v in getattr(record, "fields", {}).items())
            return f"tokcli: {record.getMessage()} {fields}".rstrip()
        level = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        return f"tokcli: {level}{record.getMessage()}"


class _FileFormatter(_OneLineFormatter):
    """Text log files get a timestamp and the PID in front of every line."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds")
        return f"{stamp} [{os.getpid()}] {record.levelname.lower()} {super().format(record)}"


class _JsonFormatter(logging.Formatter):
    """One JSON object per event or message: ts, pid, level, event, message and the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds")
        doc: dict[str, Any] = {"ts": stamp, "pid": os.getpid(), "level": record.levelname.lower()}
        if record.name == EVENT_LOGGER:
            doc["event"] = record.getMessage()
            doc.update(getattr(record, "fields", {}))
        else:
            doc["event"] = "message"
            doc["message"] = record.getMessage()
        return orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS, default=str).decode()


def setup_logging(quiet: int, *, log_file: str | None = None, log_format: LogFormat = "text") -> None:
    """Route the ``tokcli`` logger to stderr at the verbosity chosen with ``-q``, and to ``log_file``.

    ``log_format="json"`` writes one JSON object per event to the log file, or to stderr without one.
    Events (start, end, error, milestones) always reach the log file; on stderr they are shown only
    in JSON mode, so an interactive user sees just messages.
    """
    file_handler = None
    if log_file is not None:  # opened first: a log that cannot be opened leaves the plain stderr set-up
        from tokcli.errors import OutputError

        try:
            file_handler = logging.FileHandler(log_file, mode="a", encoding="utf-8")
        except OSError as exc:
            raise OutputError(
                f"cannot open --log-file {log_file}: {exc.strerror}", hint="create its folder or choose another file"
            ) from exc
        file_handler.setLevel(logging.INFO)
        file_handler.setFormatter(_JsonFormatter() if log_format == "json" else _FileFormatter())
    STATE.quiet = quiet
    STATE.log_format = log_format
    level = {0: logging.INFO, 1: logging.WARNING}.get(quiet, logging.ERROR)
    logger = logging.getLogger("tokcli")
    for old in logger.handlers:
        old.close()
    logger.handlers.clear()
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    stderr_handler = logging.StreamHandler(sys.stderr)
    stderr_handler.setLevel(level)
    if log_format == "json" and log_file is None:
        stderr_handler.setFormatter(_JsonFormatter())
    else:
        stderr_handler.setFormatter(_OneLineFormatter())
        stderr_handler.addFilter(lambda record: record.name != EVENT_LOGGER)
    logger.addHandler(stderr_handler)
    if file_handler is not None:
        logger.addHandler(file_handler)


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Record a structured event (start, end, error, progress milestones) for unattended runs."""
    logging.getLogger(EVENT_LOGGER).log(level, event, extra={"fields": fields})


def is_tty(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (False for closed or replaced streams)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def stderr_is_tty() -> bool:
    return is_tty(sys.stderr)


def counted(n: int, noun: str) -> str:
    """``1 document``, ``34,047 tokens``: a number and its noun, singular for one."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def one_line(message: str) -> str:
    """``message`` on one line: line breaks and other control characters (a file name may hold them) are
    written as escapes."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


def print_error(message: str) -> None:
    """The one line every failure ends with (plus an ``error`` event for log files)."""
    message = one_line(message)
    if STATE.log_format == "json" and not _has_file_log():
        log_event("error", logging.ERROR, message=message)
        return
    sys.stderr.write(f"tokcli: error: {message}\n")
    sys.stderr.flush()
    log_event("error", logging.ERROR, message=message)


def _has_file_log() -> bool:
    return any(isinstance(h, logging.FileHandler) for h in logging.getLogger("tokcli").handlers)


@contextlib.contextmanager
def progress_bar(description: str, *, total: float | None = None, unit: str = "bytes") -> Iterator[Callable[..., None]]:
    """Yield ``update(completed, **fields)``; draws a rich bar on stderr only when it is a terminal."""
    if STATE.quiet or not stderr_is_tty():
        yield lambda *args, **kwargs: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TransferSpeedColumn,
    )

    console = Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))
    columns: list[Any] = [TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn()]
    if unit == "bytes":
        columns += [DownloadColumn(), TransferSpeedColumn()]
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)

        def update(completed: float, **fields: Any) -> None:
            progress.update(task, completed=completed, **fields)

        yield update
