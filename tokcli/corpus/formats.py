"""Which reader reads which input: one table, every reader called as ``read(item, options)``.

Every reader yields :class:`~tokcli.corpus.batch.RawBatch` objects (a list of texts plus ids), never
one dict per record. Backends, chosen by measurement (``scripts/bench_reader.py``, numbers in
docs/benchmarks.md):

* Plain text and JSON lines (also ``.gz``/``.zst``, and stdin, which HF cannot stream) are read by a
  direct fast path (:mod:`tokcli.corpus.text`, :mod:`tokcli.corpus.jsonl`): text in 256 KiB blocks cut
  at newlines and decoded at once; JSONL line by line with ``orjson``. HF
  ``load_dataset("text", streaming=True)`` in Arrow batches reaches only 11-26% of the raw line-reading
  baseline. HF ``"json"`` reaches 58-81% once warm (pyarrow parses on several cores) but only ~24% in a
  fresh process, which is what one CLI run pays (``import datasets`` and builder setup take ~1 s; peak
  RSS ~300 MiB vs ~30 MiB), and its errors carry no line numbers or byte offsets. The fast path yields
  the same documents as HF's builders (checked in tests/test_corpus.py), except that blank lines and
  empty texts are dropped.
* Parquet, CSV/TSV, ``save_to_disk`` folders and hub names ``hf:NAME[:CONFIG][@SPLIT]`` go through HF
  ``datasets`` (:mod:`tokcli.corpus.hf_datasets`) in Arrow batches: these are columnar or remote, HF's
  builders already stream them through pyarrow, and the reader reaches ~60% of raw ``pyarrow.parquet``
  ``iter_batches`` (the rest is HF setup and counting UTF-8 bytes).

stdin is opened and sniffed first (:func:`tokcli.corpus.stdin.stdin_input`), then read as text or JSON
lines. Heavy modules (datasets, pyarrow, orjson, zstandard) are imported inside functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tokcli.corpus import hf_datasets, jsonl, text
from tokcli.corpus.batch import InputFile, RawBatch
from tokcli.corpus.options import ReadOptions

FormatReader = Callable[[InputFile, ReadOptions], Iterator[RawBatch]]

READERS: dict[str, FormatReader] = {
    "text": text.read,
    "jsonl": jsonl.read,
    "parquet": hf_datasets.read,
    "csv": hf_datasets.read,
    "tsv": hf_datasets.read,
    "arrow": hf_datasets.read,
    "hf": hf_datasets.read,
}


def read_input(item: InputFile, options: ReadOptions) -> Iterator[RawBatch]:
    """The documents of one input, in batches, by the reader of its kind."""
    reader = READERS.get(item.kind)
    if reader is None:  # "stdin" before stdin_input opened it
        raise ValueError(f"no reader for input kind {item.kind!r}; open stdin with stdin_input first")
    return reader(item, options)
