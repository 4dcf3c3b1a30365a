"""Sharded ``tokcli encode -o DIR/``: one token shard per split, a done marker each, a manifest last.

Folder layout (all little-endian; ``N`` is the split number, five digits)::

    tokens-N.bin     the split's ids, one flat uint16/uint32 array (``--eos`` appended after each document)
    tokens-N.idx     uint64 offsets into tokens-N.bin: one per document plus the total (n_docs + 1)
    tokens-N.done    JSON done marker: the split, its counts, SHA-256 of .bin and .idx, and the run key
    manifest.json    the splits in split order with their counts and checksums (written last)

Each shard is written atomically (temporary file, fsync, rename) by the task that encodes it, then its
done marker; the manifest is removed when a run starts and written when every split is done, so a
folder with a manifest is complete. ``--resume`` skips splits whose done marker carries the same run
key (tokenizer SHA-256, ids options, reader options, the split and its file's size and mtime) and
whose files are present, and encodes only the rest. Shards are byte-identical whatever the engine,
the number of workers or the order in which they finish; their concatenation equals ``encode -f bin``
on the same inputs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from array import array
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from tokcli.corpus import CorpusConfig
from tokcli.encode.options import EncodeConfig
from tokcli.encode.writers import ids_with_eos
from tokcli.errors import InputError, OutputError, UsageError
from tokcli.files import TEMP_PREFIX, atomic_write, sha256_file
from tokcli.parallel.engine import open_engine, worker_threads
from tokcli.parallel.options import DEFAULT_SPLIT_SIZE, ScaleConfig
from tokcli.parallel.plan import Split, plan_splits, read_split

MANIFEST = "manifest.json"
FORMAT = "tokcli-shards"
_TYPECODES = {"uint16": "H", "uint32": "I"}
_SHARD_RE = re.compile(r"^tokens-(\d{5,})\.(bin|idx|done)$")


def is_shard_output(output: str | None) -> bool:
    """``-o DIR/`` (a trailing slash) or an existing folder asks for sharded output."""
    return bool(output) and output not in ("-",) and (str(output).endswith("/") or Path(str(output)).is_dir())


def shard_name(index: int, suffix: str) -> str:
    return f"tokens-{index:05d}.{suffix}"


@dataclass(frozen=True)
class EncodeTask:
    split: Split
    corpus: CorpusConfig
    tokenizer: str
    pattern: str | None
    tokenizer_engine: str
    add_special_tokens: bool
    dtype: str
    eos_id: int | None
    threads: int
    batch_size: int
    folder: str
    key: str


_TOKENIZERS: dict[tuple[str, str | None, str], Any] = {}


def _tokenizer(task: EncodeTask) -> Any:
    from tokcli.loading import load_tokenizer

    cache_key = (task.tokenizer, task.pattern, task.tokenizer_engine)
    found = _TOKENIZERS.get(cache_key)
    if found is None:
        found = _TOKENIZERS[cache_key] = load_tokenizer(
            task.tokenizer,
            pattern=task.pattern,
            engine=task.tokenizer_engine,  # type: ignore[arg-type]
        )
    return found


def encode_split(task: EncodeTask) -> dict[str, Any]:
    """Encode one split into its shard, index and done marker; returns the done marker's content."""
    tokenizer = _tokenizer(task)
    folder = Path(task.folder)
    threads = task.threads or worker_threads()
    typecode = _TYPECODES[task.dtype]
    docs = tokens = 0
    offsets = array("Q", [0])
    with atomic_write(folder / shard_name(task.split.index, "bin"), "wb") as data:
        for batch in read_split(task.split, task.corpus, task.batch_size):
            arrays = None if task.add_special_tokens else tokenizer.encode_batch_array(batch.texts, threads=threads)
            if arrays is not None:  # tiktoken's id buffers: the same bytes without Python lists
                chunk, ends = ids_with_eos(arrays[0], arrays[1], task.eos_id, task.dtype)
                offsets.extend((ends + tokens).tolist())
                tokens += int(ends[-1]) if len(ends) else 0
                docs += len(ends)
                data.write(chunk.tobytes())
                continue
            ids = tokenizer.encode_batch(batch.texts, add_special_tokens=task.add_special_tokens, threads=threads)
            flat = array(typecode)
            for seq in ids:
                flat.extend(seq)
                if task.eos_id is not None:
                    flat.append(task.eos_id)
                tokens += len(seq) + (task.eos_id is not None)
                offsets.append(tokens)
            docs += len(ids)
            data.write(_little(flat).tobytes())
    with atomic_write(folder / shard_name(task.split.index, "idx"), "wb") as index:
        index.write(_little(offsets).tobytes())
    marker = {
        "split": task.split.describe(),
        "key": task.key,
        "docs": docs,
        "tokens": tokens,
        "bin": shard_name(task.split.index, "bin"),
        "idx": shard_name(task.split.index, "idx"),
        "bin_sha256": sha256_file(folder / shard_name(task.split.index, "bin")),
        "idx_sha256": sha256_file(folder / shard_name(task.split.index, "idx")),
    }
    with atomic_write(folder / shard_name(task.split.index, "done"), "wb") as handle:
        handle.write(orjson.dumps(marker, option=orjson.OPT_SORT_KEYS) + b"\n")
    return marker


