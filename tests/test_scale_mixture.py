"""``infer-mixture --counts``: per-category counts from ``tokcli count --by source`` give the same
estimate as reading the categories' text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokcli.cli.app import main
from tokcli.errors import ExitCode

DATA = Path(__file__).parent / "data"
BPE = str(DATA / "tokenizers" / "bpe-bytelevel.json")
UDHR = DATA / "parallel" / "udhr"
FILES = [DATA / "austen.txt", DATA / "code" / "python.jsonl", UDHR / "eng.jsonl", UDHR / "fra.jsonl"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["-q", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("pretok", ["gpt2", BPE])
def test_counts_give_the_same_mixture_as_text(capsys: pytest.CaptureFixture[str], tmp_path: Path, pretok: str) -> None:
    common = ["infer-mixture", "-t", BPE, "--merges", "300", "--no-cache", "-f", "json"]
    categories = [f"--category={p.name.split('.')[0]}={p}" for p in FILES]
    code, text_out, err = run(capsys, *common, *categories)
    assert code == 0, err
    counts = tmp_path / "counts"
    code, _, err = run(capsys, "count", *map(str, FILES), "--by", "source", "--pretok", pretok, "-o", str(counts))
    assert code == 0, err
    code, counts_out, err = run(capsys, *common, "--counts", str(counts), "--threads", "2")
    assert code == 0, err
    from_text, from_counts = json.loads(text_out), json.loads(counts_out)
    assert from_counts["rows"] == from_text["rows"]
    assert {r["category"] for r in from_counts["rows"]} == {"austen", "python", "eng", "fra"}
    assert from_counts["meta"]["sample_bytes"] == from_text["meta"]["sample_bytes"]


@pytest.mark.parametrize(
    ("count_flags", "words"),
    [
        (["--pretok", "cl100k", "--by", "source"], "does not cut words as this tokenizer does"),
        (["--pretok", "gpt2"], "--by source"),
    ],
)
def test_counts_that_do_not_fit_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, count_flags: list[str], words: str
) -> None:
    counts = tmp_path / "counts"
    assert run(capsys, "count", *map(str, FILES[:2]), *count_flags, "-o", str(counts))[0] == 0
    code, out, err = run(capsys, "infer-mixture", "-t", BPE, "--counts", str(counts), "--no-cache")
    assert (code, out) == (ExitCode.ERROR, "")
    assert err.count("\n") == 1 and words in err
