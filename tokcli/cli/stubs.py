"""Shared behaviour of commands whose implementation has not landed yet."""

from __future__ import annotations

from typing import NoReturn

from tokcli.errors import NotImplementedYetError


def not_implemented(command: str) -> NoReturn:
    raise NotImplementedYetError(
        f"'tokcli {command}' is not implemented yet in this version", hint="see the project's open issues"
    )
