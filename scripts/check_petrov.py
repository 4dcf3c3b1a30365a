"""Fidelity check of ``tokcli compare`` against Petrov et al. (NeurIPS 2023) published FLORES-200 token counts.

For every FLORES language in ../shared/corpora/parallel/flores200 and every published tokenizer whose
file is available (Llama 2's tokenizer.json ships in ../shared/reference), print tokcli's count with
Petrov's procedure (dev + devtest lines, split on "\\n" keeping the trailing empty item, joined with one
space, encoded once without special tokens) beside the published count, and the premium from tokcli's
default per-line counting (``compare --parallel``) beside the published premium.

Usage:  python scripts/check_petrov.py [--shared ../shared] [--markdown]
Exit 0 when counts match exactly and premiums agree within 2%; 1 otherwise; skips (exit 0) without data.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

from tokcli import CorpusConfig, load_tokenizer
from tokcli.compare import CompareConfig, plan_corpora, run_compare

# Published column -> tokenizer file under reference/ (add more when their files are available).
TOKENIZERS = {"LLAMA": "tokenizers/llama-2/tokenizer.json"}


def petrov_text(flores: Path, code: str) -> str:
    parts: list[str] = []
    for split in ("dev", "devtest"):
        parts += (flores / split / f"{code}.{split}").read_text(encoding="utf-8").split("\n")
    return " ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    flores = args.shared / "corpora" / "parallel" / "flores200"
    reference = args.shared / "reference"
    if not flores.is_dir() or not reference.is_dir():
        print(f"skipped: {flores} or {reference} not found", file=sys.stderr)
        return 0
    with open(reference / "petrov_flores_language_map.csv", encoding="utf-8") as handle:
        code_of = {row[0].strip(): row[1].strip() for row in csv.reader(handle) if len(row) == 2}
    with open(reference / "petrov_tokenization_lengths.csv", encoding="utf-8") as handle:
        published = {code_of.get(row["Language"].strip(), ""): row for row in csv.DictReader(handle)}
    codes = sorted(p.name.split(".")[0] for p in (flores / "dev").glob("*.dev"))
    ok = True
    for column, rel_path in TOKENIZERS.items():
        path = reference / rel_path
        if not path.is_file():
            print(f"skipped {column}: {path} not found", file=sys.stderr)
            continue
        tokenizer = load_tokenizer(f"{column}={path}")
        # Per-line counting: the default compare run on dev+devtest, one file per language.
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for code in codes:
                lines = []
                for split in ("dev", "devtest"):
                    lines += (flores / split / f"{code}.{split}").read_text(encoding="utf-8").splitlines()
                (folder / f"{code}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
            config = CompareConfig(parallel=str(folder), reference="eng_Latn")
            result = run_compare(config, CorpusConfig(), [tokenizer], plan_corpora([], config.parallel))
        per_line = {row["corpus"]: row for row in result.rows}
        eng_published = int(published["eng_Latn"][column])
        header = ["language", "published", "tokcli (Petrov procedure)", "diff",
                  "published premium", "tokcli premium (per line)", "premium diff %"]  # fmt: skip
        print(f"\n{column} ({path})")
        print("| " + " | ".join(header) + " |" if args.markdown else "\t".join(header))
        if args.markdown:
            print("|" + "---|" * len(header))
        worst_count = 0
        worst_premium = 0.0
        for code in codes:
            if code not in published:
                continue
            count = len(tokenizer.encode(petrov_text(flores, code)))
            expected = int(published[code][column])
            premium_published = expected / eng_published
            premium = per_line[code]["premium"]
            rel = 100 * (premium - premium_published) / premium_published
            worst_count = max(worst_count, abs(count - expected))
            worst_premium = max(worst_premium, abs(rel))
            cells = [code, str(expected), str(count), str(count - expected),
                     f"{premium_published:.4f}", f"{premium:.4f}", f"{rel:+.2f}"]  # fmt: skip
            print("| " + " | ".join(cells) + " |" if args.markdown else "\t".join(cells))
        verdict = worst_count == 0 and worst_premium <= 2.0
        ok &= verdict
        print(
            f"{column}: {len(codes)} languages; max |count diff| = {worst_count}; "
            f"max |premium diff| = {worst_premium:.2f}% -> {'PASS' if verdict else 'FAIL'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
