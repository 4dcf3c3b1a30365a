"""Config values checked against, and converted to, the types of the config dataclasses' fields.

Strings (environment variables, flags) are parsed: sizes (``50MB``), booleans (``yes``/``off``), lists
(``a,b`` or ``[a, b]``); a mapping becomes a nested section. A value that does not fit raises
:class:`~tokcli.errors.ConfigError` naming its key and where it came from.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from tokcli.config.keys import did_you_mean, normalise_key, shown
from tokcli.config.paths import check_output_inside, resolve_paths
from tokcli.config.sources import Origin
from tokcli.errors import ConfigError

T = TypeVar("T")

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_size(text: str) -> int:
    """``"50MB"`` -> 50_000_000, ``"1GiB"`` -> 2**30, ``"1234"`` -> 1234 (decimal and binary units)."""
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"not a size: {shown(text)} (use e.g. 500000, 50MB or 1GiB)")
    number, unit = match.group(1), (match.group(2) or "").lower()
    scale = (1 << (10 * "bkmgt".index(unit[0]))) if unit.endswith("ib") else _SIZE_UNITS[unit[:1]]
    return int(float(number) * scale)


# ---------------------------------------------------------------------------------------------------
# Field types


def section_fields(schema: type) -> dict[str, dataclasses.Field[Any]]:
    """The fields of a section dataclass that take a value (``init``), by name."""
    return {f.name: f for f in dataclasses.fields(schema) if f.init}


def field_types(schema: type) -> dict[str, Any]:
    """The resolved type of every field of ``schema`` (its annotations are strings)."""
    return typing.get_type_hints(schema)


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def optional_inner(tp: Any) -> tuple[bool, Any]:
    """(True, X) for ``X | None``, else (False, ``tp``)."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) < len(get_args(tp)) and len(args) == 1:
            return True, args[0]
    return False, tp


def describe_type(tp: Any) -> str:
    """A short human description of a field type, for errors and ``--help``."""
    optional, inner = optional_inner(tp)
    origin = get_origin(inner)
    if origin is Literal:
        text = " | ".join(str(a) for a in get_args(inner))
    elif origin is tuple:
        text = f"a list of {describe_type(get_args(inner)[0])}"
    elif inner is bool:
        text = "true or false"
    elif inner is int:
        text = "an integer"
    elif inner is float:
        text = "a number"
    elif inner is str:
        text = "a string"
    elif _is_dataclass_type(inner):
        text = f"a {inner.__name__} mapping"
    else:
        text = getattr(inner, "__name__", str(inner))
    return f"{text} or null" if optional else text


# ---------------------------------------------------------------------------------------------------
# Coercion: one step per kind of type; a step raises _Mismatch when the value does not fit


