"""Short stretches of code a signal must not cut in two, such as starting a worker process: a spawned
child reads its start-up data from a pipe, and a parent interrupted half-way through writing it leaves a
child that dies printing ``EOFError: Ran out of input`` and a traceback on the run's stderr.

The CLI's signal handler hands its action (raising ``KeyboardInterrupt`` or ``Interrupted``) to
:func:`deliver`; inside :func:`critical` the action waits until the stretch ends. Signal handlers and
these stretches both run in the main thread, so no lock is needed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

_depth = 0
_pending: list[Callable[[], None]] = []


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """Signals that arrive inside are acted upon when the outermost ``critical`` block ends."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending:
            action = _pending[0]
            _pending.clear()
            action()


def deliver(action: Callable[[], None]) -> None:
    """Run ``action`` now, or when the current critical stretch ends."""
    if _depth:
        _pending.append(action)
    else:
        action()
