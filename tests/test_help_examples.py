"""Every command's ``--help`` ends with real examples, and every example runs (from a checkout, on the
data shipped in tests/data) with exit 0 under ``bash -o pipefail``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tokcli.cli.commands import MODULES

ROOT = Path(__file__).resolve().parents[1]


def _help(command: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "tokcli", command, "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=True)  # fmt: skip
    return proc.stdout


def _examples(command: str) -> list[str]:
    text = _help(command)
    assert "Examples" in text, f"tokcli {command} --help has no examples"
    return [line.strip()[2:] for line in text.split("Examples", 1)[1].splitlines() if line.strip().startswith("$ ")]


@pytest.mark.parametrize("command", sorted(MODULES))
def test_help_ends_with_two_to_four_examples_that_run(command: str, tmp_path: Path) -> None:
    found = _examples(command)
    assert 2 <= len(found) <= 4 and all(f"tokcli {command}" in e or command == "decode" for e in found), found
    (tmp_path / "tests").symlink_to(ROOT / "tests")  # the examples' paths, outputs written here
    launcher = tmp_path / "bin" / "tokcli"
    launcher.parent.mkdir()
    launcher.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m tokcli \"$@\"\n")
    launcher.chmod(0o755)
    env = {"PATH": f"{launcher.parent}:/usr/bin:/bin", "HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    env |= {"HF_DATASETS_OFFLINE": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for example in found:
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", example], cwd=tmp_path, capture_output=True,
                              text=True, env=env, timeout=300)  # fmt: skip
        assert proc.returncode == 0, f"{example}\n{proc.stderr}"
        assert proc.stdout or "-o " in example, example
