"""Helpers for the reliability tests: run tokcli in a real subprocess and watch it from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data"
BPE = DATA / "tokenizers" / "bpe-bytelevel.json"
SPM = DATA / "tokenizers" / "spm-bpe-bytefallback.model"


def tokcli_env(**extra: str) -> dict[str, str]:
    """The test environment for a tokcli subprocess, without the test suite's TOKENIZERS_PARALLELISM."""
    env = {k: v for k, v in os.environ.items() if k != "TOKENIZERS_PARALLELISM" and not k.startswith("TOKCLI_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@dataclass
class Watched:
    returncode: int
    stdout: str
    stderr: str
    max_processes: int  # tokcli and its descendants, at once
    max_threads: int  # OS threads of all of them together, at once
    samples: int


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def process_tree(pid: int) -> list[int]:
    kids = _children()
    tree = [pid]
    for p in tree:
        tree.extend(kids.get(p, []))
    return tree


def watch(argv: list[str], tmp: Path, *, env: dict[str, str] | None = None, timeout: float = 120) -> Watched:
    """Run ``python -m tokcli ARGV`` and sample its process tree every few milliseconds until it exits.

    ``max_threads`` counts a number of threads only when two samples in a row see at least that many: a
    thread that a pool has joined can still be listed in /proc for a moment after the join returns (the
    kernel wakes the joiner before it unlists the task), so a sample taken just as sentencepiece replaces
    one single-thread pool by the next once saw 3 threads where 2 ever run. A real extra pool lives far
    longer than the ~5 ms between samples."""
    out, err = tmp / "watch.stdout", tmp / "watch.stderr"
    with open(out, "wb") as so, open(err, "wb") as se:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tokcli", *argv], stdout=so, stderr=se, env=env or tokcli_env(), cwd=tmp
        )
        deadline = time.monotonic() + timeout
        max_procs = max_threads = samples = previous = 0
        while proc.poll() is None:
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"tokcli {argv} ran longer than {timeout} s")
            tree = process_tree(proc.pid)
            max_procs = max(max_procs, len(tree))
            threads = sum(_threads(p) for p in tree)
            max_threads, previous = max(max_threads, min(previous, threads)), threads
            samples += 1
            time.sleep(0.005)
    return Watched(
        proc.returncode,
        out.read_text(encoding="utf-8"),
        err.read_text(encoding="utf-8"),
        max_procs,
        max_threads,
        samples,
    )


def run_tokcli(
    argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tokcli", *argv],
        capture_output=True,
        text=True,
        env=env or tokcli_env(),
        timeout=timeout,
        check=False,
    )
