"""Run one function over an ordered list of tasks, on a local process pool or on Ray.

Results come back in task order whatever the order in which workers finish, so outputs never depend
on the engine, the number of workers or scheduling. ``--workers 1`` on the local engine runs the
tasks in this process (no pool, no pickling), which is the plain single-process path.

The local pool uses the ``spawn`` start method (no fork of a process that may hold threads, e.g.
tokenizers' Rayon pool); each worker ignores SIGINT so that Ctrl-C reaches only the driver, which
then terminates the pool. Worker exceptions that are :class:`tokcli.errors.TokcliError` are
re-raised in the driver with their class, message and hint (one line for the user).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from tokcli.errors import TokcliError
from tokcli.loading.base import default_threads
from tokcli.scale.options import ScaleConfig

T = TypeVar("T")
R = TypeVar("R")


def _call(func: Callable[[T], R], item: T) -> tuple[bool, Any]:
    """Run one task; a TokcliError travels back as plain data (its constructor takes a keyword hint)."""
    try:
        return True, func(item)
    except TokcliError as exc:
        return False, (type(exc).__module__, type(exc).__qualname__, exc.message, exc.hint)


def _unwrap(result: tuple[bool, Any]) -> Any:
    ok, value = result
    if ok:
        return value
    module, name, message, hint = value
    cls = getattr(importlib.import_module(module), name)
    exc = cls.__new__(cls)
    TokcliError.__init__(exc, message, hint=hint)
    raise exc


def _init_worker(threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["RAYON_NUM_THREADS"] = str(threads)
    os.environ["RAYON_RS_NUM_CPUS"] = str(threads)
    os.environ["TOKCLI_WORKER_THREADS"] = str(threads)


def worker_threads() -> int:
    """Threads a task may use: set per worker by the engine, else all CPUs."""
    value = os.environ.get("TOKCLI_WORKER_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else default_threads()


class Engine:
    """A started engine; use as a context manager (``with open_engine(scale) as engine``)."""

    name = "local"
    workers = 1

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass


class InProcess(Engine):
    def map(self, func: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        for item in items:
            yield func(item)


class LocalPool(Engine):
    """``multiprocessing.Pool`` (spawn) with ordered ``imap``; terminated on any error or interrupt."""

    def __init__(self, workers: int) -> None:
        import multiprocessing

        self.workers = workers
        threads = max(1, default_threads() // workers)
        self._pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(threads,))
        self._clean = False

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        import functools

        for result in self._pool.imap(functools.partial(_call, func), items, chunksize=1):
            yield _unwrap(result)

    def finish(self) -> None:
        self._clean = True

    def close(self) -> None:
        if self._clean:
            self._pool.close()
        else:
            self._pool.terminate()
        self._pool.join()


@contextlib.contextmanager
def open_engine(scale: ScaleConfig, *, tasks: int) -> Iterator[Engine]:
    """The engine ``scale`` asks for, sized for ``tasks`` tasks; stopped (Ray: shut down) on exit."""
    if scale.engine == "ray":
        from tokcli.scale.ray_engine import RayEngine

        ray_engine = RayEngine(scale)
        try:
            yield ray_engine
        finally:
            ray_engine.close()
        return
    workers = min(scale.workers or default_threads(), max(tasks, 1))
    if workers <= 1:
        yield InProcess()
        return
    pool = LocalPool(workers)
    try:
        yield pool
        pool.finish()
    finally:
        pool.close()
