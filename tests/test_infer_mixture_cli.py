"""tokcli infer-mixture through the CLI: output formats and metadata, the count cache, YAML categories,
sentencepiece and tiktoken inputs, and one-line errors with exit codes (nothing on stdout on failure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokcli.cli.app import main
from tokcli.errors import ExitCode

DATA = Path(__file__).parent / "data"
BPE = DATA / "tokenizers" / "bpe-bytelevel.json"
RANKS = DATA / "tokenizers" / "bpe-bytelevel.tiktoken"
SPM = DATA / "tokenizers" / "spm-bpe-bytefallback.model"
PROSE = DATA / "austen.txt"
PYTHON = DATA / "code" / "python.jsonl"
UDHR = DATA / "parallel" / "udhr"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def categories() -> list[str]:
    udhr = UDHR / "eng.jsonl"
    return ["--category", f"prose={PROSE}", "--category", f"python={PYTHON}", "--category", f"udhr={udhr}"]


@pytest.mark.parametrize(
    "tokenizer", [[BPE], [RANKS, "--pattern", "gpt2"], [SPM]], ids=["tokenizer.json", "tiktoken", "sentencepiece"]
)
def test_json_output_has_rows_and_meta(capfd: pytest.CaptureFixture[str], tokenizer: list[object]) -> None:
    # capfd: file descriptor 1 itself holds only the JSON (HiGHS 1.16 prints a banner from C++ otherwise)
    argv = ["-t", *map(str, tokenizer), *categories(), "--merges", "300", "-f", "json"]
    code, out, err = run(capfd, "infer-mixture", *argv)
    assert code == ExitCode.OK, err
    data = json.loads(out)
    rows = data["rows"]
    assert [r["category"] for r in rows] and {r["category"] for r in rows} == {"prose", "python", "udhr"}
    assert sum(r["proportion"] for r in rows) == pytest.approx(1.0, abs=1e-6)
    assert [r["proportion"] for r in rows] == sorted((r["proportion"] for r in rows), reverse=True)
    meta = data["meta"]
    assert meta["merges_used"] == 300 and meta["solver"]["status"] == "optimal"
    assert meta["tokenizer"]["sha256"] and set(meta["sample_bytes"]) == {"prose", "python", "udhr"}
    assert all(v > 0 for v in meta["sample_bytes"].values())


def test_jsonl_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "infer-mixture", "-t", str(BPE), *categories(), "--merges", "200", "-f", "jsonl")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 3 and set(rows[0]) == {"category", "proportion"}
    code, out, err = run(capsys, "infer-mixture", "-t", str(BPE), *categories(), "--merges", "200", "-f", "markdown")
    assert code == 0 and out.startswith("| category | proportion |"), err


def test_count_cache_is_reused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    argv = ["infer-mixture", "-t", str(BPE), *categories(), "--merges", "200", "-f", "json", "--cache-dir", str(cache)]
    code, first, err = run(capsys, *argv)
    assert code == 0, err
    assert json.loads(first)["meta"]["cached"] == [] and any(cache.iterdir())
    code, second, err = run(capsys, *argv)
    assert code == 0, err
    again = json.loads(second)
    assert sorted(again["meta"]["cached"]) == ["prose", "python", "udhr"]
    assert again["rows"] == json.loads(first)["rows"]


def test_categories_from_yaml_with_text_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    records.write_text(
        "".join(json.dumps({"body": line}) + "\n" for line in PROSE.read_text().splitlines()[:400] if line)
    )
    config = tmp_path / "mix.yaml"
    config.write_text(
        "infer_mixture:\n"
        f"  tokenizer: {BPE}\n"
        "  merges: 200\n"
        "  categories:\n"
        "    - {name: prose, path: records.jsonl, text_field: body}\n"
        f"    - {{name: python, path: [{PYTHON}]}}\n"
    )
    code, out, err = run(capsys, "infer-mixture", "-c", str(config), "-f", "json")
    assert code == 0, err
    assert json.loads(out)["meta"]["sample_bytes"]["prose"] > 10_000


def test_categories_dir(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["-t", str(BPE), "--categories-dir", str(UDHR), "--merges", "200", "-f", "jsonl"]
    code, out, err = run(capsys, "infer-mixture", *argv)
    assert code == 0, err
    assert {json.loads(line)["category"] for line in out.splitlines()} == {p.stem for p in UDHR.glob("*.jsonl")}


def test_more_merges_than_the_tokenizer_has_warns(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "infer-mixture", "-t", str(BPE), *categories(), "--merges", "1000000", "-f", "json")
    assert code == 0, err
    meta = json.loads(out)["meta"]
    assert meta["merges_used"] == meta["merges_usable"] < 1_000_000
    assert "warning" in err and "using all of them" in err


def _unigram(tmp_path: Path) -> Path:
    import sentencepiece as spm

    out = tmp_path / "uni.model"
    with out.open("wb") as model:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter([line for line in PROSE.read_text().splitlines() if line]), model_writer=model,
            model_type="unigram", max_sentence_length=1 << 16,
            vocab_size=300, minloglevel=2,
        )  # fmt: skip
    return out


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--category", f"prose={PROSE}"], ExitCode.USAGE, "at least two categories"),
        (["--category", f"a={PROSE}", "--category", f"a={PYTHON}"], ExitCode.USAGE, "two categories are named 'a'"),
        (["--category", f"a={PROSE}", "--category", "b=/nonexistent/f.txt"], ExitCode.ERROR, "/nonexistent/f.txt"),
        (["--category", f"a={PROSE}", "--category", "nameless"], ExitCode.ERROR, "bad category 'nameless'"),
        (["--category", f"a={PROSE}", "--category", f"b={PYTHON}", "--merges", "0"], ExitCode.USAGE, "merges"),
        (["--category", f"a={PROSE}", "--category", f"b={PYTHON}", "--skip-merges", "999999", "--merges", "100"],
         ExitCode.USAGE, "skip_merges"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    got, out, err = run(capsys, "infer-mixture", "-t", str(BPE), "--no-cache", *argv)
    assert got == code, err
    assert out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert message in err and lines[0].startswith("tokcli: error:"), err


def test_empty_category_and_non_bpe_tokenizer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    argv = ["-t", str(BPE), "--category", f"a={PROSE}", "--category", f"b={empty}"]
    code, out, err = run(capsys, "infer-mixture", *argv)
    assert code == ExitCode.ERROR and out == "" and "empty.txt" in err
    code, out, err = run(capsys, "infer-mixture", "-t", str(_unigram(tmp_path)), *categories())
    assert code == ExitCode.ERROR and out == ""
    assert "unigram tokenizer" in err and "ordered merge list" in err
