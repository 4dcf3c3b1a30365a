"""Pools of spawned worker processes (the local scale-out engine, infer-mixture's counting).

- ``spawn``, never ``fork``: the parent may hold threads (tokenizers' Rayon pool, Arrow's, OpenBLAS's)
  whose locks a forked child would inherit in whatever state they were.
- A worker exits as soon as its parent is gone. A driver killed with SIGKILL (``kill -9``, the OOM
  killer, a scheduler's time limit) cannot stop its workers, and a worker of ``ProcessPoolExecutor``
  would otherwise finish its queued tasks and then wait forever for the next one.
- Workers start while the parent's ``__main__`` is hidden (:func:`main_hidden`, done by the pool's
  ``submit``), so task functions must live in importable modules.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

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
            with main_hidden():
                return super().submit(fn, *args, **kwargs)

    return SpawnPool(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(initializer, initargs),
    )


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
