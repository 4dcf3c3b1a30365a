"""Options about how a run writes its outputs, shared by every command that writes files (YAML ``run:``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tokcli.locks import output_lock


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


@contextlib.contextmanager
def locked_outputs(paths: list[str | None], run: RunConfig) -> Iterator[None]:
    """Hold the advisory lock of every regular-file output for the whole run (exit 75 if held)."""
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
