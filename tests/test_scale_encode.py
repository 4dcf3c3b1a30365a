"""Sharded encode (-o DIR/): shards identical across workers, equal to ``encode -f bin``, resumable."""

from __future__ import annotations

import json
from array import array
from pathlib import Path

import pytest

from tokcli.cli.app import main
from tokcli.errors import ExitCode

DATA = Path(__file__).parent / "data"
BPE = str(DATA / "tokenizers" / "bpe-bytelevel.json")
SPM = str(DATA / "tokenizers" / "spm-bpe-bytefallback.model")
CORPUS = (str(DATA / "austen.txt"), str(DATA / "code"), str(DATA / "parallel" / "udhr"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def shards(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def concatenated(folder: Path) -> tuple[bytes, list[int]]:
    """All shards' ids and the document offsets, rebased to one array."""
    manifest = json.loads((folder / "manifest.json").read_text())
    data, offsets, base = b"", [0], 0
    for shard in manifest["shards"]:
        data += (folder / shard["bin"]).read_bytes()
        idx = array("Q", (folder / shard["idx"]).read_bytes())
        assert idx[0] == 0 and idx[-1] == shard["tokens"] and len(idx) == shard["docs"] + 1
        offsets += [base + o for o in idx[1:]]
        base += shard["tokens"]
    return data, offsets


@pytest.mark.parametrize("tokenizer", [BPE, SPM])
def test_shards_equal_the_single_file_and_do_not_depend_on_workers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tokenizer: str
) -> None:
    single = tmp_path / "one.bin"
    code, _, err = run(capsys, "encode", "-t", tokenizer, *CORPUS, "-f", "bin", "-o", str(single), "--eos", "0")
    assert code == 0, err
    index = json.loads(single.with_name("one.bin.index.json").read_text())
    seen = []
    for split_size, workers in [("30KB", "1"), ("30KB", "2"), ("1MB", "2")]:
        out = tmp_path / f"s-{split_size}-{workers}"
        argv = ["encode", "-t", tokenizer, *CORPUS, "-o", f"{out}/", "--eos", "0"]
        code, stdout, err = run(capsys, *argv, "--split-size", split_size, "--workers", workers)
        assert (code, stdout) == (0, ""), err
        assert (f"{workers} workers" if workers != "1" else "1 worker,") in err
        data, offsets = concatenated(out)
        assert data == single.read_bytes() and offsets == index["offsets"]
        if split_size == "30KB":
            seen.append(shards(out))
    assert seen[0] == seen[1] and len([n for n in seen[0] if n.endswith(".bin")]) >= 5


def test_resume_encodes_only_missing_splits(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "shards"
    argv = ["encode", "-t", BPE, *CORPUS, "-o", f"{out}/", "--split-size", "30KB"]
    assert run(capsys, *argv)[0] == 0
    complete = shards(out)
    # An interrupted run: no manifest, one split without its done marker and a truncated shard.
    (out / "manifest.json").unlink()
    (out / "tokens-00003.done").unlink()
    (out / "tokens-00003.bin").write_bytes(b"\0\0")
    (out / ".tokcli-tmp-leftover.part").write_bytes(b"x")
    code, _, err = run(capsys, *argv, "--resume")
    assert code == 0, err
    assert "(1 encoded now" in err
    assert shards(out) == complete
    # Other ids options invalidate every done marker; without --resume every split is redone.
    assert "(0 encoded now" in run(capsys, *argv, "--resume")[2]
    assert (
        f"({len([n for n in complete if n.endswith('.bin')])} encoded now"
        in run(capsys, *argv, "--resume", "--eos", "0")[2]
    )
    assert "encoded now" in run(capsys, *argv)[2]
    assert shards(out) == complete


def test_fewer_splits_remove_stale_shards(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "shards"
    assert run(capsys, "encode", "-t", BPE, *CORPUS, "-o", f"{out}/", "--split-size", "20KB")[0] == 0
    assert run(capsys, "encode", "-t", BPE, *CORPUS, "-o", f"{out}/", "--split-size", "100MB")[0] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    names = {p.name for p in out.iterdir()}
    expected = {f"tokens-{i:05d}.{s}" for i in range(len(manifest["shards"])) for s in ("bin", "idx", "done")}
    assert names == expected | {"manifest.json"}


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["-o", "{tmp}/s/", "-f", "ids"], ExitCode.USAGE, "--format ids"),
        (["-o", "{tmp}/x.bin", "-f", "bin", "--resume"], ExitCode.USAGE, "--resume"),
        (["-o", "{tmp}/s/", "--max-docs", "5"], ExitCode.USAGE, "--max-docs"),
        (["-o", "{tmp}/s/", "--engine", "tokenizers"], ExitCode.ERROR, "--tokenizer-engine tokenizers"),
    ],
)
def test_shard_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], code: int, words: str
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    got, stdout, err = run(capsys, "encode", "-t", BPE, *CORPUS, *argv)
    assert (got, stdout) == (code, "")
    assert err.count("\n") == 1 and words in err
    assert not (tmp_path / "s" / "manifest.json").exists()


@pytest.mark.parametrize("eos", [[], ["--eos", "0"]], ids=["no-eos", "eos"])
def test_shards_from_id_arrays_equal_the_list_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, eos: list[str]
) -> None:
    """Shards written from tiktoken's id arrays are byte for byte those of the list path."""
    from tokcli.encode import shards as scale_encode
    from tokcli.loading.hf import HFTokenizer

    real = HFTokenizer.encode_batch_array
    arrays_given = []

    def spy(self: HFTokenizer, texts: list[str], *, threads: int = 1) -> object:
        found = real(self, texts, threads=threads)
        arrays_given.append(found is not None)
        return found

    made = []
    for name, method in (("arrays", spy), ("lists", lambda self, texts, threads=1: None)):
        monkeypatch.setattr(HFTokenizer, "encode_batch_array", method)
        scale_encode._TOKENIZERS.clear()
        out = tmp_path / name
        argv = ["encode", "-t", BPE, *CORPUS, "-o", f"{out}/", "--split-size", "30KB", "--workers", "1", *eos]
        code, _, err = run(capsys, *argv)
        assert code == 0, err
        made.append(shards(out))
    assert arrays_given and all(arrays_given)
    assert made[0] == made[1] and len(made[0]) > 5
