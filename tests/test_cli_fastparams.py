"""tokcli.cli.fastparams: values converted without pydantic are exactly Typer's (value or error message),
and a command run does not import pydantic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tokcli.cli.app import app
from tokcli.cli.commands import register
from tokcli.cli.fastparams import _Plain, install

FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")), deadline=None)
words = st.one_of(
    st.text(alphabet=st.sampled_from("0123456789-+._ eE١x"), max_size=8),
    st.text(max_size=6),
    st.sampled_from(["0", "-0", "007", "1.0", "1e3", "inf", "nan", " 7", "1_000", "-12", "3.25", ".5", "5."]),
)


def params() -> dict[str, Any]:
    """The click parameters of every command, by name, with the plain conversion installed."""
    register([])
    command = typer.main.get_command(app)
    install(command)
    found = {p.name: p for p in command.params}
    for sub in command.commands.values():  # type: ignore[attr-defined]
        found.update({p.name: p for p in sub.params})
    return found


PARAMS = params()
PLAIN = {name: p for name, p in PARAMS.items() if isinstance(p._runtime_param, _Plain)}


def convert(param: Any, value: Any, plain: bool) -> tuple[str, Any]:
    from typer._coercion import build_runtime_param

    runtime = param._runtime_param if plain else build_runtime_param(param.type_descriptor)
    try:
        return "ok", runtime.coerce(value, param=param, ctx=None)
    except typer.BadParameter as exc:
        return "error", exc.format_message()


def test_every_kind_is_covered() -> None:
    assert {p._runtime_param.kind for p in PLAIN.values()} == {"str", "int", "float", "bool", "list"}
    assert len(PLAIN) >= 40


@FUZZ
@given(name=st.sampled_from(sorted(PLAIN)), word=words)
@example(name="corpus__max_docs", word="1_000")
@example(name="train__character_coverage", word="1e-1")
def test_plain_conversion_equals_typers(name: str, word: str) -> None:
    param = PLAIN[name]
    kind = param._runtime_param.kind
    value: Any = {"bool": word.startswith("1"), "list": (word, word[::-1])}.get(kind, word)
    got, expected = convert(param, value, True), convert(param, value, False)
    assert repr(got) == repr(expected)  # nan too
    assert type(got[1]) is type(expected[1])


@pytest.mark.parametrize("value", [None, 3, 2.5, True, ()])
def test_values_that_are_already_typed(value: Any) -> None:
    for param in PLAIN.values():
        kind = param._runtime_param.kind
        fits = value is None or {"int": int, "float": float, "bool": bool, "list": tuple}.get(kind) is type(value)
        if fits:
            assert convert(param, value, True) == convert(param, value, False)


def test_a_command_run_does_not_import_pydantic(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from tokcli.cli.app import main\n"
        f"main(['-q', 'train', {str(Path(__file__).parent / 'data' / 'austen.txt')!r}, '--vocab-size', '300',"
        f" '--max-docs', '2', '-o', {str(tmp_path / 't.json')!r}])\n"
        "print('PYDANTIC=' + str('pydantic' in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "PYDANTIC=False"
