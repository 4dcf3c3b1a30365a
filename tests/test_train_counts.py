"""``train --from-counts`` writes the same file as ``train`` on the raw corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokcli.cli.app import main
from tokcli.errors import ExitCode

DATA = Path(__file__).parent / "data"
CORPUS = (str(DATA / "austen.txt"), str(DATA / "code"), str(DATA / "parallel" / "udhr"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["-q", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("count_flags", "train_flags"),
    [
        (["--pretok", "gpt2"], ["--vocab-size", "900", "--special-tokens", "<|endoftext|>"]),
        (["--pretok", "cl100k"], ["--preset", "cl100k", "--vocab-size", "900"]),
        (
            ["--pretok", "llama3", "--by", "source"],
            ["--preset", "llama3", "--vocab-size", "900", "--min-frequency", "5"],
        ),
        (
            ["--pretok", "gpt2", "--digits", "rtl3", "--normalizer", "nfkc"],
            ["--digits", "rtl3", "--normalizer", "nfkc", "--vocab-size", "700", "--max-token-length", "6"],
        ),
        (["--pretok", "spm:nmt_nfkc"], ["--backend", "spm-bpe", "--vocab-size", "1800"]),
        (
            ["--pretok", "spm:identity", "--by", "source"],
            ["--backend", "spm-bpe", "--vocab-size", "2100", "--normalizer", "none", "--byte-fallback"],
        ),
    ],
)
def test_from_counts_equals_training_on_the_corpus(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, count_flags: list[str], train_flags: list[str]
) -> None:
    suffix = ".model" if "spm-bpe" in train_flags else ".json"
    direct, from_counts = tmp_path / f"direct{suffix}", tmp_path / f"counts{suffix}"
    code, _, err = run(capsys, "train", *CORPUS, *train_flags, "-o", str(direct))
    assert code == 0, err
    counts = tmp_path / "counts"
    code, _, err = run(capsys, "count", *CORPUS, *count_flags, "-o", str(counts), "--split-size", "40KB")
    assert code == 0, err
    code, out, err = run(capsys, "train", "--from-counts", str(counts), *train_flags, "-o", str(from_counts))
    assert code == 0, err
    assert from_counts.read_bytes() == direct.read_bytes()
    if suffix == ".model":
        assert from_counts.with_suffix(".vocab").read_bytes() == direct.with_suffix(".vocab").read_bytes()
    assert '"docs": 398' in out and '"stop_reason": "end"' in out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tokcli")]


@pytest.fixture(scope="module")
def gpt2_counts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("counts") / "gpt2"
    assert main(["-q", "count", str(DATA / "austen.txt"), "-o", str(out)]) == 0
    return out


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["--preset", "cl100k"], ExitCode.ERROR, "tokcli count --pretok cl100k"),
        (["--digits", "single"], ExitCode.ERROR, "--digits single"),
        (["--backend", "spm-bpe"], ExitCode.ERROR, "--pretok spm:nmt_nfkc"),
        (["--backend", "hf-unigram"], ExitCode.USAGE, "--from-counts trains hf-bpe and spm-bpe"),
        (["--superword-transition", "600"], ExitCode.USAGE, "--superword-transition"),
        ([str(DATA / "austen.txt")], ExitCode.USAGE, "both INPUT files and --from-counts"),
    ],
)
def test_from_counts_mismatches_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, gpt2_counts: Path, argv: list[str], code: int, words: str
) -> None:
    out = tmp_path / ("t.model" if "spm-bpe" in argv else "t.json")  # the suffix of the backend's file kind
    got, stdout, err = run(
        capsys, "train", "--from-counts", str(gpt2_counts), "--vocab-size", "800", *argv, "-o", str(out)
    )
    assert (got, stdout) == (code, "")
    assert err.count("\n") == 1 and words in err
    assert not out.exists()


def test_from_counts_needs_a_count_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "train", "--from-counts", str(tmp_path), "-o", str(tmp_path / "t.json"))
    assert code == ExitCode.ERROR and "no manifest.json" in err and "tokcli count" in err
