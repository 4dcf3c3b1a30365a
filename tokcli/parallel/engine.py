"""Run one function over an ordered list of tasks, on a local process pool or on Ray.

Results come back in task order whatever the order in which workers finish, so outputs never depend
on the engine, the number of workers or scheduling. ``--workers 1`` on the local engine runs the
tasks in this process (no pool, no pickling), which is the plain single-process path; ``--workers N``
runs them in this process and N - 1 spawned ones.

The local pool's workers are spawned (:mod:`tokcli.parallel.procpool`: never forked, they exit when the
driver dies, task functions live in importable modules); each ignores SIGINT so that Ctrl-C reaches
only the driver, which then terminates the pool. Worker exceptions that are
:class:`tokcli.errors.TokcliError` are re-raised in the driver with their class, message and hint
(one line for the user).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from tokcli.errors import TokcliError
from tokcli.parallel.base import Engine, call_task, unwrap_result
from tokcli.parallel.options import ScaleConfig
from tokcli.parallel.procpool import spawn_pool, stop_pool
from tokcli.resources import cpu_budget

T = TypeVar("T")
R = TypeVar("R")


class WorkerDiedError(TokcliError):
    """A worker process of the local pool ended without a result."""


def _init_worker(threads: int) -> None:
    import atexit

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ["RAYON_NUM_THREADS"] = str(threads)
    os.environ["RAYON_RS_NUM_CPUS"] = str(threads)
    os.environ["TOKCLI_WORKER_THREADS"] = str(threads)
    # A worker's results are all sent when it exits: skip the interpreter's teardown of its modules
    # (~0.1 s with pyarrow and tokenizers loaded), which the driver would wait for at shutdown.
    atexit.register(os._exit, 0)


def worker_threads() -> int:
    """Threads a task may use: set per worker by the engine, else all CPUs."""
    value = os.environ.get("TOKCLI_WORKER_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else cpu_budget()


class InProcess(Engine):
    def map(self, func: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        for item in items:
            yield func(item)


class LocalPool(Engine):
    """``workers - 1`` spawned processes plus the driver itself, results in task order; terminated on any
    error or interrupt.

    The driver runs tasks too: it starts on the first task at once while the spawned processes start
    (Python and the imports take ~0.5 s), and ``--workers 2`` on 2 cores is this process and one more.
    ``ProcessPoolExecutor`` rather than ``multiprocessing.Pool``: when a worker dies (the kernel's OOM
    killer, a Rust allocation abort under ``--max-memory``, ``kill -9``) the pool breaks and the run
    stops with an error, where ``Pool`` silently replaces the worker and waits forever for its task."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._threads = max(1, cpu_budget() // workers)
        self._children = workers - 1
        self._pool = spawn_pool(self._children, _init_worker, (self._threads,))
        self._clean = False

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        from collections import deque
        from concurrent.futures import FIRST_COMPLETED, Future, wait

        pending = deque(range(len(items)))
        running: dict[int, Future[tuple[bool, Any]]] = {}
        finished: dict[int, tuple[bool, Any]] = {}
        ahead = 2 * self._children  # one running and one queued per process: none waits for the driver
        emitted = 0
        try:
            while emitted < len(items):
                while pending and len(running) < ahead:
                    index = pending.popleft()
                    running[index] = self._pool.submit(call_task, func, items[index])
                for index in [i for i, future in running.items() if future.done()]:
                    finished[index] = self._result(running.pop(index))
                if emitted in finished:
                    yield unwrap_result(finished.pop(emitted))
                    emitted += 1
                elif pending:  # the driver runs the next task itself
                    index = pending.popleft()
                    finished[index] = self._inline(func, items[index])
                else:
                    wait(running.values(), return_when=FIRST_COMPLETED)
        finally:
            for future in running.values():
                future.cancel()

    def _inline(self, func: Callable[[T], R], item: T) -> tuple[bool, Any]:
        saved = os.environ.get("TOKCLI_WORKER_THREADS")
        os.environ["TOKCLI_WORKER_THREADS"] = str(self._threads)  # as many threads as a spawned worker
        try:
            return call_task(func, item)
        finally:
            if saved is None:
                os.environ.pop("TOKCLI_WORKER_THREADS", None)
            else:
                os.environ["TOKCLI_WORKER_THREADS"] = saved

    @staticmethod
    def _result(future: Any) -> tuple[bool, Any]:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool:
            raise WorkerDiedError(
                "a worker process died (killed by a signal, e.g. by the system when out of memory); "
                "no output was written",
                hint="run again with fewer --workers or more memory (--max-memory), or --workers 1",
            ) from None

    def finish(self) -> None:
        self._clean = True

    def close(self) -> None:
        stop_pool(self._pool, clean=self._clean)  # running tasks are not waited for after an error or Ctrl-C


@contextlib.contextmanager
def open_engine(scale: ScaleConfig, *, tasks: int, worth: int | None = None) -> Iterator[Engine]:
    """The engine ``scale`` asks for, sized for ``tasks`` tasks; stopped (Ray: shut down) on exit.
    ``worth``: when ``--workers`` was not given, the local engine starts at most this many workers (a
    spawned worker costs a few tenths of a second of start-up that a small input does not repay)."""
    if scale.engine == "ray":
        from tokcli.parallel.ray_engine import RayEngine

        ray_engine = RayEngine(scale)
        try:
            yield ray_engine
        finally:
            ray_engine.close()
        return
    workers = min(scale.workers or min(cpu_budget(), worth or cpu_budget()), max(tasks, 1))
    if workers <= 1:
        yield InProcess()
        return
    pool = LocalPool(workers)
    try:
        yield pool
        pool.finish()
    finally:
        pool.close()
