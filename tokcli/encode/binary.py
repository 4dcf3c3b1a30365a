"""Reading back what ``encode -f bin|npy`` wrote: the flat id array and its JSON index, checked to be
one pair (the index's ``data_bytes`` and ``data_sha256``: a run killed between the two renames, or two
files of different runs, are refused rather than misread)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tokcli.encode.writers import NPY_HEADER_BYTES
from tokcli.errors import InputError


def index_path_of(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".index.json")


def is_binary_output(path: str | Path) -> bool:
    """A ``.bin``/``.npy`` name: what ``encode -f bin|npy`` writes (read with its index, which must be there)."""
    return Path(path).suffix.lower() in (".bin", ".npy")


@dataclass(frozen=True)
class BinaryIds:
    """The ids of a binary output, and where each document starts (``offsets``: n_docs + 1 entries)."""

    ids: Any  # a read-only numpy memmap
    offsets: list[int]
    eos_id: int | None

    def documents(self) -> Iterator[list[int]]:
        """Each document's ids, without the ``--eos`` id that ends it."""
        eos = self.eos_id
        for start, end in zip(self.offsets, self.offsets[1:], strict=False):
            doc = self.ids[start:end].tolist()
            if eos is not None and doc and doc[-1] == eos:
                doc.pop()
            yield doc


def read_binary(path: str | Path) -> BinaryIds:
    """The ids of ``path`` after checking them against its index (one-line InputError otherwise)."""
    import numpy as np

    path = Path(path)
    index_path = index_path_of(path)
    try:
        index = orjson.loads(index_path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path}: no index {index_path.name} beside it", hint="encode with -f bin or npy") from None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InputError(f"{index_path}: unreadable index ({exc})", hint="encode the file again") from None
    _check_pair(path, index_path, index)
    header = NPY_HEADER_BYTES if index.get("format") == "npy" else 0
    ids = np.memmap(path, dtype=np.dtype(index["dtype"]).newbyteorder("<"), mode="r", offset=header)
    return BinaryIds(ids=ids, offsets=[int(o) for o in index["offsets"]], eos_id=index.get("eos_id"))


def _check_pair(path: Path, index_path: Path, index: dict[str, Any]) -> None:
    mismatch = InputError(
        f"{path} does not match its index {index_path.name} (files of two runs, or a run killed between them)",
        hint="encode the file again",
    )
    expected_size, expected_sha = index.get("data_bytes"), index.get("data_sha256")
    if expected_size is None or expected_sha is None:
        raise InputError(f"{index_path}: written by an older tokcli (no checksum)", hint="encode the file again")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}", hint="check the path") from None
    if size != expected_size:
        raise mismatch
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        handle.seek(NPY_HEADER_BYTES if index.get("format") == "npy" else 0)
        while block := handle.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() != expected_sha:
        raise mismatch
