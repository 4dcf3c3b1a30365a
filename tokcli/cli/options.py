"""Generate Typer flags from the config dataclasses, so each option is declared once.

Every field of a command's config sections becomes a ``--kebab-case`` flag whose default is None
(meaning "not given"), so the precedence flag > env > YAML > default can be applied by
:func:`tokcli.config.resolve.resolve_config`. A field name shared by two sections (``seed``) is one flag
that sets both.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import sys
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args, get_origin

import typer

from tokcli.config.coerce import field_types, optional_inner, section_fields
from tokcli.config.resolve import ResolvedConfig, resolve_config
from tokcli.resources import thread_cap

log = logging.getLogger("tokcli")

PANEL_NAMES = {"corpus": "Corpus", "run": "Run", "scale": "Scale-out"}


@dataclasses.dataclass(frozen=True)
class _Flag:
    param: str  # Python parameter name in the generated signature
    targets: tuple[tuple[str, str], ...]  # (section, field) pairs this flag sets
    spelling: str  # --flag-name or ARGUMENT


def _cli_annotation(tp: Any, unit: str | None) -> tuple[Any, str, str]:
    """The annotation Typer parses the flag as, its metavar, and a choices text for --help."""
    _, inner = optional_inner(tp)
    if get_origin(inner) is Literal:
        choices = "|".join(str(c) for c in get_args(inner))
        return str | None, "CHOICE", choices
    if get_origin(inner) is tuple:
        return list[str] | None, "VALUE", ""
    if unit == "bytes":
        return str | None, "SIZE", ""
    metavars = {int: "N", float: "X", str: "TEXT", bool: ""}
    if inner in metavars:
        return inner | None, metavars[inner], ""
    return str | None, "TEXT", ""


def config_command(
    sections: Mapping[str, type],
    *,
    positional: str | None = None,
    short: Mapping[str, str] | None = None,
    rename: Mapping[str, str] | None = None,
    hidden: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command function taking ``config: ResolvedConfig``; adds the flags of ``sections``.

    ``positional`` names the ``section.field`` given as positional arguments (e.g. ``corpus.inputs``);
    ``short`` maps ``section.field`` to a short flag (``-o``); ``rename`` to another long flag
    (``corpus.format`` -> ``--input-format``, as ``--format`` picks the output format); ``hidden``
    lists ``section.field`` keys that get no flag (settable from YAML/env only).
    """
    spellings = _FlagSpellings(positional, short or {}, rename or {}, hidden)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        flags, params = _config_flags(sections, spellings)
        ordered = _signature(func, flags, params)
        wrapper = _command_wrapper(func, sections, flags)
        wrapper.__signature__ = inspect.Signature(ordered)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in ordered}
        return wrapper

    return decorate


@dataclasses.dataclass(frozen=True)
class _FlagSpellings:
    """How :func:`config_command` spells the flags of ``section.field`` keys."""

    positional: str | None
    short: Mapping[str, str]
    rename: Mapping[str, str]
    hidden: tuple[str, ...]

    def spelling(self, key: str, name: str) -> str:
        return "INPUT" if key == self.positional else self.rename.get(key, "--" + name.replace("_", "-"))


def _config_flags(
    sections: Mapping[str, type], spellings: _FlagSpellings
) -> tuple[dict[str, _Flag], list[inspect.Parameter]]:
    """One flag per field of ``sections`` (by spelling), and the keyword parameters Typer reads them from.

    A spelling shared by two sections (``--seed``) is one flag that sets every section that has it."""
    flags: dict[str, _Flag] = {}
    params: list[inspect.Parameter] = []
    for section, schema in sections.items():
        hints = field_types(schema)
        for name, field in section_fields(schema).items():
            key = f"{section}.{name}"
            if key in spellings.hidden:
                continue
            spelling = spellings.spelling(key, name)
            if spelling in flags:
                old = flags[spelling]
                flags[spelling] = dataclasses.replace(old, targets=(*old.targets, (section, name)))
                continue
            param = f"{section}__{name}"
            flags[spelling] = _Flag(param=param, targets=((section, name),), spelling=spelling)
            params.append(_flag_parameter(param, key, spelling, section, field, hints[name], spellings))
    return flags, params


def _flag_parameter(
    param: str,
    key: str,
    spelling: str,
    section: str,
    field: dataclasses.Field[Any],
    tp: Any,
    spellings: _FlagSpellings,
) -> inspect.Parameter:
    """The keyword parameter of one field: a Typer option (or the positional argument), default None."""
    annotation, metavar, choices = _cli_annotation(tp, field.metadata.get("unit"))
    help_text = _help_text(field, choices)
    if key == spellings.positional:
        info: Any = typer.Argument(None, help=help_text, show_default=False, metavar="INPUT")
    else:
        is_bool = annotation == (bool | None)
        decls = [f"{spelling}/--no-{spelling[2:]}" if is_bool else spelling]
        if key in spellings.short:
            decls.append(spellings.short[key])
        info = typer.Option(
            None,
            *decls,
            help=help_text,
            show_default=False,
            metavar=metavar or None,
            rich_help_panel=PANEL_NAMES.get(section, "Options"),
        )
    return inspect.Parameter(param, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=annotation)


