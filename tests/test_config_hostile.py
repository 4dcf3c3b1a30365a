"""Config input from a hostile or careless world: duplicate YAML keys, alias bombs, huge or multi-line
values, malformed environment variables and misspelt ones. Each is one error line (or one warning)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tokcli.cli.app import main
from tokcli.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
CORPUS = str(ROOT / "tests" / "data" / "austen.txt")
TOK = str(ROOT / "tests" / "data" / "tokenizers" / "bpe-bytelevel.json")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_duplicate_key_names_the_key_and_both_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(f"train:\n  vocab_size: 300\ncorpus:\n  inputs: [{CORPUS}]\ntrain:\n  vocab_size: 400\n")
    code, out, err = run(capsys, "train", "--config", str(config), "-o", str(tmp_path / "t.json"))
    assert code == ExitCode.ERROR and out == ""
    assert err == f"tokcli: error: {config}:5: duplicate key 'train' (lines 1 and 5); fix the YAML there\n"
    assert not (tmp_path / "t.json").exists()


def test_the_loader_is_yaml_s_safe_loader() -> None:
    import yaml

    from tokcli.config import yaml_safe

    assert issubclass(yaml_safe._loader_class(), yaml.SafeLoader)
    with pytest.raises(yaml.YAMLError):
        yaml_safe.load("!!python/object/apply:os.system ['true']")


def test_a_duplicate_key_inside_a_section(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("train:\n  vocab_size: 300\n  backend: hf-bpe\n  vocab-size: 400\n")
    code, _, err = run(capsys, "train", CORPUS, "--config", str(config), "-o", str(tmp_path / "t.json"))
    assert code == ExitCode.ERROR and "duplicate key" in err and "lines 2 and 4" in err


def test_anchors_and_merges_still_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("train: &t\n  vocab_size: &v 300\n  min_frequency: *v\n  backend: hf-bpe\n")
    code, out, err = run(capsys, "train", "--config", str(config), "--print-config")
    assert (code, err) == (0, "")
    resolved = json.loads(out)["train"]
    assert resolved["vocab_size"] == resolved["min_frequency"] == 300


BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
       f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]" for i in range(8)]
    + ["train:", "  special_tokens: *i"]
)  # fmt: skip


def test_an_alias_bomb_is_refused_quickly_and_in_little_memory(tmp_path: Path) -> None:
    """Bounded by the run's own limits, not a timing: 1 GiB of address space and a 60 s timeout (an
    expansion of the 9^9 items would exceed both)."""
    config = tmp_path / "bomb.yaml"
    config.write_text(BOMB)
    assert len(BOMB) < 1000
    proc = subprocess.run(
        [sys.executable, "-m", "tokcli", "train", CORPUS, "--config", str(config), "-o", str(tmp_path / "t.json")],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)),
    )  # fmt: skip
    assert proc.returncode == ExitCode.ERROR, proc.stderr
    assert proc.stderr.startswith(f"tokcli: error: {config}") and proc.stderr.count("\n") == 1
    assert len(proc.stderr) < 400


def test_a_huge_value_is_shown_cut(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("train:\n  vocab_size: '" + "9" * 5000 + "x'\n")
    code, _, err = run(capsys, "train", CORPUS, "--config", str(config), "-o", str(tmp_path / "t.json"))
    assert code == ExitCode.ERROR and err.count("\n") == 1 and len(err) < 400


def test_a_malformed_list_in_the_environment_names_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TOKCLI_TRAIN_SPECIAL_TOKENS", "[<s>, </s>\n  oops: [")
    code, _, err = run(capsys, "train", CORPUS, "-o", str(tmp_path / "t.json"))
    assert code == ExitCode.ERROR and err.count("\n") == 1
    assert "TOKCLI_TRAIN_SPECIAL_TOKENS" in err and "not a YAML list" in err


def test_a_misspelt_variable_is_a_warning_with_the_right_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKCLI_VOCAB_SIZ", "300")
    monkeypatch.setenv("TOKCLI_TRAIN_VOCAB_SIZE", "300")  # another command's setting: no warning for it
    code, _, err = run(capsys, "encode", "-t", TOK, CORPUS, "-f", "count")
    assert code == 0
    assert "tokcli: warning: TOKCLI_VOCAB_SIZ is not a tokcli setting and is ignored; did you mean" in err
    assert "TOKCLI_TRAIN_VOCAB_SIZE" not in err


def test_tokcli_format_is_the_output_format_not_the_input_format(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKCLI_FORMAT", "tokens")
    code, out, err = run(capsys, "encode", "-t", TOK, CORPUS)
    assert code == 0, err
    assert out.split("\n", 1)[0].split(" ")[0].isalpha()  # tokens, not ids
    monkeypatch.setenv("TOKCLI_INPUT_FORMAT", "jsonl")  # the corpus reader's format has its own name
    code, _, err = run(capsys, "encode", "-t", TOK, CORPUS)
    assert code == ExitCode.ERROR and "austen.txt" in err


def test_a_file_name_with_a_line_break_keeps_the_error_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "a\nb.txt"
    code, _, err = run(capsys, "encode", "-t", TOK, str(bad))
    assert code == ExitCode.ERROR and err.count("\n") == 1 and "a\\nb.txt" in err
