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


class WorkerDiedError(TokcliError):
    """A worker process of the local pool ended without a result."""


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
    """A spawn process pool with results in task order; terminated on any error or interrupt.

    ``ProcessPoolExecutor`` rather than ``multiprocessing.Pool``: when a worker dies (the kernel's OOM
    killer, a Rust allocation abort under ``--max-memory``, ``kill -9``) the pool breaks and the run
    stops with an error, where ``Pool`` silently replaces the worker and waits forever for its task."""

    def __init__(self, workers: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        threads = max(1, default_threads() // workers)
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(threads,),
        )
        self._clean = False

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        from concurrent.futures.process import BrokenProcessPool

        futures = [self._pool.submit(_call, func, item) for item in items]
        try:
            for future in futures:
                try:
                    result = future.result()
                except BrokenProcessPool:
                    raise WorkerDiedError(
                        "a worker process died (killed by a signal, e.g. by the system when out of memory); "
                        "no output was written",
                        hint="run again with fewer --workers or more memory (--max-memory), or --workers 1",
                    ) from None
                yield _unwrap(result)
        finally:
            for future in futures:
                future.cancel()

    def finish(self) -> None:
        self._clean = True

    def close(self) -> None:
        if self._clean:
            self._pool.shutdown(wait=True)
            return
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # running tasks are not waited for after an error or Ctrl-C
            process.terminate()
        for process in processes:
            process.join(10)


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
