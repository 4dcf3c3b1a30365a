"""Output writers of ``tokcli encode``: one line per document, or one flat binary array of ids.

Binary layouts:
- ``bin``: raw little-endian uint16/uint32 ids, like nanoGPT's ``train.bin`` (read with
  ``numpy.memmap(path, dtype=numpy.uint16, mode="r")``);
- ``npy``: a NumPy ``.npy`` file, format version 1.0 (numpy ``lib/format.py``): magic ``\\x93NUMPY``,
  version bytes, little-endian uint16 header length, then an ASCII dict literal padded with spaces
  and ending in ``\\n`` so that the data starts at a multiple of 64. The length is unknown until the
  end, so a fixed 128-byte header is reserved and rewritten once the count is known.

Next to either goes ``<output>.index.json``: ``offsets`` has one entry per document plus the total,
so document ``i`` is ``data[offsets[i]:offsets[i+1]]`` (ending in ``eos_id`` when one was given).
"""

from __future__ import annotations

import contextlib
import hashlib
import struct
import sys
import tempfile
from abc import ABC, abstractmethod
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from tokcli.bpe.byte_level import render_token
from tokcli.files import atomic_write

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

NPY_HEADER_BYTES = 128
_TYPECODES = {"uint16": "H", "uint32": "I"}
_DESCR = {"uint16": "<u2", "uint32": "<u4"}


def ids_with_eos(
    flat: npt.NDArray[np.int64], counts: npt.NDArray[np.int64], eos_id: int | None, dtype: str
) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """Documents' ids in order (``flat``, ``counts`` per document) as one little-endian ``dtype`` array
    with ``eos_id`` after each document (when given), and the end offset of each document in it."""
    import numpy as np

    lengths = counts + 1 if eos_id is not None else counts
    ends: npt.NDArray[np.int64] = np.cumsum(lengths, dtype=np.int64)
    if eos_id is None:
        return flat.astype(_DESCR[dtype]), ends
    data = np.empty(int(ends[-1]) if len(ends) else 0, dtype=_DESCR[dtype])
    data[ends - 1] = eos_id
    # each id moves right by one place per document (its eos) before it
    data[np.arange(len(flat)) + np.repeat(np.arange(len(counts)), counts)] = flat
    return data, ends


