"""Start-up: a command imports only its own module (tokcli.cli.commands); help still lists every command,
in the same order whatever ran before in the process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tokcli.cli.app import app, main
from tokcli.cli.commands import MODULES, VALUE_OPTIONS, command_of, register

ROOT = Path(__file__).parents[1]


def test_modules_name_every_command_and_value_options_every_global_option_with_a_value() -> None:
    import typer

    register([])
    assert {info.name for info in app.registered_commands} == set(MODULES)
    group = typer.main.get_command(app)
    with_value = {opt for p in group.params if not getattr(p, "is_flag", False) and not p.count for opt in p.opts}
    assert with_value == set(VALUE_OPTIONS)


@pytest.mark.parametrize(
    ("args", "command"),
    [
        (["train", "x.txt"], "train"),
        (["-q", "--log-file", "train", "encode"], "encode"),
        (["-qq", "--max-memory=8GB", "--log-format", "json", "infer-mixture"], "infer-mixture"),
        (["--help", "train"], None),
        (["-h"], None),
        ([], None),
        (["--version"], None),
    ],
)
def test_command_of(args: list[str], command: str | None) -> None:
    assert command_of(args) == command


def test_a_command_imports_only_its_module() -> None:
    probe = (
        "import sys\n"
        "from tokcli.cli.app import main\n"
        "assert main(['-q', 'train', '--print-config']) == 0\n"
        "print('LOADED=' + ','.join(sorted(m for m in sys.modules if m.startswith('tokcli.cli.') and m[11:] in "
        f"{sorted(set(MODULES.values()))!r})))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "LOADED=tokcli.cli.train"


def test_help_lists_commands_in_one_order(capsys: pytest.CaptureFixture[str]) -> None:
    probe = (
        "from tokcli.cli.app import main\n"
        "import sys\n"
        "first = sys.argv[1:]\n"
        "if first:\n"
        "    main(first)\n"
        "main(['--help'])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outputs = []
    for first in ([], ["train", "--help"], ["infer-mixture", "--help"]):
        result = subprocess.run(
            [sys.executable, "-c", probe, *first], capture_output=True, text=True, env=env, timeout=60
        )
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout[result.stdout.rindex("Usage: tokcli") :])
    assert outputs[0] == outputs[1] == outputs[2]
    listed = [line.split()[0] for line in outputs[0].split("Commands:")[1].strip().splitlines()]
    assert listed == list(MODULES)
    assert main(["--help"]) == 0
    assert capsys.readouterr().out.count("infer-mixture") == 1
