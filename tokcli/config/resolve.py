"""One command's configuration: every section from its defaults < YAML < environment < flags."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokcli.config.coerce import coerce_field, coerce_mapping, field_types, instantiate, section_fields
from tokcli.config.keys import did_you_mean, normalise_key
from tokcli.config.render import config_json, to_plain
from tokcli.config.sources import KNOWN_SECTIONS, Origin, env_value, read_yaml, yaml_section
from tokcli.errors import ConfigError

_Fields = Mapping[str, dataclasses.Field[Any]]  # a section's fields by name (section_fields)
_Hints = Mapping[str, Any]  # their types (field_types)


@dataclasses.dataclass(frozen=True)
class ResolvedConfig:
    """The sections of one command's configuration, after precedence was applied."""

    sections: dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.sections[name]

    def to_dict(self) -> dict[str, Any]:
        return {name: to_plain(value) for name, value in self.sections.items()}

    def to_json(self) -> bytes:
        """The config as ``--print-config`` prints it: indented JSON, sorted keys, a final newline."""
        return config_json(self.to_dict())


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
        _check_section_names(yaml_data, sections, config_path)
    resolved: dict[str, Any] = {}
    for name, schema in sections.items():
        fields, hints = section_fields(schema), field_types(schema)
        values = _yaml_values(name, fields, hints, yaml_section(yaml_data, name), yaml_origin)
        values.update(_env_values(name, fields, hints, env))
        values.update(_flag_values(name, fields, hints, cli.get(name, {}), labels))
        resolved[name] = instantiate(schema, values, f"config section '{name}'")
    return ResolvedConfig(resolved)


def _check_section_names(
    yaml_data: Mapping[str, Any], sections: Mapping[str, type], config_path: str | os.PathLike[str]
) -> None:
    """Every top-level key of the YAML file is a section of some command; a key of this command's
    sections written at the top level gets the hint to put it under its section."""
    known = set(KNOWN_SECTIONS) | set(sections)
    for raw in yaml_data:
        name = normalise_key(str(raw))
        if name in known:
            continue
        flat_owner = [s for s, schema in sections.items() if name in section_fields(schema)]
        hint = f"put it under the '{flat_owner[0]}:' section" if flat_owner else did_you_mean(name, known)
        raise ConfigError(f"unknown config section '{raw}' in {config_path}", hint=hint)


def _yaml_values(name: str, fields: _Fields, hints: _Hints, section_yaml: Any, origin: Origin) -> dict[str, Any]:
    """The values the YAML file gives section ``name`` (``section_yaml``: its mapping, or None)."""
    if section_yaml is not None and not isinstance(section_yaml, Mapping):
        raise ConfigError(
            f"config section '{name}' ({origin.label}) must be a mapping, not {type(section_yaml).__name__}"
        )
    return coerce_mapping(fields, hints, section_yaml or {}, key_prefix=name, origin=origin)


def _env_values(name: str, fields: _Fields, hints: _Hints, env: Mapping[str, str]) -> dict[str, Any]:
    """The values ``TOKCLI_<SECTION>_<KEY>`` or ``TOKCLI_<KEY>`` give section ``name``."""
    values: dict[str, Any] = {}
    for field_name, field in fields.items():
        env_hit = env_value(env, name, field_name)
        if env_hit is not None:
            var, text = env_hit
            values[field_name] = coerce_field(field, hints[field_name], text, f"{name}.{field_name}", Origin(var))
    return values


def _flag_values(
    name: str, fields: _Fields, hints: _Hints, flags: Mapping[str, Any], labels: Mapping[str, str]
) -> dict[str, Any]:
    """The values the given flags set in section ``name``, each labelled with its flag for errors."""
    values: dict[str, Any] = {}
    for field_name, value in flags.items():
        if field_name not in fields:
            raise ConfigError(f"internal: flag for unknown key '{name}.{field_name}'")
        label = labels.get(f"{name}.{field_name}", f"--{field_name.replace('_', '-')}")
        values[field_name] = coerce_field(
            fields[field_name], hints[field_name], value, f"{name}.{field_name}", Origin(label)
        )
    return values
