"""The user's cache folder: facts tokcli proved once and reuses (e.g. that its fast word cutter agrees
with HF's pre-tokenizer for the installed library versions).

Location: ``$TOKCLI_CACHE_DIR``, else ``$XDG_CACHE_HOME/tokcli``, else ``~/.cache/tokcli``. Each entry is
one JSON file named by its kind and a key that hashes everything the fact depends on (library versions,
patterns, a file's SHA-256), so a changed dependency simply misses the cache. Entries are written
atomically (temporary file, fsync, rename) in a folder only the user may write; a missing, unreadable
or foreign entry is a miss, never an error, and a cache that cannot be written costs only speed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import orjson

CACHE_ENV = "TOKCLI_CACHE_DIR"


def cache_dir() -> Path:
    """The folder tokcli caches in (not created here)."""
    explicit = os.environ.get(CACHE_ENV, "").strip()
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "tokcli"


def cache_key(*facts: Any) -> str:
    """A key for an entry: the SHA-256 of the facts the cached value depends on (JSON-serialisable)."""
    return hashlib.sha256(orjson.dumps(facts, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def _entry(kind: str, key: str) -> Path:
    return cache_dir() / f"{kind}-{key}.json"


def load(kind: str, key: str) -> Any | None:
    """The value stored under ``kind`` and ``key``, or None (absent, unreadable, not ours)."""
    path = _entry(kind, key)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            return None
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            doc = orjson.loads(handle.read())
    except (OSError, orjson.JSONDecodeError):
        return None
    finally:
        if fd >= 0:
            os.close(fd)
    if not isinstance(doc, dict) or doc.get("kind") != kind or doc.get("key") != key:
        return None
    return doc.get("value")


def store(kind: str, key: str, value: Any) -> bool:
    """Store ``value`` (JSON-serialisable) atomically; False when the cache cannot be written."""
    folder = cache_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=folder)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(orjson.dumps({"kind": kind, "key": key, "value": value}))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, _entry(kind, key))
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
