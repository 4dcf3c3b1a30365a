"""On-disk cache of per-category replay counts (no pickle: a numpy ``.npz`` of plain arrays).

The key is a hash of everything the counts depend on: the first T usable merges, the pre-tokenizer's
identity, the sample's text (hashed while it is read) and T. Re-running with other categories, or with
the same categories and other LP options, re-uses the counts. Writes are atomic.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tokcli.cache import cache_dir
from tokcli.files import atomic_write
from tokcli.mixture.replay import ReplayCounts

FORMAT = 1


def default_cache_dir() -> Path:
    """``mixture/`` in the user's tokcli cache (:func:`tokcli.cache.cache_dir`: TOKCLI_CACHE_DIR, XDG)."""
    return cache_dir() / "mixture"


def cache_key(merges_digest: str, pretokenizer: str, sample_digest: str, steps: int) -> str:
    text = json.dumps([FORMAT, merges_digest, pretokenizer, sample_digest, steps])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def load(folder: Path, key: str) -> ReplayCounts | None:
    """The cached counts, or None if absent or unreadable (a damaged entry is recomputed)."""
    import numpy as np

    path = folder / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if meta.get("format") != FORMAT:
                return None
            return ReplayCounts(
                pairs=data["pairs"],
                steps=data["steps"],
                counts=data["counts"],
                total=int(meta["total"]),
                merges=int(meta["merges"]),
                words=int(meta["words"]),
                distinct_words=int(meta["distinct_words"]),
                sample_bytes=int(meta["sample_bytes"]),
            )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(folder: Path, key: str, counts: ReplayCounts) -> None:
    import numpy as np

    meta = {
        "format": FORMAT,
        "total": counts.total,
        "merges": counts.merges,
        "words": counts.words,
        "distinct_words": counts.distinct_words,
        "sample_bytes": counts.sample_bytes,
    }
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_write(folder / f"{key}.npz") as handle:
        np.savez(
            handle,
            pairs=counts.pairs,
            steps=counts.steps,
            counts=counts.counts,
            meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
        )
