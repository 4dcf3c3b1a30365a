"""Everything the CLI says on stderr: log messages by verbosity, progress bars only on a terminal.

The core logs through the standard ``logging`` module (logger ``tokcli``) and reports progress through
callbacks; this module decides what reaches the screen. ``-q`` hides info, ``-qq`` warnings too.
No ANSI codes are written when stderr is not a terminal, and ``NO_COLOR`` is honoured.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class CliState:
    quiet: int = 0
    traceback: bool = False


STATE = CliState()


class _OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
        return f"tokcli: {level}{record.getMessage()}"


def setup_logging(quiet: int) -> None:
    """Route the ``tokcli`` logger to stderr at the verbosity chosen with ``-q``."""
    STATE.quiet = quiet
    logger = logging.getLogger("tokcli")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLineFormatter())
    logger.addHandler(handler)
    logger.setLevel({0: logging.INFO, 1: logging.WARNING}.get(quiet, logging.ERROR))
    logger.propagate = False


def stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def print_error(message: str) -> None:
    """The one line every failure ends with."""
    sys.stderr.write(f"tokcli: error: {message}\n")
    sys.stderr.flush()


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
