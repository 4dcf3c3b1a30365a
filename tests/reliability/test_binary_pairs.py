"""``encode -f bin|npy`` writes two files; a run killed between their renames never leaves a pair that
reads as something else, and ``decode`` reads the pair back. The kills land exactly in the window: the
run's ``os.replace`` is wrapped to SIGKILL the process just before or just after the data file's rename."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rel_support import BPE, DATA, ROOT, run_tokcli

from tokcli.errors import ExitCode

KILLED_AT = """
import os, signal, sys
real = os.replace
when, suffix = sys.argv[1], sys.argv[2]
def replace(src, dst, *a, **k):
    if str(dst).endswith(suffix) and when == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst, *a, **k)
    if str(dst).endswith(suffix) and when == "after":
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from tokcli.cli.app import main
sys.exit(main(sys.argv[3:]))
"""

OLD = DATA / "parallel" / "udhr" / "eng.jsonl"
NEW = DATA / "parallel" / "udhr" / "fra.jsonl"


def _texts(tokenizer: Path, corpus: Path) -> list[str]:
    ids = run_tokcli(["encode", "-t", str(tokenizer), str(corpus)]).stdout
    proc = subprocess.run([sys.executable, "-m", "tokcli", "decode", "-t", str(tokenizer)], input=ids,
                          capture_output=True, text=True, check=True, cwd=ROOT)  # fmt: skip
    return proc.stdout.splitlines()


@pytest.mark.parametrize("suffix", [".bin", ".npy"])
def test_decode_reads_back_what_encode_wrote(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"x{suffix}"
    assert run_tokcli(["encode", "-t", str(BPE), str(OLD), "-o", str(out), "--eos", "0"]).returncode == 0
    proc = run_tokcli(["decode", "-t", str(BPE), str(out)])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == _texts(BPE, OLD)


@pytest.mark.parametrize("suffix", [".bin", ".npy"])
@pytest.mark.parametrize("when", ["before", "after"])
def test_a_kill_between_the_two_renames(tmp_path: Path, suffix: str, when: str) -> None:
    out = tmp_path / f"x{suffix}"
    assert run_tokcli(["encode", "-t", str(BPE), str(OLD), "-o", str(out), "--eos", "0"]).returncode == 0
    argv = ["encode", "-t", str(BPE), str(NEW), "-o", str(out), "--eos", "0"]
    killed = subprocess.run([sys.executable, "-c", KILLED_AT, when, suffix, *argv], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert killed.returncode == -9
    proc = run_tokcli(["decode", "-t", str(BPE), str(out)])
    if when == "before":  # nothing of the new run was committed: the old pair, whole
        assert proc.returncode == 0 and proc.stdout.splitlines() == _texts(BPE, OLD)
    else:  # the new data beside the old index: refused, never decoded as the old documents
        assert proc.returncode == ExitCode.ERROR and proc.stdout == ""
        assert f"{out} does not match its index" in proc.stderr and proc.stderr.count("\n") == 1
    assert run_tokcli(argv).returncode == 0  # the next run writes a good pair again
    assert run_tokcli(["decode", "-t", str(BPE), str(out)]).stdout.splitlines() == _texts(BPE, NEW)


def test_decode_of_a_bin_without_its_index_or_of_binary_junk_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "x.bin"
    assert run_tokcli(["encode", "-t", str(BPE), str(OLD), "-o", str(out)]).returncode == 0
    (tmp_path / "x.bin.index.json").unlink()
    proc = run_tokcli(["decode", "-t", str(BPE), str(out)])
    assert proc.returncode == ExitCode.ERROR and proc.stderr == (
        f"tokcli: error: {out}: no index x.bin.index.json beside it; encode with -f bin or npy\n"
    )
    junk = tmp_path / "ids.txt"
    junk.write_bytes(b"12 34\n\x93\xff\xfe\n")
    proc = run_tokcli(["decode", "-t", str(BPE), str(junk)])
    assert proc.returncode == ExitCode.ERROR and proc.stderr.startswith(f"tokcli: error: {junk}: not UTF-8")
    assert "not UTF-8 text" in proc.stderr and proc.stderr.count("\n") == 1
