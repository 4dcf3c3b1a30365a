"""Run ``tokcli infer-mixture`` on published tokenizer files, as a user would.

Tokenizers: every ``tokenizer.json`` / ``*.model`` / ``*.tiktoken`` under ../shared/reference/tokenizers,
plus any paths given with -t. Categories: a few languages, code and domains of ../shared/corpora
(--sample-mb each). Prints, per tokenizer, the proportions and the solver's status, objective and time;
exit 1 if a run fails. Skips with exit 0 when there is no published file or no corpus.

    python scripts/check_published_mixture.py [--merges 3000] [--sample-mb 3] [-t PATH ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CATEGORIES = {
    "en": ["lang/en.jsonl"],
    "de": ["lang/de.jsonl"],
    "fr": ["lang/fr.jsonl"],
    "es": ["lang/es.jsonl"],
    "ru": ["lang/ru.jsonl"],
    "zh": ["lang/zh-CN.jsonl"],
    "ja": ["lang/ja.jsonl"],
    "code": ["code/python.jsonl", "code/c.jsonl", "code/javascript.jsonl"],
    "markup": ["domain/html.jsonl", "domain/markdown.jsonl", "domain/latex.jsonl"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-t", "--tokenizer", action="append", default=[], help="more tokenizer files")
    parser.add_argument("--merges", type=int, default=3000)
    parser.add_argument("--sample-mb", type=float, default=3.0)
    args = parser.parse_args()
    found = sorted(
        p
        for p in (SHARED / "reference" / "tokenizers").glob("**/*")
        if p.name == "tokenizer.json" or p.suffix in (".model", ".tiktoken")
    )
    tokenizers = [*found, *map(Path, args.tokenizer)]
    corpora = SHARED / "corpora"
    if not tokenizers or not corpora.is_dir():
        print("skipped: no published tokenizer file or no ../shared/corpora", file=sys.stderr)
        return 0
    argv_categories: list[str] = []
    for name, files in CATEGORIES.items():
        paths = [corpora / f for f in files if (corpora / f).is_file()]
        if paths:
            argv_categories += ["--category", f"{name}={','.join(map(str, paths))}"]
    failed = 0
    for tokenizer in tokenizers:
        command = [
            sys.executable, "-m", "tokcli", "infer-mixture", "-t", str(tokenizer), *argv_categories,
            "--merges", str(args.merges), "--sample-bytes", f"{int(args.sample_mb * 1e6)}", "--no-cache", "-f", "json",
        ]  # fmt: skip
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        print(f"## {tokenizer.relative_to(SHARED) if tokenizer.is_relative_to(SHARED) else tokenizer}")
        if done.returncode != 0:
            failed += 1
            print(f"FAILED (exit {done.returncode}): {done.stderr.strip()}")
            continue
        data = json.loads(done.stdout)
        meta, solver = data["meta"], data["meta"]["solver"]
        print(", ".join(f"{row['category']} {row['proportion']:.3f}" for row in data["rows"]))
        listed = meta["tokenizer"].get("merges_listed")
        print(
            f"merges used {meta['merges_used']}"
            + (f" (of {listed} listed, one per token rebuilt)" if listed else "")
            + f"; {solver['status']}, objective {solver['objective']:.1f}, {solver['rounds']} rounds, "
            f"LP {solver['seconds']:.1f} s, wall {wall:.1f} s"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
