"""The ``>>>`` examples of the public API's docstrings run as tests (from the repository root, where their
``tests/data`` paths point)."""

from __future__ import annotations

import doctest
import importlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = ["tokcli", "tokcli.api", "tokcli.corpus"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    module = importlib.import_module(name)
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert attempted > 0, f"{name} has no >>> examples"
    assert failures == 0


def test_the_public_api_is_lazy() -> None:
    """``import tokcli`` loads none of the commands' cores (``tokcli --help`` stays instant)."""
    import subprocess
    import sys

    code = "import sys, tokcli; print(sorted(m for m in sys.modules if m.startswith('tokcli')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout  # fmt: skip
    assert out.strip() == "['tokcli', 'tokcli.version']"


def test_every_public_name_resolves() -> None:
    import tokcli

    missing = [name for name in tokcli.__all__ if getattr(tokcli, name, None) is None]
    assert missing == []
    with pytest.raises(AttributeError):
        tokcli.no_such_name  # noqa: B018
