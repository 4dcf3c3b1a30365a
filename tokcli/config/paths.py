"""Paths in config values: relative paths of a YAML file resolved against its folder, and the check that
an output a YAML file names stays below that folder or the working directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tokcli.config.sources import Origin, env_variable
from tokcli.errors import ConfigError


def resolve_path(value: Any, base_dir: Path | None) -> Any:
    """A relative path string joined to ``base_dir``; ``-``, ``hf:...``, absolute, ``~`` and URLs as given."""
    if base_dir is None or not isinstance(value, str):
        return value
    if value == "-" or value.startswith(("hf:", "/", "~")) or "://" in value:
        return value
    return str(base_dir / value)


def resolve_spec(value: Any, base_dir: Path | None) -> Any:
    """``NAME=PATH`` (a tokenizer spec): resolve the PATH part; a bare path as usual."""
    if not isinstance(value, str):
        return value
    name, sep, rest = value.partition("=")
    if sep and name and rest and "/" not in name:
        return f"{name}={resolve_path(rest, base_dir)}"
    return resolve_path(value, base_dir)


def resolve_paths(value: Any, base_dir: Path | None, kind: Any = True) -> Any:
    """A path-valued field's value (one path or a tuple); ``kind`` is the field's ``metadata["path"]``
    (``"spec"``: tokenizer specs ``NAME=PATH``)."""
    resolve = resolve_spec if kind == "spec" else resolve_path
    if isinstance(value, tuple):
        return tuple(resolve(v, base_dir) for v in value)
    return resolve(value, base_dir)


def check_output_inside(value: Any, key: str, origin: Origin) -> None:
    """An output a YAML file names must lie below the file's folder or the working directory.

    Compared by real path: ``..``, absolute paths and symlinked folders inside those folders are all
    followed to where the file would really be written (a symlink ``configs/out -> /etc`` does not let
    ``output: out/x`` escape). The output itself may be a symlink: it is replaced, never written through."""
    if not isinstance(value, str) or value in ("", "-"):
        return
    assert origin.base_dir is not None
    path = os.path.abspath(os.path.expanduser(value))
    target = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
    roots = {os.path.realpath(str(origin.base_dir)), os.path.realpath(os.getcwd())}
    if any(os.path.commonpath([root, target]) == root for root in roots):
        return
    env = env_variable(key.split(".")[0], key.split(".")[-1])
    raise ConfigError(
        f"config key '{key}' ({origin.label}): output {value} is outside the config file's folder "
        f"({origin.base_dir}) and the current directory, so the config may not write it",
        hint=f"give this output on the command line or in {env} instead",
    )
