"""A worker process that dies (OOM killer, a Rust abort under --max-memory, kill -9) stops the run with
an error; the local pool never waits forever for the task it was running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rel_support import BPE, DATA, process_tree, tokcli_env

from tokcli.errors import ExitCode


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workers") / "corpus.txt"
    lines = [ln for ln in (DATA / "austen.txt").read_text(encoding="utf-8").splitlines() if ln]
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(360):  # ~25 MB: every run here is stopped long before its end
            handle.writelines(f"{i} {line}\n" for line in lines)
    return path


def _workers(driver: int) -> list[int]:
    found = []
    for pid in process_tree(driver)[1:]:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if b"spawn_main" in handle.read():
                    found.append(pid)
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start_with_workers(argv: list[str]) -> tuple[subprocess.Popen[str], list[int]]:
    """``tokcli ARGV`` started, once its worker processes are up and have had time to take a task."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokcli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=tokcli_env(),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not (workers := _workers(proc.pid)):
        assert proc.poll() is None and time.monotonic() < deadline, "no worker process appeared"
        time.sleep(0.05)
    time.sleep(0.3)  # let them take a task (and any other worker start)
    return proc, _workers(proc.pid) or workers


def _left_after(workers: list[int], seconds: float) -> list[int]:
    """The workers still running after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while (left := [w for w in workers if _alive(w)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_killed_worker_is_an_error_not_a_hang(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "counts"
    argv = ["count", str(corpus), "-o", str(out), "--workers", "2", "--split-size", "500KB"]
    proc, workers = _start_with_workers(argv)
    os.kill(workers[0], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=60)  # the old multiprocessing.Pool waited here forever
    assert proc.returncode == ExitCode.ERROR, stderr
    assert stderr.startswith("tokcli: error: a worker process died") and stderr.count("\n") == 1, stderr
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tokcli")]
    left = _left_after(workers, 10)
    assert left == [], "the other workers were not terminated"


@pytest.mark.parametrize("command", ["count", "infer-mixture"])
def test_workers_exit_when_the_driver_is_killed(command: str, corpus: Path, tmp_path: Path) -> None:
    """SIGKILL of the driver (kill -9, the OOM killer, a scheduler's time limit) leaves no worker behind:
    a ProcessPoolExecutor worker would finish its queued tasks and then wait forever for the next one."""
    if command == "count":
        argv = ["count", str(corpus), "-o", str(tmp_path / "counts"), "--workers", "2", "--split-size", "500KB"]
    else:
        argv = _mixture_argv(corpus, tmp_path)
    proc, workers = _start_with_workers(argv)
    proc.kill()
    proc.communicate(timeout=30)
    left = _left_after(workers, 10)
    assert left == [], "workers outlived the killed driver"
    assert not (tmp_path / "counts").exists()


INTERRUPTED = "tokcli: error: interrupted; no partial output was written\n"


def _mixture_argv(corpus: Path, tmp_path: Path) -> list[str]:
    categories = [f"c{k}={corpus}" for k in range(4)]
    argv = ["infer-mixture", "-t", str(BPE), "--merges", "300", "--cache-dir", str(tmp_path / "cache")]
    return argv + [a for c in categories for a in ("--category", c)] + ["--threads", "2", "--no-cache"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("command", ["count", "encode", "infer-mixture"])
def test_interrupted_local_run_stops_its_workers_and_writes_nothing(
    command: str, sig: signal.Signals, corpus: Path, tmp_path: Path
) -> None:
    """Exit 130 with exactly one line on stderr (nothing after it, however busy the machine), no output,
    no worker left. Stress: ``for i in $(seq 50); do pytest -q -x tests/reliability/test_workers.py -k
    interrupted || break; done`` beside a CPU load (docs/operations.md)."""
    out = tmp_path / "out"
    if command == "count":
        argv = ["count", str(corpus), "-o", str(out), "--workers", "2", "--split-size", "500KB"]
    elif command == "encode":
        argv = ["encode", "-t", str(BPE), str(corpus), "-o", f"{out}/", "--workers", "2", "--split-size", "500KB"]
        argv += ["--tokenizer-engine", "tokenizers"]
    else:
        argv = _mixture_argv(corpus, tmp_path)
    proc, workers = _start_with_workers(argv)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.INTERRUPTED, stderr
    assert stderr == INTERRUPTED
    if command == "count":
        assert not out.exists()
    elif command == "encode":  # finished shards may stay for --resume; without its manifest it is not finished
        assert not (out / "manifest.json").exists()
        assert not [p for p in out.iterdir() if p.name.startswith(".tokcli")]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tokcli-tmp")]
    left = _left_after(workers, 10)
    assert left == [], "workers outlived the interrupted run"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("command", ["train", "encode", "compare"])
def test_interrupted_threaded_run_says_one_line(
    command: str, sig: signal.Signals, corpus: Path, tmp_path: Path
) -> None:
    """The single-process commands that run thread pools (tokenizers' Rayon, tiktoken's, compare's)."""
    out = tmp_path / "out.bin"
    argv = {
        "train": ["train", str(corpus), "--vocab-size", "3000", "--threads", "2", "-o", str(tmp_path / "t.json")],
        "encode": ["encode", "-t", str(BPE), str(corpus), "--threads", "2", "-f", "bin", "-o", str(out)],
        "compare": ["compare", "-t", str(BPE), str(corpus), "--threads", "2", "-f", "json"],
    }[command]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tokcli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=tokcli_env(),
    )  # fmt: skip
    _wait_for_threads(proc.pid, 3)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.INTERRUPTED, stderr
    assert stderr == INTERRUPTED and stdout == ""
    assert list(tmp_path.iterdir()) == []  # no output, no temp file, no lock file


def _wait_for_threads(pid: int, count: int) -> None:
    """Until the process runs ``count`` threads or more (its pool has started working), then a little more."""
    deadline = time.monotonic() + 30
    while True:
        try:
            running = len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            running = 0
        if running >= count:
            break
        assert time.monotonic() < deadline, "the run never started its threads"
        time.sleep(0.02)
    time.sleep(0.3)


def test_any_broken_process_pool_is_the_same_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """infer-mixture's counting pool (ProcessPoolExecutor) raises BrokenProcessPool when a worker dies."""
    from concurrent.futures.process import BrokenProcessPool

    from tokcli.cli import app as cli_app

    def broken(**kwargs: object) -> None:
        raise BrokenProcessPool("A process in the process pool was terminated abruptly")

    monkeypatch.setattr(cli_app, "_register_commands", lambda args: None)
    monkeypatch.setattr(cli_app, "app", broken)
    assert cli_app.main(["infer-mixture"]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert err.startswith("tokcli: error: a worker process died") and err.count("\n") == 1
