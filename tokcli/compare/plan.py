"""Which corpora ``tokcli compare`` measures: input files and folders, and the files of a parallel
corpus (one per language, line-aligned) with its reference language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from tokcli.compare.options import CorpusSpec
from tokcli.errors import InputError

REFERENCE_LANGUAGES = ("eng_Latn", "en", "eng")


def plan_corpora(inputs: Sequence[str], parallel: str | None) -> list[CorpusSpec]:
    """Each input file is one corpus named by its stem (``NAME=PATH`` overrides); a folder is one
    corpus per file; ``parallel`` is a folder with one file per language."""
    specs: list[CorpusSpec] = []
    for item in inputs:
        name, sep, path = item.partition("=")
        if not sep or "/" in name or not name:
            name, path = "", item
        p = Path(path)
        if p.is_dir():
            files = _corpus_files(p)
            if not files:
                raise InputError(f"{p}: folder holds no corpus files")
            specs += [CorpusSpec(_stem(f), (str(f),)) for f in files]
        else:
            specs.append(CorpusSpec(name or _stem(p), (path,)))
    if parallel is not None:
        specs += _parallel_corpora(Path(parallel))
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(
            f"two corpora are named {duplicates[0]!r}", hint="name them apart with NAME=PATH on the command line"
        )
    if not specs:
        raise InputError("no corpus given", hint="pass corpus files, folders, or --parallel DIR")
    return specs


def _parallel_corpora(folder: Path) -> list[CorpusSpec]:
    if not folder.is_dir():
        raise InputError(f"--parallel {folder}: not a folder", hint="give the folder holding one file per language")
    files = _corpus_files(folder)
    if not files:  # FLORES-200's layout: dev/ and devtest/ of one file per language, read one after the other
        splits = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
        by_language: dict[str, list[str]] = {}
        for split in splits:
            for f in _corpus_files(split):
                by_language.setdefault(_stem(f), []).append(str(f))
        if not by_language:
            raise InputError(f"--parallel {folder}: no files found")
        return [CorpusSpec(lang, tuple(paths), parallel=True) for lang, paths in sorted(by_language.items())]
    return [CorpusSpec(_stem(f), (str(f),), parallel=True) for f in files]


def _corpus_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


# FLORES-200 names its files by language and split: eng_Latn.dev, eng_Latn.devtest
SPLIT_SUFFIXES = (".dev", ".devtest", ".test", ".train")


def _stem(path: Path) -> str:
    """A corpus's name from its file: ``eng.jsonl`` -> ``eng``, ``eng_Latn.devtest`` -> ``eng_Latn``."""
    name = path.name
    for suffix in (".gz", ".zst", ".zstd"):
        name = name.removesuffix(suffix)
    if name.endswith((".txt", ".jsonl", ".json", ".parquet", ".csv", ".tsv")):
        return name.split(".")[0]
    for suffix in SPLIT_SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def reference_language(requested: str | None, corpora: Sequence[CorpusSpec]) -> str | None:
    """The parallel corpus premiums are measured against: ``requested`` (--reference), else the first
    of :data:`REFERENCE_LANGUAGES` present; None without parallel corpora."""
    parallel = [s.name for s in corpora if s.parallel]
    if not parallel:
        return None
    if requested is not None:
        if requested not in parallel:
            raise InputError(
                f"reference language {requested!r} is not in --parallel",
                hint="choose one of: " + ", ".join(parallel[:10]) + ("..." if len(parallel) > 10 else ""),
            )
        return requested
    for name in REFERENCE_LANGUAGES:
        if name in parallel:
            return name
    raise InputError("no English file in --parallel to use as the reference", hint="name one with --reference LANG")


def check_parallel_lengths(corpora: Sequence[CorpusSpec], reference: str, docs: Mapping[str, int]) -> None:
    """Every parallel file has as many lines (``docs`` per corpus name) as the reference."""
    ref_docs = docs[reference]
    for spec in corpora:
        if spec.parallel and docs[spec.name] != ref_docs:
            raise InputError(
                f"parallel files differ in length: {spec.paths[0]} has {docs[spec.name]} lines, "
                f"the reference {reference} has {ref_docs}",
                hint="every file of a parallel corpus needs the same number of lines",
            )
