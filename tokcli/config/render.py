"""A resolved config as plain data: JSON-ready values, and the JSON ``--print-config`` writes."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson


def to_plain(value: Any) -> Any:
    """Dataclasses, tuples and paths as JSON-ready dicts, lists and strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def config_json(plain: Mapping[str, Any]) -> bytes:
    """Plain config data as indented JSON with sorted keys and a final newline (``--print-config``)."""
    return orjson.dumps(plain, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
