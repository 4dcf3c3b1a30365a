"""encode / decode / compare through the CLI: stdout carries data only, exit codes, outputs."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tokcli.cli.app import main
from tokcli.errors import ExitCode

DATA = Path(__file__).parent / "data"
BPE = DATA / "tokenizers" / "bpe-bytelevel.json"
SPM = DATA / "tokenizers" / "spm-bpe-bytefallback.model"
UDHR = DATA / "parallel" / "udhr"


def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str | None = None
) -> tuple[int, str, str]:
    if stdin is not None:
        fake = io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")
        monkeypatch.setattr(sys, "stdin", fake)
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_encode_stdin_ids_match_the_library(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tokenizers import Tokenizer

    lines = ["Hello world", "", "Ça va? 1234567 🙂", "  two  spaces"]
    code, out, err = run(capsys, monkeypatch, "encode", "-t", str(BPE), stdin="\n".join(lines) + "\n")
    assert code == 0, err
    reference = Tokenizer.from_file(str(BPE))
    expected = [" ".join(map(str, reference.encode(line, add_special_tokens=False).ids)) for line in lines]
    assert out.splitlines() == expected  # one output line per input line, empty ones included


def test_encode_decode_round_trip(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    text = "Ünïcödé text\n日本語のテキスト\n  leading spaces and tabs\t\n"
    for tokenizer in (BPE, SPM):
        ids_file = tmp_path / "ids.txt"
        code, out, err = run(capsys, monkeypatch, "encode", "-t", str(tokenizer), "-o", str(ids_file), stdin=text)
        assert code == 0 and out == "", err
        code, out, err = run(capsys, monkeypatch, "decode", "-t", str(tokenizer), str(ids_file))
        assert code == 0, err
        assert out == text


def test_encode_count_total_on_stderr(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run(capsys, monkeypatch, "encode", "-t", str(BPE), "-f", "count", str(UDHR / "eng.jsonl"))
    assert code == 0
    counts = [int(x) for x in out.split()]
    assert len(counts) == 32 and all(c > 0 for c in counts)
    assert f"total: {sum(counts):,} tokens in 32 documents" in err


def test_encode_jsonl_passes_ids_through(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run(capsys, monkeypatch, "encode", "-t", str(SPM), "-f", "jsonl", str(UDHR / "fra.jsonl"))
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["id"] for r in records[:3]] == ["00", "01", "02"]
    assert all(r["n_tokens"] == len(r["ids"]) for r in records)


def test_encode_bin_shard(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out_file = tmp_path / "train.bin"
    code, out, err = run(
        capsys,
        monkeypatch,
        "encode",
        "-t",
        str(BPE),
        str(UDHR / "eng.jsonl"),
        "-f",
        "bin",
        "-o",
        str(out_file),
        "--eos",
        "0",
    )
    assert code == 0 and out == "", err
    ids = np.fromfile(out_file, dtype=np.uint16)
    index = json.loads((tmp_path / "train.bin.index.json").read_text(encoding="utf-8"))
    assert index["n_docs"] == 32 and index["n_tokens"] == ids.size
    assert int((ids == 0).sum()) >= 32  # an eos after every document


def test_encode_bin_needs_output(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run(capsys, monkeypatch, "encode", "-t", str(BPE), "-f", "bin", stdin="x\n")
    assert code == ExitCode.USAGE and out == "" and "-o/--output" in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("encode", "-t", "missing.json"), "no such tokenizer file"),
        (("encode", "-t", str(BPE), "missing.txt"), "missing.txt"),
        (("encode", "-t", str(DATA / "tokenizers" / "bpe-bytelevel.tiktoken")), "--pattern"),
        (("decode", "-t", str(BPE)), ""),
    ],
)
def test_encode_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...], needle: str
) -> None:
    code, out, err = run(capsys, monkeypatch, *argv, stdin="not ids\n")
    assert code == ExitCode.ERROR and out == ""
    assert err.count("\n") == 1 and err.startswith("tokcli: error: ") and needle in err


def test_compare_parallel_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    plot = tmp_path / "chart.svg"
    code, out, err = run(
        capsys, monkeypatch, "compare", "-t", f"bpe={BPE}", "-t", f"spm={SPM}", "--parallel", str(UDHR),
        "--format", "json", "--plot", str(plot),
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    rows = {(r["tokenizer"], r["corpus"]): r for r in doc["rows"]}
    assert len(rows) == 2 * 12
    assert rows[("bpe", "eng")]["premium"] == 1.0
    assert rows[("spm", "hin")]["premium"] > 1.0
    assert rows[("bpe", "cmn_hans")]["word_unit"] == "char"
    assert rows[("bpe", "eng")]["word_unit"] == "word"
    assert doc["meta"]["add_special_tokens"] is False and doc["meta"]["reference"] == "eng"
    assert {s["tokenizer"] for s in doc["summary"]} == {"bpe", "spm"}
    assert "<svg" in plot.read_text(encoding="utf-8")


def test_compare_rows_are_deterministic_jsonl(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ("compare", "-t", str(BPE), str(DATA / "austen.txt"), str(DATA / "code" / "python.jsonl"))
    first = run(capsys, monkeypatch, *argv)[1]
    second = run(capsys, monkeypatch, *argv)[1]
    strip = [{k: v for k, v in json.loads(line).items() if k != "mb_per_s"} for line in first.splitlines()]
    again = [{k: v for k, v in json.loads(line).items() if k != "mb_per_s"} for line in second.splitlines()]
    assert strip == again and [r["corpus"] for r in strip] == ["austen", "python"]
