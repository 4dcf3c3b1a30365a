"""What every engine shares: the :class:`Engine` interface and how a task's TokcliError travels back to
the driver as plain data (its constructor takes a keyword hint, so it does not pickle as itself)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from tokcli.errors import TokcliError

T = TypeVar("T")
R = TypeVar("R")


def call_task(func: Callable[[T], R], item: T) -> tuple[bool, Any]:
    """Run one task; a TokcliError travels back as plain data (its constructor takes a keyword hint)."""
    try:
        return True, func(item)
    except TokcliError as exc:
        return False, (type(exc).__module__, type(exc).__qualname__, exc.message, exc.hint)


def unwrap_result(result: tuple[bool, Any]) -> Any:
    ok, value = result
    if ok:
        return value
    module, name, message, hint = value
    cls = getattr(importlib.import_module(module), name)
    exc = cls.__new__(cls)
    TokcliError.__init__(exc, message, hint=hint)
    raise exc


class Engine:
    """A started engine; use as a context manager (``with open_engine(scale) as engine``)."""

    name = "local"
    workers = 1
    address: str | None = None  # Ray: the cluster's GCS address

    def map(self, func: Callable[[T], R], items: Sequence[T]) -> Iterator[R]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        pass
