"""A counts part or a token shard is used only when its bytes are those its manifest (or done marker)
recorded: a part copied from another run was trained on silently."""

from __future__ import annotations

import shutil
from pathlib import Path

from rel_support import BPE, DATA, run_tokcli

from tokcli.errors import ExitCode


def _count(out: Path, *inputs: Path) -> None:
    proc = run_tokcli(["count", *map(str, inputs), "-o", str(out), "--partitions", "2"])
    assert proc.returncode == 0, proc.stderr


def test_train_and_infer_mixture_refuse_a_part_of_another_run(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    _count(a, DATA / "austen.txt")
    _count(b, DATA / "code")
    shutil.copy(b / "part-00001.parquet", a / "part-00001.parquet")  # same name, another run's words
    out = tmp_path / "tok.json"
    proc = run_tokcli(["train", "--from-counts", str(a), "--vocab-size", "500", "-o", str(out)])
    assert proc.returncode == ExitCode.ERROR and not out.exists()
    assert proc.stderr.count("\n") == 1 and "part-00001.parquet: does not match the checksum" in proc.stderr
    by_source = tmp_path / "src"
    proc = run_tokcli(["count", str(DATA / "austen.txt"), str(DATA / "code"), "--by", "source", "-o", str(by_source)])
    assert proc.returncode == 0, proc.stderr
    part = next(by_source.glob("part-*.parquet"))
    part.write_bytes(part.read_bytes()[:-1] + b"\0")  # one byte changed
    argv = ["infer-mixture", "-t", str(BPE), "--counts", str(by_source), "--merges", "200"]
    proc = run_tokcli(argv)
    assert proc.returncode == ExitCode.ERROR and "does not match the checksum" in proc.stderr, proc.stderr


def test_resume_refuses_a_shard_that_changed(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text((DATA / "austen.txt").read_text(encoding="utf-8") * 3, encoding="utf-8")
    out = tmp_path / "shards"
    argv = ["encode", "-t", str(BPE), str(corpus), "-o", f"{out}/", "--split-size", "50KB"]
    assert run_tokcli(argv).returncode == 0
    shard = out / "tokens-00001.bin"
    shard.write_bytes(shard.read_bytes()[::-1])  # same size, other ids
    (out / "manifest.json").unlink()  # as after an interrupted run
    proc = run_tokcli([*argv, "--resume"])
    assert proc.returncode == ExitCode.ERROR, proc.stderr
    assert "tokens-00001.bin: does not match the checksum" in proc.stderr and proc.stderr.count("\n") == 1
    assert run_tokcli(argv).returncode == 0  # without --resume every split is encoded again
