"""``tokcli ... | head`` exits 0 quietly for every command and output format: the reader going away is
not an error (click turned EPIPE into a silent exit 1, which broke ``set -o pipefail`` scripts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rel_support import BPE, DATA, SPM, tokcli_env

TIKTOKEN = DATA / "tokenizers" / "bpe-bytelevel.tiktoken"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pipes") / "big.txt"
    lines = [ln for ln in (DATA / "austen.txt").read_text(encoding="utf-8").splitlines() if ln]
    path.write_text("".join(f"{line}\n" for _ in range(8) for line in lines), encoding="utf-8")
    return path  # ~0.5 MB: every output below is far larger than a pipe's buffer


def _read_one_byte_then_close(argv: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokcli", *argv],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=tokcli_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    if stdin is not None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(stdin)
            proc.stdin.close()
        except BrokenPipeError:
            pass
    first = proc.stdout.read(1)
    proc.stdout.close()  # `head -c 1`
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert first, err
    return subprocess.CompletedProcess(argv, proc.returncode, b"", err)


@pytest.mark.parametrize("fmt", ["ids", "tokens", "jsonl"])
@pytest.mark.parametrize(
    ("tokenizer", "engine"), [(BPE, "auto"), (BPE, "tokenizers"), (TIKTOKEN, "auto"), (SPM, "auto")]
)
def test_encode_into_a_closed_pipe(corpus: Path, tokenizer: Path, engine: str, fmt: str) -> None:
    argv = ["encode", "-t", str(tokenizer), str(corpus), "-f", fmt]
    if tokenizer == TIKTOKEN:
        argv += ["--pattern", "gpt2"]
    if engine != "auto":
        argv += ["--tokenizer-engine", engine]
    done = _read_one_byte_then_close(argv)
    assert (done.returncode, done.stderr) == (0, b"")


def test_decode_into_a_closed_pipe(corpus: Path) -> None:
    ids = subprocess.run(
        [sys.executable, "-m", "tokcli", "encode", "-t", str(BPE), str(corpus)],
        capture_output=True, env=tokcli_env(), timeout=120, check=True,
    ).stdout  # fmt: skip
    done = _read_one_byte_then_close(["decode", "-t", str(BPE)], stdin=ids)
    assert (done.returncode, done.stderr) == (0, b"")


def test_encode_from_a_pipe_into_a_closed_pipe(corpus: Path) -> None:
    done = _read_one_byte_then_close(["encode", "-t", str(BPE), "-f", "tokens"], stdin=corpus.read_bytes())
    assert (done.returncode, done.stderr) == (0, b"")


def test_compare_into_a_closed_pipe(corpus: Path) -> None:
    done = _read_one_byte_then_close(["compare", "-t", str(BPE), "-t", str(SPM), str(corpus), "-f", "jsonl"])
    assert (done.returncode, done.stderr) == (0, b"")
