"""An output is never one of the run's inputs or another of its outputs (issue: `train c.jsonl -o c.jsonl`
exited 0 and destroyed the corpus). Real subprocesses; the input keeps its bytes, nothing is written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from rel_support import BPE, DATA, run_tokcli

from tokcli.errors import ExitCode


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "c.txt"
    shutil.copy(DATA / "austen.txt", path)
    return path


def _refused(proc: object, *, naming: str) -> None:
    assert proc.returncode == ExitCode.USAGE, proc.stderr  # type: ignore[attr-defined]
    err: str = proc.stderr  # type: ignore[attr-defined]
    assert err.startswith("tokcli: error: ") and err.count("\n") == 1 and naming in err, err


@pytest.mark.parametrize("spelling", ["same", "symlink", "hardlink", "dotted"])
def test_train_never_overwrites_its_corpus(corpus: Path, tmp_path: Path, spelling: str) -> None:
    before = corpus.read_bytes()
    out = {
        "same": corpus,
        "symlink": tmp_path / "link.txt",
        "hardlink": tmp_path / "hard.txt",
        "dotted": tmp_path / "." / corpus.name,
    }[spelling]
    if spelling == "symlink":
        out.symlink_to(corpus)
    elif spelling == "hardlink":
        os.link(corpus, out)
    proc = run_tokcli(["train", str(corpus), "--vocab-size", "300", "-o", str(out)], timeout=120)
    _refused(proc, naming="would destroy the input")
    assert corpus.read_bytes() == before


def test_encode_never_overwrites_its_tokenizer(tmp_path: Path, corpus: Path) -> None:
    tok = tmp_path / "tok.json"
    shutil.copy(BPE, tok)
    before = tok.read_bytes()
    proc = run_tokcli(["encode", "-t", str(tok), str(corpus), "-o", str(tok)], timeout=60)
    _refused(proc, naming="--tokenizer")
    assert tok.read_bytes() == before


def test_an_existing_file_in_an_input_folder_is_not_an_output(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(DATA / "austen.txt", folder / "a.txt")
    before = (folder / "a.txt").read_bytes()
    proc = run_tokcli(["train", str(folder), "--vocab-size", "300", "-o", str(folder / "a.txt")], timeout=120)
    _refused(proc, naming="would destroy the input")
    assert (folder / "a.txt").read_bytes() == before


def test_two_outputs_of_one_run_are_refused_by_name(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    proc = run_tokcli(["train", str(corpus), "--vocab-size", "300", "-o", str(out), "--report", str(out)], timeout=60)
    _refused(proc, naming="-o")
    assert "--report" in proc.stderr and "locked" not in proc.stderr
    assert not out.exists()


def test_a_new_output_next_to_the_inputs_is_fine(corpus: Path, tmp_path: Path) -> None:
    proc = run_tokcli(["train", str(corpus), "--vocab-size", "300", "-o", str(tmp_path / "tok.json")], timeout=120)
    assert proc.returncode == 0, proc.stderr
