"""Files tokcli writes are files tokcli (and numpy) read: the suffix of -o decides or is checked."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rel_support import BPE, DATA, run_tokcli

from tokcli.errors import ExitCode

CORPUS = str(DATA / "austen.txt")


def test_npy_and_bin_suffixes_choose_the_binary_formats(tmp_path: Path) -> None:
    ids = run_tokcli(["encode", "-t", str(BPE), CORPUS, "-f", "ids"]).stdout.split()
    for name in ("x.npy", "x.bin"):
        out = tmp_path / name
        proc = run_tokcli(["encode", "-t", str(BPE), CORPUS, "-o", str(out)])
        assert proc.returncode == 0, proc.stderr
        index = json.loads((tmp_path / f"{name}.index.json").read_text())
        data = np.load(out) if name.endswith(".npy") else np.memmap(out, dtype=index["dtype"], mode="r")
        assert [int(i) for i in data] == [int(i) for i in ids]


@pytest.mark.parametrize(("name", "fmt"), [("x.npy", "ids"), ("x.bin", "tokens"), ("x.npy", "bin")])
def test_a_binary_suffix_with_another_format_is_refused(tmp_path: Path, name: str, fmt: str) -> None:
    proc = run_tokcli(["encode", "-t", str(BPE), CORPUS, "-o", str(tmp_path / name), "-f", fmt])
    assert proc.returncode == ExitCode.USAGE and proc.stderr.count("\n") == 1 and "--format" in proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("backend", "name"), [("spm-bpe", "spm.json"), ("hf-bpe", "hf.model")])
def test_train_refuses_a_suffix_of_the_other_library(tmp_path: Path, backend: str, name: str) -> None:
    proc = run_tokcli(["train", CORPUS, "--backend", backend, "--vocab-size", "300", "-o", str(tmp_path / name)])
    assert proc.returncode == ExitCode.USAGE and "name it" in proc.stderr and proc.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
