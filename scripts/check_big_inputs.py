"""Acceptance check for big inputs: each case must end in bounded time and memory with a clear result.

Cases (files are made in a temporary folder, removed afterwards):

* a 1 GB text file with no newline: stops at --max-line-bytes (default 256 MiB) naming the offset;
  with the guard raised and --max-memory 1GB, stops with the out-of-memory error instead;
* a 10 GB sparse file (all NUL bytes, no disk space) read as .txt, .jsonl and --doc-sep file;
* a folder of 1,000,000 tiny files (``--files N`` to change), encoded with ``-f count``; also the
  memory the eager list of InputFile objects would take (``resolve_inputs``, what the planner of the
  scale-out engine uses) for comparison.

Peak RSS is the child's ``ru_maxrss`` from ``os.wait4``. Prints one JSON object per case; the results
are recorded in docs/benchmarks.md ("Big inputs").

    .venv/bin/python scripts/check_big_inputs.py [--files 1000000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]
BPE = ROOT / "tests" / "data" / "tokenizers" / "bpe-bytelevel.json"


def run(argv: list[str], *, python: list[str] | None = None) -> dict[str, object]:
    """Run ``tokcli ARGV`` (or ``python -c``), returning exit code, wall time, peak RSS, stderr tail."""
    cmd = python or [sys.executable, "-m", "tokcli", *argv]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        out.seek(0)
        stderr = err.read().decode("utf-8", "replace").strip()
        stdout = out.read().decode("utf-8", "replace").strip()
    return {
        "exit": proc.returncode,
        "wall_s": round(time.monotonic() - started, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "stderr": stderr.splitlines()[-1][:300] if stderr else "",
        "stdout": stdout[-40:],
    }


def report(case: str, result: dict[str, object], expect_exit: int, must_contain: str) -> bool:
    ok = result["exit"] == expect_exit and must_contain in str(result["stderr"]) + str(result["stdout"])
    print(json.dumps({"case": case, "ok": ok, **result}), flush=True)
    return ok


def no_newline_file(folder: Path, size: int) -> Path:
    path = folder / "one-line.txt"
    block = (b"lorem ipsum dolor sit amet " * 40000)[: 1 << 20]
    with open(path, "wb") as handle:
        for _ in range(size >> 20):
            handle.write(block)
    return path


def sparse_file(folder: Path, name: str, size: int) -> Path:
    path = folder / name
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def many_files(folder: Path, count: int) -> Path:
    root = folder / "many"
    root.mkdir()
    for i in range(count):
        with open(root / f"doc{i:07d}.txt", "w", encoding="utf-8") as handle:
            handle.write(f"tiny document number {i}\n")
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_000_000, help="files in the many-files case")
    parser.add_argument("--keep", help="make the inputs in this folder and keep them")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="tokcli-big-"))
    folder.mkdir(parents=True, exist_ok=True)
    ok = True
    try:
        line = no_newline_file(folder, 1 << 30)
        encode = ["encode", "-t", str(BPE), "-f", "count", "--threads", "1"]
        ok &= report("1GB-no-newline", run([*encode, str(line)]), 1, "is longer than --max-line-bytes (256MiB)")
        oom = run(["--max-memory", "1GB", *encode, str(line), "--max-line-bytes", "4GiB"])
        ok &= report("1GB-no-newline-max-memory-1GB", oom, 1, "out of memory (limit 1GB")
        line.unlink()

        for name, extra in (("hole.txt", []), ("hole.jsonl", []), ("hole-file.txt", ["--doc-sep", "file"])):
            path = sparse_file(folder, name, 10 * 10**9)
            ok &= report(
                f"10GB-sparse {name} {' '.join(extra)}".strip(), run([*encode, str(path), *extra]), 1, "NUL byte"
            )
            path.unlink()

        started = time.monotonic()
        root = many_files(folder, args.files)
        print(json.dumps({"case": "made-files", "files": args.files, "wall_s": round(time.monotonic() - started, 1)}))
        result = run([*encode, str(root)])
        ok &= report(f"{args.files}-files-encode-count", result, 0, f"in {args.files} documents")
        eager = (
            "from tokcli.corpus.inputs import resolve_inputs; import sys;"
            f" print(len(resolve_inputs(({str(root)!r},), 'auto')))"
        )
        ok &= report(
            f"{args.files}-files-eager-list", run([], python=[sys.executable, "-c", eager]), 0, str(args.files)
        )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
