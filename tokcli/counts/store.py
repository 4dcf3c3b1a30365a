"""The counts store ``tokcli count`` writes, read back by ``train --from-counts`` and ``infer-mixture
--counts``: a folder of sorted Parquet parts and ``manifest.json``.

Layout::

    manifest.json              what was counted and how, written last: a folder with one is complete
    part-00000.parquet ...     columns [source,] word (binary), count (int64); sorted by (source, word)

Words are stored as bytes: the raw bytes of a byte-level pre-token (``words_encoding: "bytes"``), or
the UTF-8 of the pre-token string (``"utf-8"``: sentencepiece words keep their leading ``▁``).
"""

from __future__ import annotations

import hashlib
import heapq
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from tokcli.errors import ConfigError, InputError
from tokcli.pretok.spec import PretokenizerSpec, bpe_pretokenizer, word_counter

MANIFEST = "manifest.json"
FORMAT = "tokcli-counts"


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    try:
        manifest = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(
            f"{folder}: no {MANIFEST} (not a finished tokcli count output)", hint="run tokcli count -o FOLDER first"
        ) from None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InputError(f"{path}: unreadable ({exc})", hint="re-run tokcli count") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(f"{path}: not a tokcli counts manifest", hint="point at the folder written by tokcli count")
    return manifest


def iter_part(path: Path, by_source: bool) -> Iterator[tuple[str, bytes, int]]:
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
        for batch in handle.iter_batches(batch_size=65536):
            sources = batch.column("source").to_pylist() if by_source else [""] * batch.num_rows
            yield from zip(sources, batch.column("word").to_pylist(), batch.column("count").to_pylist(), strict=True)
    except FileNotFoundError:
        raise InputError(f"{path}: missing part of the counts", hint="re-run tokcli count") from None
    except Exception as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(
            f"{path}: unreadable counts part ({type(exc).__name__}: {exc})", hint="re-run tokcli count"
        ) from None


def iter_counts(
    folder: str | os.PathLike[str], manifest: dict[str, Any] | None = None
) -> Iterator[tuple[str, bytes, int]]:
    """All (source, word, count) rows in (source, word) order ("" as the source without ``--by source``)."""
    manifest = manifest or read_manifest(folder)
    by_source = manifest.get("by") == "source"
    for part in manifest["parts"]:  # all of them before the first row: a bad part stops the run at once
        verify_part(Path(folder) / part["file"], part.get("sha256"))
    parts = [iter_part(Path(folder) / p["file"], by_source) for p in manifest["parts"]]
    return heapq.merge(*parts)


def verify_part(path: Path, expected: str | None) -> None:
    """Refuse a part whose bytes are not those the manifest recorded (a part copied from another run, a
    truncated or edited file)."""
    from tokcli.files import sha256_file

    if expected is None:
        raise InputError(f"{path.parent / MANIFEST}: no checksum for {path.name}", hint="re-run tokcli count")
    try:
        found = sha256_file(path)
    except FileNotFoundError:
        raise InputError(f"{path}: missing part of the counts", hint="re-run tokcli count") from None
    if found != expected:
        raise InputError(
            f"{path}: does not match the checksum in {MANIFEST} (a part of another run, or changed since)",
            hint="re-run tokcli count",
        )


def counts_sha256(folder: str | os.PathLike[str]) -> str:
    """SHA-256 of the sorted rows, independent of how they are split into parts."""
    digest = hashlib.sha256()
    for source, word, count in iter_counts(folder):
        s = source.encode("utf-8")
        digest.update(len(s).to_bytes(4, "little") + s + len(word).to_bytes(4, "little") + word)
        digest.update(count.to_bytes(8, "little"))
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------------
# Per-source counts for infer-mixture --counts

PROBE_TEXTS = (
    "Hello world, it's 2024: don't stop!  Tabs\tand\nnew lines\r\n  ",
    "def f(x):\n    return x ** 2  # 12345678\n",
    "Ünïcödé café naïve ﬁne ＡＢＣ１２３ — «quotes» … ",
    "人人生而自由，在尊严和权利上一律平等。 すべての人間は、生まれながらにして自由である。",
    "Все люди рождаются свободными. كل الناس أحرار. सभी मनुष्य स्वतंत्र हैं। មនុស្សទាំងអស់",
)


def source_word_counts(
    folder: str | os.PathLike[str], same_words: Callable[[Iterable[str]], Counter[bytes]]
) -> dict[str, tuple[Counter[bytes], int]]:
    """Per source (category): its word counts and the bytes of text they came from.

    ``same_words`` is how the consumer cuts text into words; the counts must have been made the same
    way, which is checked on probe texts (a mismatch is a ConfigError naming the fix)."""
    manifest = read_manifest(folder)
    if manifest.get("by") != "source":
        raise InputError(
            f"{folder}: the counts have no sources (counted without --by source)",
            hint="recount with 'tokcli count --by source', one input file or folder per category",
        )
    spec = pretok_spec(manifest)
    if spec is not None:
        ours = word_counter(spec)
        for text in PROBE_TEXTS:
            if ours([text]) != same_words([text]):
                raise ConfigError(
                    f"{folder}/manifest.json: the counts were made with --pretok {pretok_flag(manifest)}, "
                    "which does not cut words as this tokenizer does",
                    hint="recount with 'tokcli count --by source --pretok TOKENIZER.json' (the tokenizer itself)",
                )
    out: dict[str, tuple[Counter[bytes], int]] = {}
    sources = manifest.get("sources", {})
    for source, word, count in iter_counts(folder, manifest):
        entry = out.get(source)
        if entry is None:
            entry = out[source] = (Counter(), int(sources.get(source, {}).get("bytes", 0)))
        entry[0][word] += count
    return out


def pretok_spec(manifest: dict[str, Any]) -> PretokenizerSpec | None:
    """The pre-tokenizer a manifest's ``pretok`` entry describes (None: a tokenizer.json no longer there)."""
    pretok = manifest.get("pretok", {})
    kind = pretok.get("kind")
    if kind == "hf-bpe":
        return bpe_pretokenizer(pretok["preset"], pretok["digits"], tuple(pretok["normalizer"]))
    if kind == "spm":
        return PretokenizerSpec("spm", rule=pretok["rule"])
    if kind == "tokenizer" and Path(pretok.get("path", "")).is_file():
        return PretokenizerSpec("hf", path=pretok["path"], sha256=pretok.get("sha256", ""))
    return None


def pretok_flag(manifest: dict[str, Any]) -> str:
    """The ``--pretok`` value the counts were made with."""
    pretok = manifest.get("pretok", {})
    return str(pretok.get("preset") or (f"spm:{pretok['rule']}" if "rule" in pretok else pretok.get("path")))
