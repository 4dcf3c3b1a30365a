"""Registers the subcommands on the app (one module per command), importing only the modules a run needs.

Start-up is part of every command's wall time: ``tokcli train ...`` imports ``tokcli.cli.train`` alone,
not the modules of compare, count, encode and infer-mixture (which bring numpy, the mixture LP and the
scale-out engine: ~0.1 s). Anything else (``tokcli``, ``tokcli --help``, an unknown command) imports
every module, so help lists every command. Commands are listed in :data:`MODULES` order whatever was
imported first (tests run several commands in one process).
"""

from __future__ import annotations

import importlib
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
    words = iter(args)
    for word in words:
        if word in HELP_OPTIONS or word == "--":
            return None
        if word in VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def register(args: Sequence[str]) -> None:
    """Import the command modules ``args`` needs (all of them unless it names a known command)."""
    from tokcli.cli.application import app

    command = command_of(args) or ""
    modules = [MODULES[command]] if command in MODULES else list(dict.fromkeys(MODULES.values()))
    for module in modules:
        importlib.import_module(f"tokcli.cli.{module}")
    order = list(MODULES)
    app.registered_commands.sort(key=lambda info: order.index(info.name) if info.name in order else len(order))
