"""What flows through the corpus reader: inputs to read (:class:`InputFile`), batches of documents
(:class:`RawBatch`), single documents (:class:`Document`) and the running totals (:class:`CorpusStats`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Literal

StopReason = Literal["", "end", "max_docs", "max_bytes", "source_exhausted"]


class RawBatch:
    """Texts of consecutive documents with their ids and source name(s).

    ``sources`` is one name for a homogeneous batch or a list (one per text) after mixing. Byte sizes
    (UTF-8) are computed lazily: the total is often known for free from the raw block.
    """

    __slots__ = ("_sizes", "_total", "ids", "sources", "texts")

    def __init__(
        self,
        texts: list[str],
        ids: list[str | None] | None,
        sources: str | list[str],
        *,
        total: int | None = None,
        sizes: list[int] | None = None,
    ) -> None:
        self.texts = texts
        self.ids = ids
        self.sources = sources
        self._total = total
        self._sizes = sizes

    def __len__(self) -> int:
        return len(self.texts)

    def sizes(self) -> list[int]:
        if self._sizes is None:
            self._sizes = list(map(len, map(str.encode, self.texts)))
        return self._sizes

    def total(self) -> int:
        # Per text, not len("".join(texts).encode()): joining texts of different str kinds widens the
        # whole batch to UCS-4 first, which measured 13x slower.
        if self._total is None:
            if self._sizes is not None:
                self._total = sum(self._sizes)
            else:  # ASCII texts (len is their size, str.isascii is O(1)) are not encoded
                wide = list(itertools.filterfalse(str.isascii, self.texts))
                self._total = sum(map(len, self.texts)) - sum(map(len, wide)) + sum(map(len, map(str.encode, wide)))
        return self._total

    def source_at(self, i: int) -> str:
        return self.sources if isinstance(self.sources, str) else self.sources[i]

    def take(self, index: slice | list[int]) -> RawBatch:
        """A sub-batch: a slice, or a list of positions in increasing order."""
        if isinstance(index, slice):
            if index == slice(None):
                return self
            pick: Callable[[list[Any]], list[Any]] = lambda xs: xs[index]  # noqa: E731
        else:
            pick = lambda xs: [xs[i] for i in index]  # noqa: E731
        sources = self.sources if isinstance(self.sources, str) else pick(self.sources)
        ids = None if self.ids is None else pick(self.ids)
        sizes = None if self._sizes is None else pick(self._sizes)
        return RawBatch(pick(self.texts), ids, sources, sizes=sizes)


@dataclass(frozen=True)
class InputFile:
    """One thing to read: a local file or folder, stdin, or a hub dataset.

    ``stream`` is set only for stdin once it is opened and its format sniffed
    (:func:`tokcli.corpus.stdin.stdin_input`): the text and JSON lines readers read it instead of a path.
    """

    kind: str  # text | jsonl | parquet | csv | tsv | arrow | hf | stdin
    location: str  # path, "-" or the hub spec after "hf:"
    source: str  # default source name of its documents
    key: str  # stable name used in the sampling hash
    stream: IO[bytes] | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        """How error messages name the input."""
        if self.stream is not None:
            return "stdin"
        return f"hf:{self.location}" if self.kind == "hf" else self.location

    @property
    def path(self) -> str | None:
        """The local file to re-read for a byte offset in an error; None for stdin."""
        return None if self.stream is not None else self.location


@dataclass(frozen=True)
class Document:
    """One document: its text, the name of the source it came from, and its id if the input has one."""

    text: str
    source: str
    id: str | None = None


@dataclass
class CorpusStats:
    """Running totals, updated while the corpus streams (read them after iteration ends).

    ``stop_reason`` says why the stream ended: ``end`` (inputs exhausted), ``max_docs``, ``max_bytes``
    or ``source_exhausted`` (a mixture source ran out; ``exhausted_source`` names it).
    """

    docs: int = 0
    bytes: int = 0
    docs_by_source: dict[str, int] = field(default_factory=dict)
    bytes_by_source: dict[str, int] = field(default_factory=dict)
    stop_reason: StopReason = ""
    exhausted_source: str | None = None
