"""Typer parameter values without pydantic where the answer is plain.

Typer (0.2x) converts every parameter's value with a pydantic ``TypeAdapter``, built when the parameter
is processed, also when its flag was not given: importing pydantic and building an adapter for each of a
command's ~45 flags is ~0.1 s of CPU in every run (``tokcli train`` on a 50 MB corpus: ~2% of its wall
time). :func:`install` gives each parameter of the click command a conversion that returns what Typer's
would in the plain cases (no value; a flag's bool; a str for a str; ASCII digits for an int; a plain
decimal for a float; strs for a list of str) and hands every other value to Typer's own conversion,
built on first use, so values and error messages stay Typer's. It does nothing when Typer has no such
conversion step (other Typer versions).
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

_INT = re.compile(r"0|-?[1-9][0-9]*")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_SAME = {"str": (str,), "bool": (bool,), "int": (int,), "float": (float,), "list": ()}  # returned as they are


def _kind(annotation: Any) -> str | None:
    """``str``, ``int``, ``float``, ``bool`` or ``list`` (of str) for those types or Optional ones."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(inner) != 1:
            return None
        annotation = inner[0]
    if annotation in (str, int, float, bool):
        return str(annotation.__name__)
    if typing.get_origin(annotation) is list and typing.get_args(annotation) == (str,):
        return "list"
    return None


class _Plain:
    """A parameter's conversion: the plain cases here, the rest by Typer's (``build``, on first use)."""

    def __init__(self, kind: str, build: Any, descriptor: Any) -> None:
        self.kind, self._build, self._descriptor = kind, build, descriptor
        self._typer: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:
            return () if param.multiple or param.nargs == -1 else None
        kind, cls = self.kind, value.__class__
        if cls in _SAME[kind]:
            return value
        if kind == "int" and cls is str and _INT.fullmatch(value):
            return int(value)
        if kind == "float" and cls is str and _FLOAT.fullmatch(value):
            return float(value)
        if kind == "list" and cls in (list, tuple) and all(item.__class__ is str for item in value):
            return list(value)
        if self._typer is None:
            self._typer = self._build(self._descriptor)
        return self._typer.coerce(value, param=param, ctx=ctx)


def install(command: Any) -> None:
    """Give the parameters of ``command`` and of its subcommands the plain conversion (also the help
    option, which click creates when a command is run)."""
    try:
        from typer._coercion import build_runtime_param
    except ImportError:  # pragma: no cover - a Typer without pydantic conversion
        return
    for cmd in [command, *getattr(command, "commands", {}).values()]:
        for param in cmd.params:
            _plain(param, build_runtime_param)
        get_help_option = getattr(cmd, "get_help_option", None)
        if get_help_option is not None:

            def help_option(ctx: Any, get: Any = get_help_option) -> Any:
                option = get(ctx)
                if option is not None:
                    _plain(option, build_runtime_param)
                return option

            setattr(cmd, "get_help_option", help_option)  # noqa: B010  (an instance's own method)


def _plain(param: Any, build: Any) -> None:
    descriptor = getattr(param, "type_descriptor", None)
    if getattr(param, "_runtime_param", False) is not None or descriptor is None:
        return
    info = getattr(descriptor, "parameter_info", None)  # custom parsers and number ranges stay Typer's
    if getattr(descriptor, "file_annotation", None) is not None or any(
        getattr(info, name, None) is not None for name in ("parser", "click_type", "min", "max")
    ):
        return
    kind = _kind(getattr(descriptor, "annotation", None))
    if kind is not None:
        param._runtime_param = _Plain(kind, build, descriptor)
