"""Inputs read through HF ``datasets`` in Arrow batches: Parquet, CSV/TSV, ``save_to_disk`` folders and
hub names ``hf:NAME[:CONFIG][@SPLIT]`` (``load_dataset(..., streaming=True)`` / ``load_from_disk``).

(Named ``hf_datasets``, not ``datasets``, so that it is never mistaken for the library it wraps.)
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tokcli.corpus.batch import InputFile, RawBatch
from tokcli.corpus.input_errors import field_type_error, missing_field_error, utf8_error
from tokcli.corpus.inputs import parse_hub_spec
from tokcli.corpus.options import ReadOptions
from tokcli.errors import InputError, TokcliError


def read(item: InputFile, options: ReadOptions) -> Iterator[RawBatch]:
    """The format reader for datasets (one signature with the others, see :mod:`tokcli.corpus.formats`):
    Arrow batches, the text column converted to Python strings in one call per batch."""
    label = item.label
    text_field = options.text_field
    dataset = _load_hub(item.location) if item.kind == "hf" else _load_local(item.kind, item.location, text_field)
    try:
        for table in dataset.with_format("arrow").iter(batch_size=options.batch_size):
            texts, ids = _texts_and_ids(table, label, text_field, options.id_field, options.errors)
            if texts:
                yield RawBatch(texts, ids, item.source)
    except (TokcliError, MemoryError):
        raise
    except UnicodeDecodeError as exc:
        raise utf8_error(label, "?", exc) from None
    except Exception as exc:
        raise InputError(f"{label}: cannot read ({type(exc).__name__}: {_first_line(exc)})") from None


def _texts_and_ids(
    table: Any, label: str, text_field: str, id_field: str, errors: str
) -> tuple[list[str], list[str | None] | None]:
    """The non-empty texts of one Arrow batch and their ids (None when the batch has no id column)."""
    import pyarrow as pa

    names = table.column_names
    if text_field not in names:
        raise missing_field_error(label, text_field, names, None)
    column = table.column(text_field)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            column = pa.array(
                [None if b is None else b.decode("utf-8", errors) for b in column.to_pylist()], pa.string()
            )
        else:
            raise field_type_error(label, text_field, column.type)
    texts = column.to_pylist()
    ids = None
    if id_field in names:
        raw_ids = table.column(id_field).to_pylist()
        ids = [None if v is None else (v if isinstance(v, str) else str(v)) for v in raw_ids]
    if None in texts or "" in texts:
        keep = [i for i, t in enumerate(texts) if t]
        texts = [texts[i] for i in keep]
        ids = None if ids is None else [ids[i] for i in keep]
    return texts, ids


# ---------------------------------------------------------------------------------------------------
# Hub


def _offline() -> bool:
    return any(
        os.environ.get(v, "").strip().upper() in ("1", "ON", "YES", "TRUE")
        for v in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE")
    )


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the hub endpoint accepts a TCP connection within ``timeout`` seconds (DNS included)."""
    endpoint = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = endpoint.hostname or "huggingface.co"
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)  # getaddrinfo itself has no timeout
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])


def _load_hub(spec: str) -> Any:
    import datasets

    name, config, split = parse_hub_spec(spec)
    shown = f"hf:{spec}"
    if not _offline() and not hub_reachable():
        raise InputError(
            f"{shown}: the Hugging Face hub ({os.environ.get('HF_ENDPOINT', 'https://huggingface.co')}) "
            "cannot be reached",
            hint="check the network, or set HF_DATASETS_OFFLINE=1 to use a cached copy, "
            "or save the dataset to disk and pass its folder",
        )
    try:
        return datasets.load_dataset(name, config, split=split, streaming=True)
    except ConnectionError as exc:
        raise InputError(
            f"{shown}: not available offline and not in the local cache ({exc})",
            hint="run once with network access (HF_DATASETS_OFFLINE unset), or pass a local copy",
        ) from None
    except MemoryError:
        raise
    except Exception as exc:
        raise InputError(f"{shown}: cannot load ({type(exc).__name__}: {_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ---------------------------------------------------------------------------------------------------
# Local files and folders


def _load_local(kind: str, path: str, text_field: str) -> Any:
    try:
        if kind == "arrow":
            return _load_saved(path)
        if kind == "parquet":
            import datasets

            return datasets.load_dataset("parquet", data_files=[path], split="train", streaming=True)
        return _load_csv(kind, path, text_field)
    except (TokcliError, MemoryError):
        raise
    except Exception as exc:
        raise InputError(f"{path}: cannot read as {kind} ({type(exc).__name__}: {_first_line(exc)})") from None


def _load_saved(path: str) -> Any:
    """A ``save_to_disk`` folder: a Dataset, or the ``train`` (or only) split of a DatasetDict."""
    import datasets

    ds = datasets.load_from_disk(path)
    if isinstance(ds, datasets.DatasetDict):
        splits = list(ds)
        if "train" in ds:
            return ds["train"]
        if len(splits) == 1:
            return ds[splits[0]]
        raise InputError(
            f"{path}: saved dataset has several splits ({', '.join(splits)}) and no 'train'",
            hint=f"pass the split's folder, e.g. {Path(path) / splits[0]}",
        )
    return ds


def _load_csv(kind: str, path: str, text_field: str) -> Any:
    """CSV or TSV, streamed: every column as a string, empty cells as "" (pandas would turn "NA" or
    "null" into NaN); in TSV quotes are ordinary characters."""
    import datasets

    sep = "\t" if kind == "tsv" else ","
    header = _csv_header(path, sep)
    if text_field not in header:
        raise missing_field_error(f"{path}:1", text_field, header, None)
    features = datasets.Features({name: datasets.Value("string") for name in header})
    extra: dict[str, Any] = {"quoting": 3} if kind == "tsv" else {}
    return datasets.load_dataset(
        "csv",
        data_files=[path],
        split="train",
        streaming=True,
        sep=sep,
        features=features,
        na_filter=False,
        keep_default_na=False,
        **extra,
    )


def _csv_header(path: str, sep: str) -> list[str]:
    import csv

    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        row = next(csv.reader(fh, delimiter=sep, quoting=csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL), [])
    return row