def _little(values: array[int]) -> array[int]:
    import sys

    if sys.byteorder != "little":  # pragma: no cover - big-endian hosts
        values.byteswap()
    return values


def _run_key(task_fields: dict[str, Any], split: Split) -> str:
    stat = os.stat(split.location) if os.path.exists(split.location) else None
    facts = {**task_fields, "split": split.identity, "file": [stat.st_size, stat.st_mtime_ns] if stat else None}
    return hashlib.sha256(orjson.dumps(facts, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _valid_marker(folder: Path, index: int, key: str) -> dict[str, Any] | None:
    try:
        marker = orjson.loads((folder / shard_name(index, "done")).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(marker, dict) or marker.get("key") != key:
        return None
    if not all((folder / shard_name(index, s)).is_file() for s in ("bin", "idx")):
        return None
    for suffix in ("bin", "idx"):  # a shard copied from another run, or changed since: never resumed from
        path = folder / shard_name(index, suffix)
        if sha256_file(path) != marker.get(f"{suffix}_sha256"):
            raise InputError(
                f"{path}: does not match the checksum of its done marker (a shard of another run, or changed "
                "since)",
                hint="run again without --resume to encode every split",
            )
    return marker


@dataclass(frozen=True)
class ShardResult:
    output: Path
    splits: int
    encoded: int  # splits encoded by this run (the rest were already done: --resume)
    docs: int
    tokens: int
    dtype: str
    engine: str
    workers: int
    wall_s: float


def remove_leftovers(folder: Path) -> None:
    """Temporary files of killed tasks (a task killed mid-write leaves its ``.tokcli-tmp-*`` file)."""
    for leftover in folder.glob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def encode_shards(
    config: EncodeConfig,
    corpus: CorpusConfig,
    scale: ScaleConfig,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ShardResult:
    """Encode ``corpus`` into shards in the folder ``config.output``."""
    plan = _plan_run(config, corpus, scale)
    folder, splits = plan.folder, plan.splits
    folder.mkdir(exist_ok=True)
    started = time.monotonic()
    (folder / MANIFEST).unlink(missing_ok=True)  # a folder with a manifest is complete: not any more
    remove_leftovers(folder)
    key_fields = plan.key_fields()
    keys = [_run_key(key_fields, s) for s in splits]
    markers = _done_markers(folder, splits, keys) if plan.config.resume else _forget_done(folder, splits)
    todo = [plan.task(s, key) for s, key in zip(splits, keys, strict=True) if s.index not in markers]
    try:
        with open_engine(scale, tasks=len(todo)) as engine:
            for marker in engine.map(encode_split, todo):
                markers[marker["split"]["index"]] = marker
                if progress is not None:
                    progress(len(markers), len(splits))
            engine_name, workers = engine.name, engine.workers
    finally:
        remove_leftovers(folder)
    _remove_stale(folder, len(splits))
    manifest = plan.manifest([markers[s.index] for s in splits])
    with atomic_write(folder / MANIFEST, "wb") as handle:
        handle.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    return ShardResult(
        output=folder,
        splits=len(splits),
        encoded=len(todo),
        docs=manifest["docs"],
        tokens=manifest["tokens"],
        dtype=plan.dtype,
        engine=engine_name,
        workers=workers,
        wall_s=round(time.monotonic() - started, 3),
    )


@dataclass(frozen=True)
class _ShardPlan:
    """A sharded run's checked options: the folder, the tokenizer, the ids' dtype and eos, the splits."""

    config: EncodeConfig  # format "bin"
    corpus: CorpusConfig
    folder: Path
    tokenizer: Any  # LoadedTokenizer
    eos_id: int | None
    dtype: str
    splits: list[Split]

    def key_fields(self) -> dict[str, Any]:
        """What every split's run key holds besides the split itself (see :func:`_run_key`)."""
        return {
            "tokenizer_sha256": self.tokenizer.info.sha256,
            "tokenizer_engine": self.config.engine,
            "pattern": self.config.pattern,
            "add_special_tokens": self.config.add_special_tokens,
            "dtype": self.dtype,
            "eos_id": self.eos_id,
            "reader": {k: v for k, v in asdict(self.corpus).items() if k not in ("inputs",)},
        }

    def task(self, split: Split, key: str) -> EncodeTask:
        """The task that encodes ``split`` (sent to a worker: names and options, no tokenizer object)."""
        config = self.config
        return EncodeTask(
            split=split,
            corpus=self.corpus,
            tokenizer=config.tokenizer,
            pattern=config.pattern,
            tokenizer_engine=config.engine,
            add_special_tokens=config.add_special_tokens,
            dtype=self.dtype,
            eos_id=self.eos_id,
            threads=config.threads,
            batch_size=config.batch_size,
            folder=str(self.folder),
            key=key,
        )

    def manifest(self, ordered: list[dict[str, Any]]) -> dict[str, Any]:
        """The manifest of the done markers of every split, in split order."""
        return {
            "format": FORMAT,
            "version": 1,
            "tokenizer": {"name": self.tokenizer.name, "sha256": self.tokenizer.info.sha256},
            "dtype": self.dtype,
            "byteorder": "little",
            "eos_id": self.eos_id,
            "add_special_tokens": self.config.add_special_tokens,
            "docs": sum(m["docs"] for m in ordered),
            "tokens": sum(m["tokens"] for m in ordered),
            "shards": [
                {k: m[k] for k in ("bin", "idx", "docs", "tokens", "bin_sha256", "idx_sha256", "split")}
                for m in ordered
            ],
        }


def _plan_run(config: EncodeConfig, corpus: CorpusConfig, scale: ScaleConfig) -> _ShardPlan:
    """Check the options and the output folder, load the tokenizer and plan the splits; nothing is written."""
    from tokcli.encode.run import binary_dtype, check_output_config, resolve_eos
    from tokcli.loading import load_tokenizer

    if config.format not in ("auto", "bin"):
        raise UsageError(
            f"a shard folder (-o {config.output}) holds bin shards, not --format {config.format}",
            hint="drop --format, or give a file path with -o",
        )
    config = _with_format(config)
    folder = Path(str(config.output))
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is not a folder", hint="give a folder (DIR/) or a file with --format bin")
    if not folder.parent.is_dir():
        raise OutputError(f"cannot write {folder}: folder {folder.parent} does not exist", hint="create it first")
    tokenizer = load_tokenizer(config.tokenizer, pattern=config.pattern, engine=config.engine)
    # a file path, as -f bin needs
    check_output_config(tokenizer, _with_format(config, output=str(folder / MANIFEST)))
    eos_id = resolve_eos(tokenizer, config.eos)
    dtype = binary_dtype(config, tokenizer, eos_id)
    splits = plan_splits(corpus, scale.split_size or DEFAULT_SPLIT_SIZE, command="sharded encode (-o DIR/)")
    return _ShardPlan(config, corpus, folder, tokenizer, eos_id, dtype, splits)


def _done_markers(folder: Path, splits: list[Split], keys: list[str]) -> dict[int, dict[str, Any]]:
    """``--resume``: the done markers of the splits already encoded with the same run key."""
    markers: dict[int, dict[str, Any]] = {}
    for split, key in zip(splits, keys, strict=True):
        found = _valid_marker(folder, split.index, key)
        if found is not None:
            markers[split.index] = found
    return markers


def _forget_done(folder: Path, splits: list[Split]) -> dict[int, dict[str, Any]]:
    """No ``--resume``: remove the splits' done markers, so every split is encoded again (no markers)."""
    for split in splits:
        (folder / shard_name(split.index, "done")).unlink(missing_ok=True)
    return {}


def _with_format(config: EncodeConfig, **changes: Any) -> EncodeConfig:
    import dataclasses

    return dataclasses.replace(config, format="bin", **changes)


def _remove_stale(folder: Path, splits: int) -> None:
    """Shards of an earlier run with more splits."""
    for path in folder.iterdir():
        match = _SHARD_RE.match(path.name)
        if match and int(match.group(1)) >= splits:
            path.unlink(missing_ok=True)
