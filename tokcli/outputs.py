"""How a run writes its outputs, shared by every command that writes files (YAML ``run:``): the options,
the check that no output is one of the run's inputs or another of its outputs, and the output locks."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tokcli.errors import OutputError, UsageError
from tokcli.locks import output_lock, real_output_path


@dataclass(frozen=True)
class RunConfig:
    wait_lock: float = field(
        default=0.0,
        metadata={"help": "seconds to wait when another tokcli run is writing the same output (0: fail at once)"},
    )

    if_changed: bool = field(
        default=False,
        metadata={"help": "leave an output untouched (same mtime) when the new content is byte-identical"},
    )

    def __post_init__(self) -> None:
        if self.wait_lock < 0:
            raise ValueError("wait_lock must be >= 0")


def _is_path(value: str | None) -> bool:
    return value not in (None, "", "-") and not str(value).startswith("hf:")


def _identity(path: str) -> tuple[Path, tuple[int, int] | None]:
    """The real path of ``path`` and, when it exists, its (device, inode): hard links are one file too."""
    real = Path(os.path.realpath(path)) if os.path.exists(path) else real_output_path(path)
    try:
        info = os.stat(path)
    except OSError:
        return real, None
    return real, (info.st_dev, info.st_ino)


def _same(a: tuple[Path, tuple[int, int] | None], b: tuple[Path, tuple[int, int] | None]) -> bool:
    return a[0] == b[0] or (a[1] is not None and a[1] == b[1])


def _inside(output: Path, folder: str) -> bool:
    """Whether ``output`` is an existing file below the input folder ``folder`` (a corpus file a run would
    both read and overwrite)."""
    if not os.path.isdir(folder) or not output.is_file():
        return False
    return Path(os.path.realpath(folder)) in output.parents


def check_outputs(outputs: Mapping[str, str | None], inputs: Mapping[str, Iterable[str | None]]) -> None:
    """Refuse a run whose output is one of its inputs (compared by real path and by inode, so symlinks and
    hard links count), lies in an input folder as an existing file, or is another of its outputs.

    ``outputs``: option -> path (``-o``, ``--report``); ``inputs``: what -> paths (``corpus``, ``--tokenizer``).
    Checked before any work starts, so nothing is read, trained or truncated in vain."""
    seen: list[tuple[str, str, tuple[Path, tuple[int, int] | None]]] = []
    for option, path in outputs.items():
        if path is None or not _is_path(path) or (os.path.exists(path) and not os.path.isfile(path)):
            continue  # stdout, devices, pipes and folders (shard and count folders have their own checks)
        folder = Path(str(path)).parent
        if not folder.is_dir():  # found now, not after hours of training
            raise OutputError(
                f"cannot write {option} {path}: folder {folder} does not exist", hint="create it first"
            )
        ident = _identity(str(path))
        for other_option, other_path, other in seen:
            if _same(ident, other):
                raise UsageError(
                    f"{option} {path} and {other_option} {other_path} are the same file",
                    hint=f"give {option} and {other_option} different paths",
                )
        seen.append((option, str(path), ident))
        for what, paths in inputs.items():
            for source in paths:
                if source is None or not _is_path(source):
                    continue
                if (os.path.exists(source) and _same(ident, _identity(source))) or _inside(ident[0], source):
                    raise UsageError(
                        f"{option} {path} is also an input ({what} {source}): writing it would destroy the input",
                        hint=f"choose another {option} path",
                    )


def corpus_inputs(corpus: object) -> dict[str, list[str | None]]:
    """The paths a corpus config reads (its inputs and every mixture source's), for :func:`check_outputs`."""
    paths: list[str | None] = list(getattr(corpus, "inputs", ()))
    for source in getattr(corpus, "mix", ()):
        paths += list(source.paths)
    return {"corpus": paths}


@contextlib.contextmanager
def locked_outputs(
    paths: list[str | None], run: RunConfig, *, labels: list[str] | None = None,
    inputs: Mapping[str, Iterable[str | None]] | None = None,
) -> Iterator[None]:  # fmt: skip
    """Check the outputs against each other and the run's ``inputs``, then hold the advisory lock of every
    regular-file output for the whole run (exit 75 if held)."""
    names = labels or [f"output {i + 1}" for i in range(len(paths))]
    check_outputs(dict(zip(names, paths, strict=True)), inputs or {})
    with contextlib.ExitStack() as stack:
        for path in paths:
            if path in (None, "", "-"):
                continue
            target = Path(str(path))
            if target.exists() and not target.is_file():
                continue  # devices and pipes (/dev/stdout) are not locked
            if target.parent.is_dir():
                stack.enter_context(output_lock(target, wait=run.wait_lock))
        yield
