"""Feed a native trainer that reads *files* from Python, through an OS pipe, with no temporary file.

``tokenizers`` (``Tokenizer.train(files)``) and ``sentencepiece`` (``SentencePieceTrainer.train(input=...)``)
read their input files in native code without the GIL. :func:`train_through_pipe` runs such a call in a
daemon thread on ``/dev/fd/N``, the read end of a pipe, while the calling thread writes the corpus into
the other end: reading the corpus in Python and the native work overlap, nothing is written to disk and
the corpus is never held in memory by tokcli (the pipe holds at most :data:`PIPE_BUFFER` bytes).

Errors: a failure of the native call is re-raised in the calling thread; a failure while producing the
data (a bad input line, Ctrl-C) is raised at once, and the abandoned native call finishes on the input
it got, in its daemon thread, its result discarded. Writes are non-blocking, so neither side can leave
the other waiting forever.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable

PIPE_PATH = "/dev/fd" if os.path.isdir("/dev/fd") else None  # None: not available (use another feed)
PIPE_BUFFER = 1 << 20  # bytes; Linux raises the pipe's capacity to this when allowed (F_SETPIPE_SZ)


def train_through_pipe(
    train: Callable[[str], object], chunks: Iterable[bytes], on_input_end: Callable[[], None] | None = None
) -> None:
    """Call ``train(path)`` in a daemon thread, ``path`` naming a pipe that receives ``chunks``;
    ``on_input_end()`` is called once every chunk is written (the native call is still running)."""
    import select
    import threading

    if PIPE_PATH is None:
        raise RuntimeError("no /dev/fd on this platform")
    read_fd, write_fd = os.pipe()
    _grow_pipe(write_fd)
    failure: list[BaseException] = []

    def run() -> None:
        try:
            train(f"{PIPE_PATH}/{read_fd}")
        except BaseException as exc:  # re-raised by the caller's thread
            failure.append(exc)
        finally:
            os.close(read_fd)  # owned by this thread: the caller never closes it (no fd reuse race)

    thread = threading.Thread(target=run, name="tokcli-train", daemon=True)
    thread.start()
    try:
        os.set_blocking(write_fd, False)
        for chunk in chunks:
            data = memoryview(chunk)
            while data and thread.is_alive():
                if not select.select([], [write_fd], [], 0.2)[1]:
                    continue
                try:
                    data = data[os.write(write_fd, data) :]
                except BlockingIOError:
                    continue
                except BrokenPipeError:
                    break
            if not thread.is_alive():
                break  # the trainer stopped early (an error): nothing more to write
    finally:
        os.close(write_fd)  # end of input for the native reader
    if on_input_end is not None and thread.is_alive():
        on_input_end()
    while thread.is_alive():
        thread.join(0.2)  # short waits keep Ctrl-C responsive
    if failure:
        raise failure[0]


def _grow_pipe(fd: int) -> None:
    import fcntl

    set_size = getattr(fcntl, "F_SETPIPE_SZ", 1031)
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, set_size, PIPE_BUFFER)
