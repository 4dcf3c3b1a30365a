"""Registers the subcommands on the app (one module per command), importing only the modules a run needs.

Start-up is part of every command's wall time: ``tokcli train ...`` imports ``tokcli.cli.train`` alone,
not the modules of compare, count, encode and infer-mixture (which bring numpy, the mixture LP and the
scale-out engine: ~0.1 s). Anything else (``tokcli``, ``tokcli --help``, an unknown command) imports
every module, so help lists every command. Commands are listed in :data:`MODULES` order whatever was
imported first (tests run several commands in one process).
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Sequence

# command name -> module under tokcli.cli that registers it, in the order `tokcli --help` lists them
MODULES = {
    "compare": "compare",
    "count": "count",
    "encode": "encode",
    "decode": "encode",
    "infer-mixture": "infer_mixture",
    "train": "train",
}
# Global options (tokcli.cli.application._global_options) that take a value: the word after them is not a command.
VALUE_OPTIONS = frozenset({"--log-file", "--log-format", "--max-memory"})
HELP_OPTIONS = frozenset({"-h", "--help"})


def command_of(args: Sequence[str]) -> str | None:
    """The subcommand ``args`` runs: the first word that is not a global option or its value; None
    when there is none or when help is asked before it (``tokcli --help train`` shows the app's help)."""
    at = _command_index(args)
    return None if at is None else args[at]


FLAG_OPTIONS = frozenset({"--quiet", "--traceback"})


def _command_index(args: Sequence[str]) -> int | None:
    """Where the subcommand is in ``args`` (see :func:`command_of`)."""
    i = 0
    while i < len(args):
        word = args[i]
        if word in HELP_OPTIONS or word == "--":
            return None
        if word in VALUE_OPTIONS:
            i += 1
        elif not word.startswith("-"):
            return i
        i += 1
    return None


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """Global options written after the subcommand (``tokcli train ... -q --log-file x``) moved in front
    of it, where click expects them; everything after ``--`` is left alone."""
    at = _command_index(args)
    if at is None:
        return list(args)
    moved: list[str] = []
    kept: list[str] = []
    rest = iter(args[at + 1 :])
    for word in rest:
        if word == "--":
            kept += [word, *rest]
            break
        if word in FLAG_OPTIONS or (word.startswith("-q") and set(word[1:]) == {"q"}):
            moved.append(word)
        elif word in VALUE_OPTIONS:
            moved += [word, *itertools.islice(rest, 1)]
        elif word.split("=", 1)[0] in VALUE_OPTIONS:
            moved.append(word)
        else:
            kept.append(word)
    return [*args[:at], *moved, args[at], *kept]


def register(args: Sequence[str]) -> None:
    """Import the command modules ``args`` needs (all of them unless it names a known command)."""
    from tokcli.cli.application import app

    command = command_of(args) or ""
    modules = [MODULES[command]] if command in MODULES else list(dict.fromkeys(MODULES.values()))
    for module in modules:
        importlib.import_module(f"tokcli.cli.{module}")
    order = list(MODULES)
    app.registered_commands.sort(key=lambda info: order.index(info.name) if info.name in order else len(order))
