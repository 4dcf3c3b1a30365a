"""The count command's Arrow tables: word counts as tables, routed to partitions, spilled between map and
reduce as Arrow files, summed, sorted and written as Parquet parts.

Arrow arrays are built from, and read back as, their buffers: ``pa.array`` on a Python list or a NumPy
array, ``to_numpy``, ``group_by`` and compute functions given a Python scalar all import pandas, which
costs every worker process a noticeable part of a count (docs/benchmarks.md, "Scale-out", stop 14);
``tests/test_scale.py`` checks that the tasks never import it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zlib import crc32

from tokcli.files import atomic_write, sha256_file


@dataclass(frozen=True)
class PartInfo:
    file: str
    rows: int
    sha256: str


def part_name(part: int) -> str:
    return f"part-{part:05d}.parquet"


def spill_path(spill: str, split: int, part: int) -> Path:
    return Path(spill) / f"split-{split:05d}.part-{part:05d}.arrow"


def counts_table(sources: list[str], words: list[bytes], numbers: list[int], by_source: bool) -> Any:
    """Columns [source,] word (binary), count (int64)."""
    import numpy as np
    import pyarrow as pa

    columns: dict[str, Any] = {}
    if by_source:
        columns["source"] = arrow_strings([s.encode("utf-8") for s in sources], pa.string())
    columns["word"] = arrow_strings(words, pa.binary())
    columns["count"] = arrow_int64(np.fromiter(numbers, np.int64, len(numbers)))
    return pa.table(columns)


def partitions_of(table: Any, words: list[bytes], partitions: int) -> Iterator[Any]:
    """``table``'s rows (one per word of ``words``) routed to ``partitions`` tables by a stable hash:
    CRC-32 of the word's bytes, the same on every run and machine (never Python's salted ``hash``)."""
    import numpy as np

    if partitions == 1:
        yield table
        return
    part_of = np.fromiter((crc32(w) % partitions for w in words), np.int64, len(words))
    for p in range(partitions):
        yield table.take(arrow_int64(np.flatnonzero(part_of == p)))


def write_spill(target: Path, table: Any) -> None:
    """One map task's rows of one partition as an Arrow file (written under a temporary name)."""
    import pyarrow as pa

    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, target)


def read_spills(paths: list[Path]) -> Any:
    """The rows of the spill files ``paths`` as one table."""
    import pyarrow as pa

    tables = []
    for path in paths:
        with pa.memory_map(str(path)) as source:
            tables.append(pa.ipc.open_file(source).read_all())
    return pa.concat_tables(tables)


def write_part(folder: Path, part: int, table: Any, by_source: bool | None) -> PartInfo:
    """One Parquet part: ``table``'s rows (unique keys) sorted by (source, word) (``by_source`` None:
    ``table`` is sorted already)."""
    import pyarrow.parquet as pq

    if by_source is not None:
        keys = ["source", "word"] if by_source else ["word"]
        table = table.sort_by([(k, "ascending") for k in keys]).combine_chunks()
    target = folder / part_name(part)
    with atomic_write(target, "wb") as handle:
        pq.write_table(table, handle, compression="zstd")
    return PartInfo(file=target.name, rows=table.num_rows, sha256=sha256_file(target))


def sum_duplicates(table: Any, *, by_source: bool) -> Any:
    """One row per (source, word), its counts summed, sorted (a sort and NumPy's ``add.reduceat``:
    Arrow's ``group_by`` would import pandas). The keys are handled as 64-bit-offset (large) arrays so
    that one partition's spills may hold more than 2 GB of words; the result gets the input's types back
    unless it is itself that large."""
    import pyarrow as pa

    keys = ["source", "word"] if by_source else ["word"]
    schema = table.schema
    large = {"source": pa.large_string(), "word": pa.large_binary(), "count": pa.int64()}
    table = table.cast(pa.schema([(name, large[name]) for name in schema.names]))
    table = table.sort_by([(k, "ascending") for k in keys]).combine_chunks()
    if table.num_rows >= 2:
        table = _sum_sorted(table, keys)
    try:
        return table.cast(schema)
    except pa.ArrowInvalid:  # more than 2 GB of distinct words in one part
        return table


def _sum_sorted(table: Any, keys: list[str]) -> Any:
    """``table`` (sorted by ``keys``, one chunk, two rows or more) with each run of equal keys summed."""
    import numpy as np
    import pyarrow.compute as pc

    new = np.ones(table.num_rows, dtype=bool)
    differs = None
    for key in keys:
        column = table.column(key).chunk(0)
        step = pc.not_equal(column.slice(1), column.slice(0, table.num_rows - 1))
        differs = step if differs is None else pc.or_(differs, step)
    new[1:] = numpy_bools(differs)
    starts = np.flatnonzero(new)
    counts = np.add.reduceat(numpy_int64(table.column("count").chunk(0)), starts)
    table = table.take(arrow_int64(starts))
    return table.set_column(table.schema.get_field_index("count"), "count", arrow_int64(counts))


# ---------------------------------------------------------------------------------------------------
# Arrow <-> NumPy through buffers (no pandas)


def arrow_int64(values: Any) -> Any:
    """A NumPy int64 array as an Arrow array (no copy)."""
    import pyarrow as pa

    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def numpy_int64(array: Any) -> Any:
    """An Arrow int64 array without nulls as a NumPy view of its buffer."""
    import numpy as np

    return np.frombuffer(array.buffers()[1], dtype=np.int64, count=len(array), offset=8 * array.offset)


def numpy_bools(array: Any) -> Any:
    """An Arrow boolean array without nulls as NumPy booleans (its bits unpacked, least significant first)."""
    import numpy as np

    bits = np.unpackbits(np.frombuffer(array.buffers()[1], dtype=np.uint8), bitorder="little")
    return bits[array.offset : array.offset + len(array)].astype(bool)


def arrow_strings(items: list[bytes], kind: Any) -> Any:
    """Byte strings as an Arrow binary (or, with UTF-8 items, string) array: offsets and one data buffer."""
    import numpy as np
    import pyarrow as pa

    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, items), np.int64, len(items)), out=offsets[1:])
    large = pa.large_binary() if kind == pa.binary() else pa.large_string()
    data = pa.Array.from_buffers(large, len(items), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(items))])
    return data.cast(kind)
