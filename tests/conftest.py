"""Shared test setup: offline HF, caches in a temporary folder, paths to the shipped fixtures."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"

# A shell starts background jobs (`cmd &` without job control, nohup) with SIGINT ignored, and an ignored
# signal stays ignored in every child, so tokcli (rightly) would not react to the SIGINT the interruption
# tests send. Restore a handler here: children then start with the default disposition.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches the network or writes HF or tokcli caches outside a temporary folder, or sees
    TOKCLI_* vars."""
    cache = tmp_path_factory.getbasetemp() / "hf-cache"
    monkeypatch.setenv("HF_HOME", str(cache))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache / "datasets"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))  # count cache
    runtime = tmp_path_factory.getbasetemp() / "xdg-runtime"  # output locks (tokcli.locks)
    runtime.mkdir(mode=0o700, exist_ok=True)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    import os

    for name in list(os.environ):
        if name.startswith("TOKCLI_"):
            monkeypatch.delenv(name)


@pytest.fixture
def data_dir() -> Path:
    return DATA
