"""Configuration loader shared by every command.

A command's configuration is a set of *sections*, each a frozen dataclass (``corpus`` ->
:class:`tokcli.corpus.options.CorpusConfig`, ``train`` -> ``TrainConfig``, ...). Values come from four places,
highest precedence first:

1. command-line flags (only the flags the user actually gave);
2. environment variables ``TOKCLI_<SECTION>_<KEY>`` (e.g. ``TOKCLI_CORPUS_MAX_DOCS``), or the shorthand
   ``TOKCLI_<KEY>`` (e.g. ``TOKCLI_THREADS``), which applies to every section of the command with that key;
3. the YAML file given with ``--config``: a mapping of section names to mappings of keys, e.g.
   ``{corpus: {max_bytes: 50MB}, train: {vocab_size: 32000}}``. One file may hold sections for several
   commands; a command reads the sections it uses. Relative paths in path-valued keys are resolved
   against the YAML file's folder, so a config means the same thing from any working directory.
   Output keys (fields with ``metadata["output"]``) named in a YAML file must stay below the file's
   folder or the current directory: a shared config cannot make tokcli write ``../../.bashrc``;
4. the dataclass defaults.

Unknown keys are rejected with their key path and a "did you mean" suggestion; every value is type
checked. YAML is parsed with ``yaml.safe_load`` only (no Python object tags).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from tokcli.errors import ConfigError

T = TypeVar("T")
ENV_PREFIX = "TOKCLI_"

# Section names a YAML file may contain (all commands'); a typo in a section name is an error.
KNOWN_SECTIONS = ("corpus", "train", "encode", "decode", "compare", "infer_mixture", "count", "run", "scale")

_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_size(text: str) -> int:
    """``"50MB"`` -> 50_000_000, ``"1GiB"`` -> 2**30, ``"1234"`` -> 1234 (decimal and binary units)."""
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 500000, 50MB or 1GiB)")
    number, unit = match.group(1), (match.group(2) or "").lower()
    scale = (1 << (10 * "bkmgt".index(unit[0]))) if unit.endswith("ib") else _SIZE_UNITS[unit[:1]]
    return int(float(number) * scale)


def normalise_key(key: str) -> str:
    """YAML keys and section names may use hyphens (``vocab-size``) or underscores."""
    return key.replace("-", "_")


def did_you_mean(word: str, choices: typing.Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or a list of valid choices."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "valid keys: " + ", ".join(choices)


@dataclasses.dataclass(frozen=True)
class Origin:
    """Where a value came from, for error messages: ``--vocab-size``, ``TOKCLI_...``, ``f.yaml: key``."""

    label: str
    base_dir: Path | None = None  # folder relative paths are resolved against (YAML files)


# ---------------------------------------------------------------------------------------------------
# Type checking and coercion


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _optional_inner(tp: Any) -> tuple[bool, Any]:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) < len(get_args(tp)) and len(args) == 1:
            return True, args[0]
    return False, tp


def describe_type(tp: Any) -> str:
    """A short human description of a field type, for errors and ``--help``."""
    optional, inner = _optional_inner(tp)
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


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def coerce(value: Any, tp: Any, *, key: str, origin: Origin, unit: str | None = None) -> Any:
    """Check ``value`` against the field type ``tp``; strings (env vars, flags) are parsed.

    Raises ConfigError naming ``key`` and ``origin`` when the value does not fit.
    """

    def fail(reason: str | None = None) -> typing.NoReturn:
        expected = "a size such as 50MB" if unit == "bytes" else describe_type(tp)
        detail = reason or f"expected {expected}, got {value!r}"
        raise ConfigError(f"config key '{key}' ({origin.label}): {detail}")

    optional, inner = _optional_inner(tp)
    if value is None or (optional and isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
        if optional:
            return None
        fail()
    origin_type = get_origin(inner)
    if origin_type is Literal:
        choices = get_args(inner)
        if value in choices:
            return value
        if isinstance(value, str):
            hint = did_you_mean(value, [str(c) for c in choices]).replace("valid keys", "choose one of")
            fail(f"{value!r} is not allowed; {hint}")
        fail()
    if origin_type is tuple:
        (item_type,) = [a for a in get_args(inner) if a is not Ellipsis]
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import yaml

                value = yaml.safe_load(text)
            else:
                value = [v for v in (p.strip() for p in text.split(",")) if v]
        elif not isinstance(value, list | tuple):
            value = [value]
        return tuple(coerce(v, item_type, key=f"{key}[{i}]", origin=origin, unit=unit) for i, v in enumerate(value))
    if _is_dataclass_type(inner):
        if isinstance(value, inner):
            return value
        if isinstance(value, str) and hasattr(inner, "from_string"):
            parsed = inner.from_string(value)
            changes = {
                f.name: _resolve_any(getattr(parsed, f.name), origin.base_dir, f.metadata["path"])
                for f in dataclasses.fields(inner)
                if f.metadata.get("path")
            }
            return dataclasses.replace(parsed, **changes) if changes else parsed
        if isinstance(value, Mapping):
            return build_section(inner, dict(value), key_prefix=key, origin=origin)
        fail()
    if inner is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        fail()
    if inner is int:
        if isinstance(value, bool):
            fail()
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return parse_size(value) if unit == "bytes" else int(value.strip().replace("_", ""))
            except ValueError:
                fail()
        fail()
    if inner is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                fail()
        fail()
    if inner is str:
        if isinstance(value, str):
            return value
        fail()
    return value


# ---------------------------------------------------------------------------------------------------
# Sections


def section_fields(schema: type) -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(schema) if f.init}


def field_types(schema: type) -> dict[str, Any]:
    return typing.get_type_hints(schema)


def _resolve_path(value: Any, base_dir: Path | None) -> Any:
    if base_dir is None or not isinstance(value, str):
        return value
    if value == "-" or value.startswith(("hf:", "/", "~")) or "://" in value:
        return value
    return str(base_dir / value)


def build_section(schema: type[T], values: Mapping[str, Any], *, key_prefix: str, origin: Origin) -> T:
    """Instantiate ``schema`` from a mapping of (already merged) values, checking keys and types."""
    fields = section_fields(schema)
    hints = field_types(schema)
    kwargs: dict[str, Any] = {}
    for raw_key, value in values.items():
        name = normalise_key(str(raw_key))
        if name not in fields:
            raise ConfigError(
                f"unknown config key '{key_prefix}.{raw_key}' ({origin.label})",
                hint=did_you_mean(name, fields),
            )
        kwargs[name] = _coerce_field(fields[name], hints[name], value, f"{key_prefix}.{name}", origin)
    try:
        return schema(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"config section '{key_prefix}' ({origin.label}): {exc}") from exc


def _resolve_spec(value: Any, base_dir: Path | None) -> Any:
    """``NAME=PATH`` (a tokenizer spec): resolve the PATH part; a bare path as usual."""
    if not isinstance(value, str):
        return value
    name, sep, rest = value.partition("=")
    if sep and name and rest and "/" not in name:
        return f"{name}={_resolve_path(rest, base_dir)}"
    return _resolve_path(value, base_dir)


def _resolve_any(value: Any, base_dir: Path | None, kind: Any = True) -> Any:
    resolve = _resolve_spec if kind == "spec" else _resolve_path
    if isinstance(value, tuple):
        return tuple(resolve(v, base_dir) for v in value)
    return resolve(value, base_dir)


def _coerce_field(field: dataclasses.Field[Any], tp: Any, value: Any, key: str, origin: Origin) -> Any:
    unit = field.metadata.get("unit")
    value = coerce(value, tp, key=key, origin=origin, unit=unit)
    if field.metadata.get("path"):
        value = _resolve_any(value, origin.base_dir, field.metadata["path"])
    if field.metadata.get("output") and origin.base_dir is not None:
        for item in value if isinstance(value, tuple) else (value,):
            _check_output_inside(item, key, origin)
    return value


def _check_output_inside(value: Any, key: str, origin: Origin) -> None:
    """An output a YAML file names must lie below the file's folder or the working directory.

    Lexical check (``..`` and absolute paths), as tokcli would write them; symlinks inside those
    folders are trusted, being the user's own."""
    if not isinstance(value, str) or value in ("", "-"):
        return
    assert origin.base_dir is not None
    target = os.path.normpath(os.path.abspath(os.path.expanduser(value)))
    roots = {os.path.normpath(str(origin.base_dir)), os.path.normpath(os.getcwd())}
    if any(os.path.commonpath([root, target]) == root for root in roots):
        return
    env = f"{ENV_PREFIX}{key.split('.')[0].upper()}_{key.split('.')[-1].upper()}"
    raise ConfigError(
        f"config key '{key}' ({origin.label}): output {value} is outside the config file's folder "
        f"({origin.base_dir}) and the current directory, so the config may not write it",
        hint=f"give this output on the command line or in {env} instead",
    )


