"""Pools of spawned worker processes (the local scale-out engine, infer-mixture's counting).

- ``spawn``, never ``fork``: the parent may hold threads (tokenizers' Rayon pool, Arrow's, OpenBLAS's)
  whose locks a forked child would inherit in whatever state they were.
- A worker exits as soon as its parent is gone. A driver killed with SIGKILL (``kill -9``, the OOM
  killer, a scheduler's time limit) cannot stop its workers, and a worker of ``ProcessPoolExecutor``
  would otherwise finish its queued tasks and then wait forever for the next one.
- Workers start while the parent's ``__main__`` is hidden (:func:`main_hidden`, done by the pool's
  ``submit``), so task functions must live in importable modules.
- A pool stopped by an error or a signal (:func:`stop_pool`) terminates its workers and waits for the
  pool's manager thread before the interpreter exits. Otherwise ``concurrent.futures``' exit hook can
  write to the wake-up pipe the manager thread is closing at that moment (CPython 3.11's
  ``_ThreadWakeup`` checks ``_closed`` without a lock), which printed ``Exception ignored in: <module
  'threading'> ... OSError: [Errno 9] Bad file descriptor`` after the one-line error of a busy run.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from tokcli import interrupts

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor


def spawn_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` of ``workers`` spawned processes that exit with their parent; its
    ``submit`` (and so ``map``), which starts the workers, hides ``__main__`` while it runs."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    class SpawnPool(ProcessPoolExecutor):
        def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
            with interrupts.critical(), main_hidden():  # may start a worker: never half-way
                return super().submit(fn, *args, **kwargs)

    return SpawnPool(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(initializer, initargs),
    )


@contextlib.contextmanager
def running_pool(
    workers: int, initializer: Callable[..., None] | None = None, initargs: tuple[Any, ...] = ()
) -> Iterator[ProcessPoolExecutor]:
    """:func:`spawn_pool` as a context: shut down cleanly after success, stopped at once on any error."""
    pool = spawn_pool(workers, initializer, initargs)
    clean = False
    try:
        yield pool
        clean = True
    finally:
        stop_pool(pool, clean=clean)


def stop_pool(pool: ProcessPoolExecutor, *, clean: bool) -> None:
    """Shut ``pool`` down: after success wait for it; after an error or interrupt cancel what is queued,
    terminate the workers (running tasks are not waited for) and join the manager thread."""
    if clean:
        pool.shutdown(wait=True)
        return
    # shutdown(wait=False) forgets both the processes and the manager thread: take them first
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(10)
    if manager is not None and manager.is_alive():
        manager.join(10)


def _start_worker(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    exit_with_parent()
    if initializer is not None:
        initializer(*initargs)


def exit_with_parent() -> None:
    """In a spawned process: a daemon thread ends the process when its parent dies. The parent holds
    the write end of the pipe it sent the start-up data through until it exits, so the child's copy
    of the read end (``multiprocessing.parent_process().sentinel``) turns readable exactly then."""
    import multiprocessing
    import threading
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    if sentinel is None:  # not a multiprocessing child
        return

    def watch() -> None:
        wait([sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="tokcli-exit-with-parent", daemon=True).start()


@contextlib.contextmanager
def main_hidden() -> Iterator[None]:
    """A spawned child first re-imports the parent's ``__main__`` (multiprocessing's spawn "prepare"),
    which for the ``tokcli`` console script is the whole CLI: typer, click and rich, 30-75 ms of imports
    in every worker before its first task. The pool's ``submit`` (which may start a worker) runs inside this
    block, so the children start while ``__main__`` is an empty module."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main
