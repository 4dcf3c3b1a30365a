"""Advisory locks on output paths, so two cron runs writing the same file never interleave.

The lock is ``fcntl.flock`` on a lock file in the user's own lock folder, never next to the output (no
``.X.lock`` litter in the user's folders, and nothing another user planted there is ever opened): one
file per output, named by the SHA-256 of the output's real path (its folder resolved, so two spellings
of one output share a lock). The folder is ``$TOKCLI_LOCK_DIR``, else ``$XDG_RUNTIME_DIR/tokcli-locks``,
else ``locks/`` in the user cache (:mod:`tokcli.cache`), created ``0700``.

A lock file is opened without following symlinks (``O_NOFOLLOW``), must be a regular file owned by the
user, and is never truncated before its flock is held (then it holds the owner's PID for the error
message). It is deliberately never deleted: unlinking a lock file while another process waits on it lets
two processes "hold" the lock at once (one on the old inode, one on a new file). The kernel drops a flock
when its holder dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from tokcli.errors import LockHeldError, OutputError

LOCK_DIR_ENV = "TOKCLI_LOCK_DIR"


def lock_dir() -> Path:
    """The user's lock folder (not created here)."""
    explicit = os.environ.get(LOCK_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit)
    runtime = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    if runtime and os.path.isabs(runtime) and os.access(runtime, os.W_OK | os.X_OK):
        return Path(runtime) / "tokcli-locks"
    from tokcli.cache import cache_dir

    return cache_dir() / "locks"


def real_output_path(output: str | os.PathLike[str]) -> Path:
    """``output`` with its folder resolved (the output itself may not exist yet, or be a symlink we replace)."""
    path = Path(output)
    return Path(os.path.realpath(path.parent if str(path.parent) else ".")) / path.name


def lock_path_for(output: str | os.PathLike[str]) -> Path:
    digest = hashlib.sha256(os.fsencode(real_output_path(output))).hexdigest()[:32]
    return lock_dir() / f"{digest}.lock"


def _open_lock_file(lock_path: Path, output: str | os.PathLike[str]) -> int:
    folder = lock_path.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise OutputError(
            f"cannot lock {output}: lock file {lock_path}: {exc.strerror}",
            hint=f"check {folder} (or set {LOCK_DIR_ENV} to a folder of your own)",
        ) from exc
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
        os.close(fd)
        raise OutputError(
            f"cannot lock {output}: {lock_path} is not a regular file of yours",
            hint=f"remove it, or set {LOCK_DIR_ENV} to a folder of your own",
        )
    return fd


@contextlib.contextmanager
def output_lock(output: str | os.PathLike[str], *, wait: float = 0.0, poll: float = 0.1) -> Iterator[Path]:
    """Hold an exclusive lock for writing ``output``; wait up to ``wait`` seconds for another holder.

    Raises LockHeldError (exit code 75) naming the holder's PID when the lock is still held after
    ``wait`` seconds.
    """
    lock_path = lock_path_for(output)
    fd = _open_lock_file(lock_path, output)
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
                        f"{output} is being written by {who}",
                        hint="wait for it to finish, or pass --wait-lock SECONDS",
                    ) from None
                time.sleep(poll)
        _write_pid(fd)
        try:
            yield lock_path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _write_pid(fd: int) -> None:
    """Our PID in the lock file we hold (only for the message a second run shows: a full disk is no error)."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
