"""Inputs that must never be read into memory whole: a line without end, a 10 GB sparse file of NUL
bytes, a JSON array bigger than the limit. Each stops early with an error naming the file and the byte
offset (``--max-line-bytes``, small here so the tests stay fast; scripts/check_big_inputs.py runs the
real 1 GB / 10 GB / 1 million files cases and measures peak RSS)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rel_support import BPE, run_tokcli

from tokcli.corpus import Corpus, CorpusConfig
from tokcli.corpus.streams import BLOCK
from tokcli.errors import ConfigError, InputError

MB = 1 << 20


def read_all(path: Path, **options: object) -> list[str]:
    return [d.text for d in Corpus(CorpusConfig(inputs=(str(path),), **options)).documents()]  # type: ignore[arg-type]


def write_long_line(path: Path, before: bytes, size: int) -> None:
    with open(path, "wb") as handle:
        handle.write(before)
        for _ in range(size // MB):
            handle.write(b"x" * MB)


@pytest.mark.parametrize("doc_sep", ["line", "blank", "file"])
def test_text_line_longer_than_the_limit_names_its_offset(tmp_path: Path, doc_sep: str) -> None:
    path = tmp_path / "long.txt"
    write_long_line(path, b"short line\n" * 100, 3 * MB)
    with pytest.raises(InputError) as info:
        read_all(path, max_line_bytes=MB, doc_sep=doc_sep)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "--max-line-bytes (1MiB)" in message
    if doc_sep == "line":
        assert "the line starting at byte offset 1100 " in message
    assert "raise --max-line-bytes" in message


def test_a_long_paragraph_of_short_lines_is_bounded_too(tmp_path: Path) -> None:
    path = tmp_path / "para.txt"
    path.write_bytes(b"first paragraph\n\n" + b"a line of the endless paragraph\n" * 100_000)  # 3.1 MB
    with pytest.raises(InputError, match=r"a paragraph \(doc_sep=blank\) ending at byte offset \d+ is longer"):
        read_all(path, max_line_bytes=MB, doc_sep="blank")
    assert len(read_all(path, doc_sep="blank")) == 2  # within the default limit


def test_lines_up_to_the_limit_are_read_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "ok.txt"
    long = "é" * (BLOCK * 3)  # 1.5 MiB of UTF-8 across several read blocks
    path.write_text(f"a\n{long}\nb\n", encoding="utf-8")
    assert read_all(path, max_line_bytes=2 * MB) == ["a", long, "b"]


def test_jsonl_line_longer_than_the_limit_is_never_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    head = b'{"text": "one"}\n{"text": "two"}\n'
    write_long_line(path, head + b'{"text": "', 3 * MB)
    with pytest.raises(InputError) as info:
        read_all(path, max_line_bytes=MB)
    assert str(info.value).startswith(f"{path}:3: the line starting at byte offset {len(head)} is longer")


def test_json_array_bigger_than_the_limit_points_to_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"text": "x" * 1000}] * 3000), encoding="utf-8")  # 3 MB
    with pytest.raises(InputError, match=r"big\.json: the JSON array .* longer than --max-line-bytes.*JSON lines"):
        read_all(path, max_line_bytes=MB)
    assert len(read_all(path)) == 3000


@pytest.fixture
def sparse_10gb(tmp_path: Path) -> Path:
    """10 GB of NUL bytes that take no disk space (a hole)."""
    path = tmp_path / "hole.bin"
    with open(path, "wb") as handle:
        handle.truncate(10 * 10**9)
    if os.stat(path).st_blocks > 1024:
        pytest.skip("the file system does not support sparse files")
    return path


@pytest.mark.parametrize(("suffix", "extra"), [(".txt", ()), (".txt", ("--doc-sep", "file")), (".jsonl", ())])
def test_10gb_sparse_file_is_a_clear_error_not_an_allocation(
    sparse_10gb: Path, tmp_path: Path, suffix: str, extra: tuple[str, ...]
) -> None:
    path = sparse_10gb.rename(sparse_10gb.with_suffix(suffix))
    out = tmp_path / "ids.txt"
    # 900 MB of address space: reading the 10 GB whole (or line by line without a limit) would not fit.
    argv = ["--max-memory", "900MB", "encode", "-t", str(BPE), str(path), "-o", str(out), "--threads", "1", *extra]
    proc = run_tokcli(argv, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "looks like a binary file (NUL byte at byte offset 0)" in proc.stderr, proc.stderr
    assert str(path) in proc.stderr and proc.stderr.count("\n") == 1
    assert not out.exists()


def test_limit_must_be_positive() -> None:
    with pytest.raises(ConfigError, match=r"corpus.max_line_bytes \(--max-line-bytes\) must be at least 1 byte"):
        CorpusConfig(inputs=("x",), max_line_bytes=0)


# ------------------------------------------------------------------------------ many small files


def test_a_folder_of_20k_files_is_streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first document is read before the other files are expanded into InputFile objects (a
    million files must not cost a million objects up front); all of them are still read, in order."""
    from tokcli.corpus import inputs as corpus_inputs

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(20_000):
        (folder / f"doc{i:05d}.txt").write_bytes(f"document {i}\n".encode())
    expanded = 0
    check = corpus_inputs.check_file

    def counting(path: Path, kind: str) -> None:
        nonlocal expanded
        expanded += 1
        check(path, kind)

    monkeypatch.setattr(corpus_inputs, "check_file", counting)
    docs = Corpus(CorpusConfig(inputs=(str(folder),))).documents()
    assert next(docs).text == "document 0"
    assert expanded <= 2
    rest = [d.text for d in docs]
    assert expanded == 20_000 and len(rest) == 19_999 and rest[-1] == "document 19999"


def _reference_order(root: Path) -> list[str]:
    """The order tokcli always used: os.walk, then sort every path by its parts."""
    keys = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        keys += [(Path(folder) / f).relative_to(root).as_posix() for f in files if not f.startswith(".")]
    return sorted((k for k in keys if k.endswith((".txt", ".jsonl"))), key=lambda k: Path(k).parts)


def test_streamed_walk_keeps_the_sorted_order(tmp_path: Path) -> None:
    from tokcli.corpus.inputs import resolve_inputs

    names = [
        "a.txt", "a/x.txt", "a/b/c.txt", "a-b.txt", "a_b/z.jsonl", "a b/y.txt", "B.txt", "b/a.txt",
        "é.txt", "z/.hidden.txt", ".git/x.txt", "a/b.txt", "a/b/a.txt", "10.txt", "9.txt", "n/README.md",
    ]  # fmt: skip
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    got = [f.key for f in resolve_inputs((str(tmp_path),), "auto")]
    assert got == _reference_order(tmp_path)
    assert len(got) == 13
