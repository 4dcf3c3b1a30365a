"""Where config values come from: YAML files, ``TOKCLI_*`` environment variables, and their labels."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokcli.config import yaml_safe
from tokcli.config.keys import normalise_key
from tokcli.errors import ConfigError

ENV_PREFIX = "TOKCLI_"

# Section names a YAML file may contain (all commands'); a typo in a section name is an error.
KNOWN_SECTIONS = ("corpus", "train", "encode", "decode", "compare", "infer_mixture", "count", "run", "scale")


@dataclasses.dataclass(frozen=True)
class Origin:
    """Where a value came from, for error messages: ``--vocab-size``, ``TOKCLI_...``, ``f.yaml: key``."""

    label: str
    base_dir: Path | None = None  # folder relative paths are resolved against (YAML files)


def read_yaml(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a config file (:mod:`tokcli.config.yaml_safe`); errors name the file, line and column."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {p} not found", hint="check the --config path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {p}: {exc}") from None
    try:
        data = yaml_safe.load(text)
    except yaml_safe.ConfigYamlError as exc:
        where = f"{p}:{exc.line}" if exc.line is not None else str(p)
        raise ConfigError(f"{where}: {exc.problem}", hint="fix the YAML there") from None
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


def yaml_section(data: Mapping[str, Any], name: str) -> Any:
    """The value of section ``name`` in a parsed YAML file (hyphens or underscores), or None."""
    for raw, value in data.items():
        if normalise_key(str(raw)) == name:
            return value
    return None


# Keys whose shorthand variable is not TOKCLI_<KEY>: the corpus reader's ``format`` is the flag
# ``--input-format`` (``--format`` is every command's output format), so TOKCLI_FORMAT never sets it.
SHORTHAND_RENAMES = {("corpus", "format"): "input_format"}


def env_variable(section: str, field_name: str) -> str:
    """The environment variable of one key: ``TOKCLI_<SECTION>_<KEY>``."""
    return f"{ENV_PREFIX}{section.upper()}_{field_name.upper()}"


def env_value(env: Mapping[str, str], section: str, field_name: str) -> tuple[str, str] | None:
    """(variable, text) of the key ``section.field_name`` in ``env``: the section's own variable first,
    then the shorthand ``TOKCLI_<KEY>``; None when neither is set."""
    specific = env_variable(section, field_name)
    if specific in env:
        return specific, env[specific]
    shorthand = f"{ENV_PREFIX}{SHORTHAND_RENAMES.get((section, field_name), field_name).upper()}"
    if shorthand in env:
        return shorthand, env[shorthand]
    return None