class _Mismatch(Exception):
    """The value does not fit; ``reason`` replaces the usual "expected ..., got ..." text."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason


_NULLS = ("", "none", "null")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def coerce(value: Any, tp: Any, *, key: str, origin: Origin, unit: str | None = None) -> Any:
    """Check ``value`` against the field type ``tp``; strings (env vars, flags) are parsed.

    Raises ConfigError naming ``key`` and ``origin`` when the value does not fit.
    """
    try:
        return _coerce_value(value, tp, key, origin, unit)
    except _Mismatch as mismatch:
        expected = "a size such as 50MB" if unit == "bytes" else describe_type(tp)
        detail = mismatch.reason or f"expected {expected}, got {shown(value)}"
        raise ConfigError(f"config key '{key}' ({origin.label}): {detail}") from None


def _coerce_value(value: Any, tp: Any, key: str, origin: Origin, unit: str | None) -> Any:
    optional, inner = optional_inner(tp)
    if value is None or (optional and isinstance(value, str) and value.strip().lower() in _NULLS):
        if optional:
            return None
        raise _Mismatch
    origin_type = get_origin(inner)
    if origin_type is Literal:
        return _to_choice(value, inner)
    if origin_type is tuple:
        return _to_tuple(value, inner, key, origin, unit)
    if _is_dataclass_type(inner):
        return _to_section(value, inner, key, origin)
    to_scalar = _SCALARS.get(inner)
    return value if to_scalar is None else to_scalar(value, unit)


def _to_choice(value: Any, literal: Any) -> Any:
    choices = get_args(literal)
    if value in choices:
        return value
    if isinstance(value, str):
        hint = did_you_mean(value, [str(c) for c in choices]).replace("valid keys", "choose one of")
        raise _Mismatch(f"{shown(value)} is not allowed; {hint}")
    raise _Mismatch


def _to_tuple(value: Any, tuple_type: Any, key: str, origin: Origin, unit: str | None) -> tuple[Any, ...]:
    """A list, a YAML flow list (``[a, b]``) or a comma-separated string; one item is a list of one."""
    (item_type,) = [a for a in get_args(tuple_type) if a is not Ellipsis]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            value = _flow_list(text, origin)
        else:
            value = [v for v in (p.strip() for p in text.split(",")) if v]
    elif not isinstance(value, list | tuple):
        value = [value]
    return tuple(coerce(v, item_type, key=f"{key}[{i}]", origin=origin, unit=unit) for i, v in enumerate(value))


def _flow_list(text: str, origin: Origin) -> list[Any]:
    """A YAML flow list given as text (``[a, b]`` in an environment variable or a flag)."""
    import yaml

    from tokcli.config import yaml_safe

    try:
        value = yaml_safe.load(text)
    except (yaml.YAMLError, yaml_safe.ConfigYamlError) as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _Mismatch(f"not a YAML list ({problem}): {shown(text)}") from None
    if not isinstance(value, list):
        raise _Mismatch(f"not a YAML list: {shown(text)}")
    return value


def _to_section(value: Any, schema: type, key: str, origin: Origin) -> Any:
    """A nested section: an instance as is, a string through ``schema.from_string``, or a mapping."""
    if isinstance(value, schema):
        return value
    if isinstance(value, str) and hasattr(schema, "from_string"):
        parsed = schema.from_string(value)
        changes = {
            f.name: resolve_paths(getattr(parsed, f.name), origin.base_dir, f.metadata["path"])
            for f in dataclasses.fields(schema)
            if f.metadata.get("path")
        }
        return dataclasses.replace(parsed, **changes) if changes else parsed
    if isinstance(value, Mapping):
        return build_section(schema, dict(value), key_prefix=key, origin=origin)
    raise _Mismatch


def _to_bool(value: Any, unit: str | None) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Mismatch


def _to_int(value: Any, unit: str | None) -> int:
    """An integer; a string may be a size (``unit="bytes"``: ``50MB``) or use ``_`` separators."""
    if isinstance(value, bool):
        raise _Mismatch
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return parse_size(value) if unit == "bytes" else int(value.strip().replace("_", ""))
        except ValueError:
            raise _Mismatch from None
    raise _Mismatch


def _to_float(value: Any, unit: str | None) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise _Mismatch from None
    raise _Mismatch


def _to_str(value: Any, unit: str | None) -> str:
    if isinstance(value, str):
        return value
    raise _Mismatch


_SCALARS: dict[Any, Callable[[Any, str | None], Any]] = {bool: _to_bool, int: _to_int, float: _to_float, str: _to_str}


# ---------------------------------------------------------------------------------------------------
# Fields and sections


def coerce_field(field: dataclasses.Field[Any], tp: Any, value: Any, key: str, origin: Origin) -> Any:
    """One field's value: coerced to ``tp``, its paths resolved against a YAML file's folder, and its
    outputs checked to stay inside it (fields with ``metadata["path"]``/``["output"]``)."""
    value = coerce(value, tp, key=key, origin=origin, unit=field.metadata.get("unit"))
    if field.metadata.get("path"):
        value = resolve_paths(value, origin.base_dir, field.metadata["path"])
    if field.metadata.get("output") and origin.base_dir is not None:
        for item in value if isinstance(value, tuple) else (value,):
            check_output_inside(item, key, origin)
    return value


def coerce_mapping(
    fields: Mapping[str, dataclasses.Field[Any]],
    hints: Mapping[str, Any],
    values: Mapping[str, Any],
    *,
    key_prefix: str,
    origin: Origin,
) -> dict[str, Any]:
    """The values of a mapping as a section's field names (``fields``) and types (``hints``); an unknown
    key is an error."""
    kwargs: dict[str, Any] = {}
    for raw_key, value in values.items():
        name = normalise_key(str(raw_key))
        if name not in fields:
            raise ConfigError(
                f"unknown config key '{key_prefix}.{raw_key}' ({origin.label})",
                hint=did_you_mean(name, fields),
            )
        kwargs[name] = coerce_field(fields[name], hints[name], value, f"{key_prefix}.{name}", origin)
    return kwargs


def instantiate(schema: type[T], kwargs: Mapping[str, Any], where: str) -> T:
    """``schema(**kwargs)``; a TypeError or ValueError of its checks becomes a ConfigError on ``where``."""
    try:
        return schema(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def build_section(schema: type[T], values: Mapping[str, Any], *, key_prefix: str, origin: Origin) -> T:
    """Instantiate ``schema`` from a mapping of (already merged) values, checking keys and types."""
    kwargs = coerce_mapping(section_fields(schema), field_types(schema), values, key_prefix=key_prefix, origin=origin)
    return instantiate(schema, kwargs, f"config section '{key_prefix}' ({origin.label})")