def _help_text(field: dataclasses.Field[Any], choices: str) -> str:
    """The field's help, its choices and its default (the flag's own default is None: "not given")."""
    help_text = field.metadata.get("help", "")
    if choices:
        help_text = f"{help_text} [{choices}]"
    default = field.default if field.default is not dataclasses.MISSING else None
    if default not in (None, (), ""):
        help_text = f"{help_text}  [default: {str(default).lower() if isinstance(default, bool) else default}]"
    return help_text


def _signature(
    func: Callable[..., Any], flags: Mapping[str, _Flag], params: list[inspect.Parameter]
) -> list[inspect.Parameter]:
    """The command's parameters: its own (less ``config``), ``--config``/``--print-config`` and the flags;
    arguments first (Typer keeps declaration order)."""
    own = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in inspect.signature(func).parameters.values()
        if p.name != "config"
    ]
    clash = {p.name for p in own} & {flag.param for flag in flags.values()}
    if clash:
        raise RuntimeError(f"command parameters clash with config flags: {sorted(clash)}")
    common = [
        inspect.Parameter(
            "config_file",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(
                None, "--config", "-c", metavar="FILE", help="YAML config file", rich_help_panel="Config"
            ),
            annotation=str | None,
        ),
        inspect.Parameter(
            "print_config",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(
                False, "--print-config", help="print the resolved config as JSON and exit", rich_help_panel="Config"
            ),
            annotation=bool,
        ),
    ]
    return sorted(own + common + params, key=lambda p: 0 if isinstance(p.default, typer.models.ArgumentInfo) else 1)


def _command_wrapper(
    func: Callable[..., Any], sections: Mapping[str, type], flags: Mapping[str, _Flag]
) -> Callable[..., Any]:
    """The command Typer calls: resolves the config from the given flags, ``--config`` and the
    environment, then prints it (``--print-config``) or calls ``func(config=..., **own options)``."""
    labels = {f"{s}.{f}": flag.spelling for flag in flags.values() for s, f in flag.targets}

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        cli = _given_flags(flags, kwargs)
        config_file = kwargs.pop("config_file")
        print_config = kwargs.pop("print_config")
        thread_cap()  # TOKCLI_THREADS is checked first, the same way for every command
        resolved = resolve_config(sections, cli=cli, config_path=config_file, cli_labels=labels)
        _warn_unknown_variables(sections)
        _apply_thread_limit(resolved)
        if print_config:
            sys.stdout.buffer.write(resolved.to_json())
            sys.stdout.flush()
            raise typer.Exit(0)
        return func(config=resolved, **kwargs)

    return wrapper


def _warn_unknown_variables(sections: Mapping[str, type]) -> None:
    """One warning per ``TOKCLI_*`` variable no command reads (with the closest name tokcli knows)."""
    import os

    from tokcli.config.env_names import names_of, unknown_variables

    suspects = unknown_variables(os.environ, names_of(sections))
    if not suspects:
        return
    known = names_of(_all_sections())  # another command's variable is no mistake
    for var, close in unknown_variables({v: "" for v, _ in suspects}, known):
        hint = f"; did you mean {close}?" if close else ""
        log.warning("%s is not a tokcli setting and is ignored%s", var, hint)


def _all_sections() -> dict[str, type]:
    import importlib

    from tokcli.cli.commands import MODULES

    found: dict[str, type] = {}
    for module in set(MODULES.values()):
        cli_module = importlib.import_module(f"tokcli.cli.{module}")
        for name in dir(cli_module):
            if name.endswith("SECTIONS"):
                found.update(getattr(cli_module, name))
    return found


def _given_flags(flags: Mapping[str, _Flag], kwargs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Section -> field -> value of the flags the user gave, popped from ``kwargs`` (None or an empty
    list: not given)."""
    cli: dict[str, dict[str, Any]] = {}
    for flag in flags.values():
        value = kwargs.pop(flag.param, None)
        if value is None or (isinstance(value, list) and not value):
            continue
        for section, field_name in flag.targets:
            cli.setdefault(section, {})[field_name] = value
    return cli


def _apply_thread_limit(resolved: ResolvedConfig) -> None:
    """``--threads``/``TOKCLI_THREADS`` caps every pool of the run, set before any library starts one."""
    from tokcli.resources import limit_threads, thread_limit_from

    cap = thread_limit_from(getattr(section, "threads", None) for section in resolved.sections.values())
    if cap is not None:
        limit_threads(cap)


__all__ = ["CORPUS_RENAMES", "ResolvedConfig", "config_command"]

# `--format` is the output format of every command, so the corpus reader's input format is renamed.
CORPUS_RENAMES = {"corpus.format": "--input-format"}
