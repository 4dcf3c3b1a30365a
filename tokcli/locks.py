"""Advisory locks on output paths, so two cron runs writing the same file never interleave.

The lock is ``fcntl.flock`` on a sidecar file ``.<name>.lock`` next to the output, holding the owner's
PID for the error message. The sidecar is deliberately never deleted: unlinking a lock file while
another process waits on it lets two processes "hold" the lock at once (one on the old inode, one on
a new file). The kernel drops a flock when its holder dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from tokcli.errors import LockHeldError, OutputError


def lock_path_for(output: str | os.PathLike[str]) -> Path:
    path = Path(output)
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def output_lock(output: str | os.PathLike[str], *, wait: float = 0.0, poll: float = 0.1) -> Iterator[Path]:
    """Hold an exclusive lock for writing ``output``; wait up to ``wait`` seconds for another holder.

    Raises LockHeldError (exit code 75) naming the holder's PID when the lock is still held after
    ``wait`` seconds.
    """
    lock_path = lock_path_for(output)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(
            f"cannot create lock file {lock_path}: {exc.strerror}",
            hint="check that the output folder exists and is writable",
        ) from exc
    try:
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_pid(fd)
                    who = f"process {holder}" if holder else "another process"
                    raise LockHeldError(
                        f"{output} is being written by {who} (lock {lock_path})",
                        hint="wait for it to finish, or pass --wait-lock SECONDS",
                    ) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield lock_path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