# ---------------------------------------------------------------------------------------------------
# YAML files


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a config file with ``yaml.safe_load``; errors name the file, line and column."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {p} not found", hint="check the --config path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {p}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(p)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML ({problem})", hint="fix the syntax at that position") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{p}: the top level must be a mapping of sections (e.g. 'train:'), not {type(data).__name__}"
        )
    return data


# ---------------------------------------------------------------------------------------------------
# Resolution


@dataclasses.dataclass(frozen=True)
class ResolvedConfig:
    """The sections of one command's configuration, after precedence was applied."""

    sections: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.sections[name]

    def to_dict(self) -> dict[str, Any]:
        return {name: to_plain(value) for name, value in self.sections.items()}


def to_plain(value: Any) -> Any:
    """Dataclasses, tuples and paths as JSON-ready dicts, lists and strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def resolve_config(
    sections: Mapping[str, type],
    *,
    cli: Mapping[str, Mapping[str, Any]] | None = None,
    config_path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    cli_labels: Mapping[str, str] | None = None,
) -> ResolvedConfig:
    """Merge defaults < YAML < environment < flags into one instance per section.

    ``cli`` maps section -> field -> value for the flags the user gave; ``cli_labels`` maps
    ``section.field`` to the flag's spelling (``--vocab-size``) for error messages.
    """
    env = os.environ if env is None else env
    cli = cli or {}
    labels = cli_labels or {}
    yaml_data: dict[str, Any] = {}
    yaml_origin = Origin("defaults")
    if config_path is not None:
        yaml_data = read_yaml(config_path)
        yaml_origin = Origin(f"from {config_path}", base_dir=Path(config_path).resolve().parent)
        known = set(KNOWN_SECTIONS) | set(sections)
        for raw in yaml_data:
            if normalise_key(str(raw)) not in known:
                flat_owner = [s for s, schema in sections.items() if normalise_key(str(raw)) in section_fields(schema)]
                hint = (
                    f"put it under the '{flat_owner[0]}:' section"
                    if flat_owner
                    else did_you_mean(normalise_key(str(raw)), known)
                )
                raise ConfigError(f"unknown config section '{raw}' in {config_path}", hint=hint)

    resolved: dict[str, Any] = {}
    for name, schema in sections.items():
        fields = section_fields(schema)
        hints = field_types(schema)
        values: dict[str, Any] = {}
        section_yaml = _yaml_section(yaml_data, name)
        if section_yaml is not None and not isinstance(section_yaml, Mapping):
            raise ConfigError(
                f"config section '{name}' ({yaml_origin.label}) must be a mapping, not {type(section_yaml).__name__}"
            )
        for raw_key, value in (section_yaml or {}).items():
            field_name = normalise_key(str(raw_key))
            if field_name not in fields:
                raise ConfigError(
                    f"unknown config key '{name}.{raw_key}' ({yaml_origin.label})",
                    hint=did_you_mean(field_name, fields),
                )
            values[field_name] = _coerce_field(
                fields[field_name], hints[field_name], value, f"{name}.{field_name}", yaml_origin
            )
        for field_name, field in fields.items():
            env_hit = _env_value(env, name, field_name)
            if env_hit is not None:
                var, text = env_hit
                values[field_name] = _coerce_field(field, hints[field_name], text, f"{name}.{field_name}", Origin(var))
        for field_name, value in cli.get(name, {}).items():
            if field_name not in fields:
                raise ConfigError(f"internal: flag for unknown key '{name}.{field_name}'")
            label = labels.get(f"{name}.{field_name}", f"--{field_name.replace('_', '-')}")
            values[field_name] = _coerce_field(
                fields[field_name], hints[field_name], value, f"{name}.{field_name}", Origin(label)
            )
        try:
            resolved[name] = schema(**values)
        except ConfigError:
            raise
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"config section '{name}': {exc}") from exc
    return ResolvedConfig(resolved)


def _yaml_section(data: Mapping[str, Any], name: str) -> Any:
    for raw, value in data.items():
        if normalise_key(str(raw)) == name:
            return value
    return None


def _env_value(env: Mapping[str, str], section: str, field_name: str) -> tuple[str, str] | None:
    specific = f"{ENV_PREFIX}{section.upper()}_{field_name.upper()}"
    if specific in env:
        return specific, env[specific]
    shorthand = f"{ENV_PREFIX}{field_name.upper()}"
    if shorthand in env:
        return shorthand, env[shorthand]
    return None
