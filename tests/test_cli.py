"""The CLI spine: commands registered, exit codes, one-line errors, --print-config, lazy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tokcli import __version__
from tokcli.cli.app import main
from tokcli.errors import ExitCode

COMMANDS = ("train", "encode", "compare", "infer-mixture")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--help")
    assert code == 0
    for command in COMMANDS:
        assert command in out
    assert err == ""


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version") == (0, f"tokcli {__version__}\n", "")


def test_no_arguments_is_a_usage_error_with_help_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == ExitCode.USAGE
    assert out == ""
    assert "Commands" in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("train", "--no-such-flag"), "No such option: --no-such-flag"),
        (("frobnicate",), "No such command 'frobnicate'"),
        (("train", "--max-docs", "many"), "--max-docs"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], needle: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == ExitCode.USAGE
    assert out == ""
    assert err.startswith("tokcli: error: ")
    assert needle in err
    assert err.count("\n") == 1


def test_config_errors_exit_1_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "train", "--input-format", "xml", "--print-config")
    assert code == ExitCode.ERROR
    assert out == ""
    assert err.count("\n") == 1
    assert "corpus.format" in err and "--input-format" in err


def test_print_config_shows_precedence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("corpus:\n  max_docs: 10\n  skip: 3\n  text_field: body\n", encoding="utf-8")
    monkeypatch.setenv("TOKCLI_CORPUS_SKIP", "4")
    code, out, err = run(capsys, "train", "a.txt", "--config", str(cfg), "--text-field", "content", "--print-config")
    assert code == 0, err
    resolved = json.loads(out)["corpus"]
    assert resolved["inputs"] == ["a.txt"]
    assert resolved["max_docs"] == 10  # YAML
    assert resolved["skip"] == 4  # env over YAML
    assert resolved["text_field"] == "content"  # flag over YAML


def test_print_config_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "encode", "--print-config")[1]
    second = run(capsys, "encode", "--print-config")[1]
    assert first == second and json.loads(first)["corpus"]["text_field"] == "text"


def test_traceback_flag_shows_the_trace(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--traceback", "train", "--input-format", "xml")
    assert code == ExitCode.ERROR
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1].startswith("tokcli: error: ")


def test_traceback_env(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKCLI_TRACEBACK", "1")
    _, _, err = run(capsys, "train", "--input-format", "xml")
    assert "Traceback (most recent call last)" in err


def _subprocess(*argv: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    return subprocess.run(
        [sys.executable, "-m", "tokcli", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        **kwargs,  # type: ignore[call-overload]
    )


def test_python_dash_m_runs_and_exit_codes_propagate() -> None:
    ok = _subprocess("--version")
    assert ok.returncode == 0 and ok.stdout == f"tokcli {__version__}\n"
    bad = _subprocess("train", "--no-such-flag")
    assert bad.returncode == 2 and bad.stdout == ""


def test_help_does_not_import_heavy_libraries() -> None:
    probe = (
        "import sys\n"
        "from tokcli.cli.app import main\n"
        "for argv in (['--help'], ['train', '--help'], ['encode', '--help'], ['compare', '--help'],"
        " ['infer-mixture', '--help']):\n"
        "    assert main(argv) == 0\n"
        "heavy = [m for m in ('datasets', 'tokenizers', 'sentencepiece', 'scipy', 'tiktoken', 'pyarrow', 'numpy')"
        " if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "HEAVY="


def test_broken_pipe_is_not_an_error() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    cmd = f"{sys.executable} -m tokcli train --print-config | head -c 1"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, env=env, timeout=60)
    assert "Traceback" not in result.stderr
    assert result.stdout == "{"


def test_log_file_json_events(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    code, out, err = run(capsys, "--log-file", str(log), "--log-format", "json", "train", "--input-format", "xml")
    assert code == ExitCode.ERROR and out == ""
    assert err.startswith("tokcli: error: ")  # the terminal still gets the one line
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [e["event"] for e in events] == ["start", "error", "end"]
    assert events[0]["command"] == "train"
    assert "corpus.format" in events[1]["message"]
    assert events[2]["exit_code"] == 1 and events[2]["wall_s"] >= 0 and "max_rss_mb" in events[2]


def test_log_format_json_without_file_writes_json_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--log-format", "json", "train", "--input-format", "xml")
    assert code == ExitCode.ERROR and out == ""
    events = [json.loads(line) for line in err.splitlines()]
    assert [e["event"] for e in events] == ["start", "error", "end"]


def test_text_log_file_appends(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    run(capsys, "--log-file", str(log), "train", "--input-format", "xml")
    run(capsys, "--log-file", str(log), "train", "--input-format", "xml")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6
    assert sum("tokcli: error" in line for line in lines) == 2


def test_bad_log_format_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--log-format", "xml", "train")
    assert code == ExitCode.USAGE and "--log-format" in err


DATA = Path(__file__).parent / "data"
BPE_JSON = DATA / "tokenizers" / "bpe-bytelevel.json"
# every command with --threads, on the shipped fixtures; "{out}" is its output file (else: stdout)
THREADED = {
    "train": ["train", str(DATA / "austen.txt"), "--vocab-size", "300", "-o", "{out}.json"],
    "encode": ["encode", "-t", str(BPE_JSON), str(DATA / "austen.txt"), "-o", "{out}.txt"],
    "compare": ["compare", "-t", str(BPE_JSON), str(DATA / "austen.txt"), "-f", "json"],
    "infer-mixture": [
        "infer-mixture", "-t", str(BPE_JSON), "--category", f"prose={DATA / 'austen.txt'}",
        "--category", f"python={DATA / 'code' / 'python.jsonl'}", "--merges", "50", "--no-cache",
    ],
}  # fmt: skip


@pytest.mark.parametrize("command", sorted(THREADED))
def test_threads_zero_means_all_cpus_and_a_negative_count_is_refused(
    command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TOKCLI_THREADS=0 (as --threads 0) is "all CPUs" for every command; train and infer-mixture once
    refused it (train.threads must be >= 1), so a cron job exporting it for encode could not train."""
    argv = [a.replace("{out}", str(tmp_path / "out")) for a in THREADED[command]]
    monkeypatch.setenv("TOKCLI_THREADS", "0")
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    output = next((Path(a) for a in argv if a.startswith(str(tmp_path))), None)
    assert out if output is None else output.stat().st_size > 0
    if output is not None:
        output.unlink()
    monkeypatch.delenv("TOKCLI_THREADS")
    code, out, err = run(capsys, *argv, "--threads", "-1")
    assert code != 0 and out == ""
    assert err.count("\n") == 1 and "threads must be 0 (all CPUs) or more" in err, err
    assert output is None or not output.exists()
