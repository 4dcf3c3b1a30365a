"""The Ray engine: tasks on a Ray cluster (the optional extra ``tokcli[ray]``, imported lazily).

Without ``--ray-address`` tokcli starts a PRIVATE local cluster (``address="local"``): a bare
``ray.init()`` would join whatever cluster ``RAY_ADDRESS`` names, which on a shared server may be
someone else's. The private cluster gets its own temporary folder (per user and per run, removed on
exit), an explicit object-store size, no dashboard, no usage-stats reporting, and Ray's own logging at
WARNING on stderr with worker output kept off the driver's stdout, which carries data only. It is shut
down on exit, on errors, on SIGINT and on SIGTERM (``tokcli.cli.app`` turns SIGTERM into an exception,
so this ``finally`` runs); if the driver is killed with SIGKILL, Ray's own reaper process stops the
cluster's processes.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from tokcli.errors import UsageError
from tokcli.parallel.base import Engine, call_task, unwrap_result
from tokcli.parallel.options import ScaleConfig

T = TypeVar("T")
R = TypeVar("R")
DEFAULT_OBJECT_STORE = 512 * 1024 * 1024


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError(
            "--engine ray needs Ray, which is not installed", hint="pip install 'tokcli[ray]', or use --engine local"
        ) from None
    return ray


def private_temp_dir() -> str:
    """A fresh per-user, per-run folder with a short path (Ray's socket paths must stay under 108 bytes)."""
    return tempfile.mkdtemp(prefix=f"tokcli-ray-{os.getuid()}-", dir="/tmp")


@functools.cache
def _remote_task(ray: Any) -> Any:
    return ray.remote(num_cpus=1, max_retries=2)(call_task)


class RayEngine(Engine):
    name = "ray"

    def __init__(self, scale: ScaleConfig) -> None:
        ray = import_ray()
        self._ray = ray
        self._temp: str | None = None  # a folder this run created (removed on close)
        self._owned = False
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        common: dict[str, Any] = {
            "logging_level": logging.WARNING,
            "log_to_driver": False,
            "include_dashboard": False,
            "ignore_reinit_error": False,
        }
        if ray.is_initialized():  # e.g. a test session that started its own cluster: use it, leave it running
            pass
        elif scale.ray_address:
            ray.init(address=scale.ray_address, **common)
            self._owned = True
        else:
            temp = scale.ray_temp_dir
            if temp is None:
                temp = self._temp = private_temp_dir()
            from tokcli.resources import cpu_budget

            try:
                ray.init(
                    address="local",
                    num_cpus=scale.workers or cpu_budget(),
                    object_store_memory=scale.object_store_memory or DEFAULT_OBJECT_STORE,
                    _temp_dir=temp,
                    **common,
                )
            except BaseException:
                self._remove_temp()
                raise
            self._owned = True
        try:  # the GCS address of the cluster in use (reported: two runs never share a private cluster)
            self.address = str(ray.get_runtime_context().gcs_address)
        except Exception:  # e.g. a ray:// client connection
            self.address = None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = max(1, min(scale.workers or cpus, cpus))

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:
        """Submit at most ``2 * workers`` tasks ahead and return results in task order."""
        remote = _remote_task(self._ray)
        pending: deque[Any] = deque()
        queue = iter(items)
        window = 2 * self.workers
        for item in queue:
            pending.append(remote.remote(func, item))
            if len(pending) >= window:
                break
        try:
            while pending:
                result = self._ray.get(pending.popleft())
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append(remote.remote(func, nxt))
                yield unwrap_result(result)
        finally:
            for ref in pending:  # an error or interrupt: stop the tasks still queued or running
                self._ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._owned:
            self._ray.shutdown()
            self._owned = False
        self._remove_temp()

    def _remove_temp(self) -> None:
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None
