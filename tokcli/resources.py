"""Process-wide resource limits: one thread cap for every pool, and an address-space (memory) limit.

**Threads.** ``--threads N`` (any command that has it) or ``TOKCLI_THREADS=N`` caps every pool a run
starts, in this process and in the worker processes it spawns (they inherit the environment):

* :func:`cpu_budget` (behind :func:`tokcli.loading.base.default_threads`) is ``min(CPUs, N)``, so every
  "all CPUs" default -- encode/compare threads, the local process pool's workers, infer-mixture's
  counting processes, Ray's ``num_cpus`` -- becomes N;
* Rust rayon pools (HF ``tokenizers``) read ``RAYON_NUM_THREADS`` once, when the pool is first used, so
  the variable is set before any encoding or training starts; with N = 1 ``TOKENIZERS_PARALLELISM`` is
  off, so no pool is started at all;
* OpenBLAS/OpenMP/MKL (started by ``import numpy``) and Arrow's CPU and I/O pools (Parquet/CSV reading)
  read ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``ARROW_IO_THREADS`` when
  the library is loaded; tokcli imports them lazily, after the limit is applied;
* tiktoken gets the number as its ``num_threads`` argument, and so do the sentencepiece trainers whose
  result does not depend on it (spm-unigram trains with a fixed 16 unless ``--threads`` is given: its
  pieces depend on the thread count, see docs/train.md).

**Memory.** ``--max-memory SIZE`` (or ``TOKCLI_MAX_MEMORY``) sets the soft ``RLIMIT_AS`` of the process
(inherited by worker processes, each of which gets the same limit). A Python allocation beyond it raises
``MemoryError``, which the CLI turns into one error line (exit 1); atomic writes leave no partial output.
Allocations in Rust (``tokenizers``) that fail abort the process instead (SIGABRT, exit 134): see
docs/operations.md.

The CLI calls :func:`restore` when a command ends, so running several commands in one process (tests)
does not leak one command's limits into the next.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable, Mapping

THREADS_ENV = "TOKCLI_THREADS"
MEMORY_ENV = "TOKCLI_MAX_MEMORY"
# Variables read by the thread pools of the libraries tokcli drives (set to the cap).
POOL_ENV = (
    "RAYON_NUM_THREADS",  # tokenizers (rayon)
    "RAYON_RS_NUM_CPUS",  # tokenizers before rayon 1.0 named it this way
    "OMP_NUM_THREADS",  # OpenMP, and Arrow's CPU pool
    "OPENBLAS_NUM_THREADS",  # numpy's OpenBLAS starts one thread per CPU on import
    "MKL_NUM_THREADS",
    "ARROW_IO_THREADS",  # Arrow's I/O pool (8 threads by default, whatever the CPU count)
    "POLARS_MAX_THREADS",
)

_saved_env: dict[str, str | None] = {}
_saved_rlimit: tuple[int, int] | None = None
memory_limit: int | None = None  # bytes, when --max-memory is in force (for the error message)


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def thread_cap(env: Mapping[str, str] | None = None) -> int | None:
    """The cap from ``TOKCLI_THREADS`` (None when unset, empty or 0: all CPUs). Anything but a whole number
    is a ConfigError naming the variable, for every command alike."""
    text = (os.environ if env is None else env).get(THREADS_ENV, "").strip()
    if not text:
        return None
    if not text.isdigit():
        from tokcli.errors import ConfigError

        raise ConfigError(
            f"{THREADS_ENV}={text[:40]!r}: not a number of threads",
            hint=f"set it to 0 (all CPUs) or more, or unset {THREADS_ENV}",
        )
    return int(text) or None


def useful_threads(threads: int) -> int:
    """``threads`` capped at the available CPUs: more threads than CPUs only make CPU-bound pools slower
    (a train with --threads 1000 ran 11-17x slower than with 2 on 2 CPUs)."""
    return max(1, min(threads, available_cpus()))


def cpu_budget() -> int:
    """Threads a run may use in total: the available CPUs, capped by ``TOKCLI_THREADS``."""
    cpus = available_cpus()
    cap = thread_cap()
    return min(cpus, cap) if cap is not None else cpus


def _set_env(name: str, value: str) -> None:
    if name not in _saved_env:
        _saved_env[name] = os.environ.get(name)
    os.environ[name] = value


def limit_threads(threads: int) -> None:
    """Cap every thread pool of this process and of the processes it starts at ``threads``."""
    if threads < 1:
        raise ValueError(f"threads must be >= 1, not {threads}")
    threads = useful_threads(threads)
    _set_env(THREADS_ENV, str(threads))
    for name in POOL_ENV:
        _set_env(name, str(threads))
    if threads == 1:
        _set_env("TOKENIZERS_PARALLELISM", "false")


def thread_limit_from(values: Iterable[object]) -> int | None:
    """The cap a run asks for: the smallest positive of its ``threads`` settings and ``TOKCLI_THREADS``."""
    found = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v > 0]
    cap = thread_cap()
    if cap is not None:
        found.append(cap)
    return min(found) if found else None


def set_memory_limit(limit: int) -> None:
    """Lower the soft address-space limit (``RLIMIT_AS``) to ``limit`` bytes."""
    global _saved_rlimit, memory_limit
    from tokcli.errors import ConfigError

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY and limit > hard:
        raise ConfigError(
            f"--max-memory {format_size(limit)} is above this process's hard limit ({format_size(hard)}, ulimit -Hv)",
            hint=f"give at most {format_size(hard)}",
        )
    if _saved_rlimit is None:
        _saved_rlimit = (soft, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    memory_limit = limit


def restore() -> None:
    """Undo :func:`limit_threads` and :func:`set_memory_limit` (the end of a CLI command)."""
    global _saved_rlimit, memory_limit
    for name, value in _saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _saved_env.clear()
    if _saved_rlimit is not None:
        resource.setrlimit(resource.RLIMIT_AS, _saved_rlimit)
        _saved_rlimit = None
    memory_limit = None


def format_size(n: int) -> str:
    """``2147483648`` -> ``2GiB``, ``1500000000`` -> ``1.5GB`` (what the user most likely typed)."""
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale}{unit}"
    for unit, scale in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.4g}{unit}"
    return f"{n}B"