class TextWriter(ABC):
    """Writes one line per document to a text stream."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    @abstractmethod
    def lines(self, ids: Sequence[list[int]], doc_ids: Sequence[str | None]) -> list[str]: ...

    def write(self, ids: Sequence[list[int]], doc_ids: Sequence[str | None]) -> None:
        lines = self.lines(ids, doc_ids)
        if lines:
            self.stream.write("\n".join(lines))
            self.stream.write("\n")


class IdsWriter(TextWriter):
    def lines(self, ids: Sequence[list[int]], doc_ids: Sequence[str | None]) -> list[str]:
        return [" ".join(map(str, seq)) for seq in ids]


class CountWriter(TextWriter):
    def lines(self, ids: Sequence[list[int]], doc_ids: Sequence[str | None]) -> list[str]:
        return [str(len(seq)) for seq in ids]

    def write_counts(self, counts: npt.NDArray[np.int64]) -> None:
        """The same lines as :meth:`write`, from the number of ids of each document."""
        if len(counts):
            self.stream.write("\n".join(map(str, counts.tolist())))
            self.stream.write("\n")


class TokensWriter(TextWriter):
    """Space-separated readable tokens (see :func:`tokcli.bpe.byte_level.render_token`)."""

    def __init__(self, stream: IO[str], token_bytes: Sequence[bytes]) -> None:
        super().__init__(stream)
        self._table = token_bytes
        self._cache: dict[int, str] = {}

    def _render(self, token_id: int) -> str:
        text = self._cache.get(token_id)
        if text is None:
            text = self._cache[token_id] = render_token(self._table[token_id])
        return text

    def lines(self, ids: Sequence[list[int]], doc_ids: Sequence[str | None]) -> list[str]:
        return [" ".join(self._render(i) for i in seq) for seq in ids]


class JsonlWriter(TextWriter):
    """``{"id": ..., "ids": [...], "n_tokens": N}`` per document (``id`` only when the input has one)."""

    def lines(self, ids: Sequence[list[int]], doc_ids: Sequence[str | None]) -> list[str]:
        out = []
        for seq, doc_id in zip(ids, doc_ids, strict=True):
            record: dict[str, Any] = {"ids": seq, "n_tokens": len(seq)}
            if doc_id is not None:
                record["id"] = doc_id
            out.append(orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode())
        return out


def choose_dtype(requested: str, vocab_size: int, eos_id: int | None) -> str:
    """uint16 when every id (and the eos id) fits in 16 bits, else uint32; ``requested`` overrides."""
    largest = max(vocab_size - 1, eos_id if eos_id is not None else 0)
    if requested == "auto":
        return "uint16" if largest < 1 << 16 else "uint32"
    return requested


class BinaryWriter:
    """Streams ids into one flat array file plus its JSON index; use as a context manager.

    Both files are written with :func:`tokcli.files.atomic_write`; document offsets are spooled to a
    temporary file so memory does not grow with the number of documents. The pair commits data first,
    index last: the index records the data file's size and the SHA-256 of its ids (``data_bytes``,
    ``data_sha256``; for ``.npy`` the bytes after its header), so a run killed between the two renames
    leaves a new data file beside an old index that :func:`tokcli.encode.binary.read_binary` refuses,
    never a pair that reads as something else.
    """

    def __init__(
        self,
        path: Path,
        *,
        kind: str,
        dtype: str,
        eos_id: int | None,
        tokenizer: dict[str, str],
        if_changed: bool = False,
    ) -> None:
        self.if_changed = if_changed
        self.path = path
        self.index_path = path.with_name(path.name + ".index.json")
        self.kind = kind
        self.dtype = dtype
        self.eos_id = eos_id
        self.tokenizer = tokenizer
        self.n_docs = 0
        self.n_tokens = 0
        self._typecode = _TYPECODES[dtype]
        self._stack = contextlib.ExitStack()
        self._data: IO[bytes] | None = None
        self._offsets: IO[bytes] | None = None
        self._digest = hashlib.sha256()  # of the ids as written, updated chunk by chunk

    def __enter__(self) -> BinaryWriter:
        self._data = self._stack.enter_context(atomic_write(self.path, "wb", if_changed=self.if_changed))
        self._offsets = self._stack.enter_context(tempfile.TemporaryFile(dir=self.path.parent))
        if self.kind == "npy":
            self._data.write(b"\0" * NPY_HEADER_BYTES)  # placeholder, rewritten on exit
        return self

    def write(self, ids: Sequence[list[int]]) -> None:
        assert self._data is not None and self._offsets is not None
        flat = array(self._typecode)
        starts = array("q")
        position = self.n_tokens
        eos = self.eos_id
        for seq in ids:
            starts.append(position)
            flat.extend(seq)
            if eos is not None:
                flat.append(eos)
            position += len(seq) + (eos is not None)
        if sys.byteorder != "little":  # pragma: no cover - big-endian hosts
            flat.byteswap()
            starts.byteswap()
        chunk = flat.tobytes()
        self._digest.update(chunk)
        self._data.write(chunk)
        self._offsets.write(starts.tobytes())
        self.n_docs += len(ids)
        self.n_tokens = position

    def write_arrays(self, flat: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]) -> None:
        """The same bytes as :meth:`write`, from every document's ids in order (``flat``) and the
        number of ids of each (``counts``), without Python lists."""
        import numpy as np

        assert self._data is not None and self._offsets is not None
        data, ends = ids_with_eos(flat, counts, self.eos_id, self.dtype)
        lengths = np.diff(ends, prepend=0)
        starts = (ends - lengths + self.n_tokens).astype("<i8")
        chunk = data.tobytes()
        self._digest.update(chunk)
        self._data.write(chunk)
        self._offsets.write(starts.tobytes())
        self.n_docs += len(counts)
        self.n_tokens += int(ends[-1]) if len(ends) else 0

    def _write_index(self, out: IO[bytes]) -> None:
        assert self._offsets is not None
        header = NPY_HEADER_BYTES if self.kind == "npy" else 0
        head = {
            "byteorder": "little",
            "data": self.path.name,
            "data_bytes": header + self.n_tokens * array(self._typecode).itemsize,
            "data_sha256": self._digest.hexdigest(),
            "dtype": self.dtype,
            "eos_id": self.eos_id,
            "format": self.kind,
            "n_docs": self.n_docs,
            "n_tokens": self.n_tokens,
        }
        self._offsets.seek(0)
        out.write(orjson.dumps(head, option=orjson.OPT_SORT_KEYS)[:-1])  # keys sort before "offsets"
        out.write(b',"offsets":[')
        first = True
        while block := self._offsets.read(1 << 20):
            chunk = array("q", block)
            if sys.byteorder != "little":  # pragma: no cover
                chunk.byteswap()
            if chunk:
                out.write((b"" if first else b",") + ",".join(map(str, chunk)).encode())
                first = False
        out.write(b"," if not first else b"")
        out.write(str(self.n_tokens).encode())
        out.write(b'],"tokenizer":' + orjson.dumps(self.tokenizer, option=orjson.OPT_SORT_KEYS) + b"}\n")

    def _patch_npy_header(self) -> None:
        assert self._data is not None
        header = f"{{'descr': '{_DESCR[self.dtype]}', 'fortran_order': False, 'shape': ({self.n_tokens},), }}"
        body = header.encode("latin-1").ljust(NPY_HEADER_BYTES - 10 - 1) + b"\n"
        self._data.seek(0)
        self._data.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body)
        self._data.seek(0, 2)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                if self.kind == "npy":
                    self._patch_npy_header()
                with atomic_write(self.index_path, "wb", if_changed=self.if_changed) as index:
                    self._write_index(index)  # synced, renamed when this block ends: after the data
                    self._stack.__exit__(None, None, None)  # the data file: synced and renamed first
            except BaseException as error:  # discard the data file too (when not renamed yet)
                self._stack.__exit__(type(error), error, error.__traceback__)
                raise
            return
        self._stack.__exit__(exc_type, exc, tb)
