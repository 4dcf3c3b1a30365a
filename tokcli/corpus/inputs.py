"""Input resolution: files, folders (recursively, streamed in sorted order), globs, ``-`` (stdin) and
``hf:NAME[:CONFIG][@SPLIT]`` hub names become :class:`~tokcli.corpus.batch.InputFile` objects, each with
its format from the file name."""

from __future__ import annotations

import glob
import itertools
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from tokcli.corpus.batch import InputFile
from tokcli.errors import InputError
from tokcli.files import compression_of

FORMAT_OF_SUFFIX = {
    ".txt": "text",
    ".text": "text",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
}
COMPRESSIBLE = {"text", "jsonl"}  # read through tokcli.files.open_binary; HF-backed formats are not
DATASET_MARKERS = ("dataset_info.json", "state.json")
DATASET_DICT_MARKER = "dataset_dict.json"
SUPPORTED_HINT = ".txt, .jsonl, .json (also .gz/.zst), .parquet, .csv, .tsv or a save_to_disk folder"


def format_of(path: str | os.PathLike[str]) -> str | None:
    """Format from the file name (compression suffix ignored), or None when unknown."""
    p = Path(path)
    name = p.name.lower()
    if compression_of(p):
        name = name.rsplit(".", 1)[0]
    return FORMAT_OF_SUFFIX.get(Path(name).suffix)


def source_name(path: str | os.PathLike[str]) -> str:
    """The file's stem without compression suffix: ``web.jsonl.gz`` -> ``web``."""
    name = Path(path).name
    if compression_of(name):
        name = name.rsplit(".", 1)[0]
    return Path(name).stem or name


def _is_dataset_folder(path: Path) -> bool:
    return (path / DATASET_DICT_MARKER).is_file() or all((path / m).is_file() for m in DATASET_MARKERS)


def check_file(path: Path, kind: str) -> None:
    """Refuse an unreadable file, or a compressed file of a format read through HF datasets."""
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied", hint="check the file's permissions")
    if kind in ("parquet", "csv", "tsv") and compression_of(path):
        raise InputError(f"{path}: compressed {kind} files are not supported", hint="decompress it first")


def _file_input(path: Path, fmt: str, key: str) -> InputFile:
    kind = fmt if fmt != "auto" else (format_of(path) or "text")  # unknown suffix: plain text
    check_file(path, kind)
    return InputFile(kind=kind, location=str(path), source=source_name(path), key=key)


def _folder_inputs(root: Path, fmt: str, shown: str) -> Iterator[InputFile]:
    """The supported files under ``root``, recursively, in sorted order of their path parts, streamed.

    A depth-first walk whose entries are sorted by name at each level gives the same order as sorting
    every path, without holding the whole tree: only the names of the folders on the current path are
    in memory (a folder of a million files costs its names, not a million InputFile objects), and
    the first file is read before the last is listed. Hidden files and folders are skipped; symlinked
    folders are not followed (as ``os.walk``) unless they are ``save_to_disk`` datasets."""
    if _is_dataset_folder(root):
        yield InputFile(kind="arrow", location=str(root), source=root.name, key=root.name)
        return
    found = False
    for item in _walk_sorted(root, root, fmt):
        found = True
        yield item
    if not found:
        wanted = f"{fmt} files" if fmt != "auto" else f"supported files ({SUPPORTED_HINT})"
        raise InputError(f"{shown}: folder has no {wanted}", hint="point at the data files or another folder")


def _walk_sorted(root: Path, here: Path, fmt: str) -> Iterator[InputFile]:
    import heapq

    files: list[str] = []
    dirs: list[str] = []
    try:
        with os.scandir(here) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    continue
                if is_dir:
                    dirs.append(name)
                    continue
                if not _regular(entry.path, entry.is_file):
                    continue
                kind = format_of(name)
                if kind is None or (fmt != "auto" and kind != fmt):
                    continue
                if kind not in COMPRESSIBLE and compression_of(name):
                    continue
                files.append(name)
    except OSError as exc:
        raise InputError(f"{here}: cannot list folder ({exc.strerror})", hint="check its permissions") from None
    files.sort()
    dirs.sort()
    for name, is_dir in heapq.merge(((f, False) for f in files), ((d, True) for d in dirs)):
        path = here / name
        rel = path.relative_to(root).as_posix()
        if not is_dir:
            kind = format_of(name) or "text"
            check_file(path, kind)
            yield InputFile(kind=kind, location=str(path), source=source_name(path), key=rel)
        elif _is_dataset_folder(path):
            yield InputFile(kind="arrow", location=str(path), source=name, key=rel)
        elif not path.is_symlink():
            yield from _walk_sorted(root, path, fmt)
    del files, dirs


def _regular(path: str, is_file: Callable[[], bool]) -> bool:
    """Whether a folder entry or glob match is a regular file; a FIFO, socket or device found there is
    skipped with a warning, never opened (reading one would wait forever, or read a disk)."""
    try:
        if is_file():
            return True
    except OSError:
        return False
    logging.getLogger("tokcli").warning("%s: not a regular file (FIFO, socket or device): skipped", path)
    return False


def parse_hub_spec(spec: str) -> tuple[str, str | None, str]:
    """``NAME[:CONFIG][@SPLIT]`` (the part after ``hf:``) -> (name, config, split)."""
    rest, _, split = spec.partition("@")
    name, _, config = rest.partition(":")
    if not name:
        raise InputError(f"bad hub dataset 'hf:{spec}'", hint="write it as hf:NAME[:CONFIG][@SPLIT]")
    return name, config or None, split or "train"


def resolve_inputs(inputs: tuple[str, ...], fmt: str) -> list[InputFile]:
    """Expand files, folders (recursively, sorted), globs, ``-`` and ``hf:`` names, checking they exist."""
    return list(iter_inputs(inputs, fmt))


def iter_inputs(inputs: tuple[str, ...], fmt: str) -> Iterator[InputFile]:
    """:func:`resolve_inputs` as a stream: every input is checked first (a missing path fails before any
    reading), then folders are expanded while the files before them are read."""
    plan: list[Iterable[InputFile]] = []
    for item in inputs:
        if item == "-":
            plan.append([InputFile(kind="stdin", location="-", source="stdin", key="stdin")])
            continue
        if item.startswith("hf:"):
            name, _, _ = parse_hub_spec(item[3:])
            plan.append([InputFile(kind="hf", location=item[3:], source=name, key=item)])
            continue
        path = Path(item).expanduser()
        if path.is_dir():
            plan.append(_folder_inputs(path, fmt, item))
        elif path.is_file() or (path.exists() and not glob.has_magic(item)):
            plan.append([_file_input(path, fmt, path.name)])
        elif glob.has_magic(item):
            plan += _glob_inputs(item, fmt)
        else:
            raise InputError(f"{item}: no such file or directory", hint="check the path")
    return itertools.chain.from_iterable(plan)


def _glob_inputs(pattern: str, fmt: str) -> list[Iterable[InputFile]]:
    """The files and folders a glob matches, sorted; a glob matching nothing is an error."""
    matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
    if not matches:
        raise InputError(f"no files match {pattern!r}", hint="check the pattern (quote it so the shell keeps it)")
    plan: list[Iterable[InputFile]] = []
    for match in matches:
        mp = Path(match)
        if mp.is_dir():
            plan.append(_folder_inputs(mp, fmt, match))
        elif fmt == "auto" and format_of(mp) is None:
            continue  # a glob like data/* also matches READMEs: keep supported files only
        elif not _regular(match, mp.is_file):
            continue
        else:
            plan.append([_file_input(mp, fmt, mp.name)])
    return plan
