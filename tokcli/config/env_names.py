"""Which ``TOKCLI_*`` environment variables tokcli reads, and a warning for the others: a misspelt
variable in a crontab is otherwise silently ignored."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Mapping

from tokcli.config.sources import ENV_PREFIX, SHORTHAND_RENAMES, env_variable

# Read by the CLI itself or by the core, outside any command's config sections.
GLOBAL_NAMES = frozenset(
    {
        "TOKCLI_THREADS",
        "TOKCLI_MAX_MEMORY",
        "TOKCLI_TRACEBACK",
        "TOKCLI_LOG_FILE",
        "TOKCLI_LOG_FORMAT",
        "TOKCLI_CACHE_DIR",
        "TOKCLI_LOCK_DIR",
        "TOKCLI_WORKER_THREADS",  # set by tokcli for its own worker processes
    }
)


def names_of(sections: Mapping[str, type]) -> set[str]:
    """Every variable that sets a key of ``sections``: ``TOKCLI_<SECTION>_<KEY>`` and ``TOKCLI_<KEY>``."""
    names: set[str] = set()
    for section, schema in sections.items():
        for field in dataclasses.fields(schema):
            names.add(env_variable(section, field.name))
            short = SHORTHAND_RENAMES.get((section, field.name), field.name)
            names.add(f"{ENV_PREFIX}{short.upper()}")
    return names


def unknown_variables(env: Mapping[str, str], known: Iterable[str]) -> list[tuple[str, str | None]]:
    """(variable, closest known name or None) for every ``TOKCLI_*`` variable of ``env`` not in ``known``."""
    names = set(known) | GLOBAL_NAMES
    out = []
    for var in sorted(env):
        if var.startswith(ENV_PREFIX) and var not in names:
            close = difflib.get_close_matches(var, sorted(names), n=1, cutoff=0.75)
            out.append((var, close[0] if close else None))
    return out
