"""The JSON lines reader's block path gives exactly what its line-by-line reference gives: the same
documents and ids, the same batches, the same error after the same documents (tokcli.corpus.jsonl.JsonlReader)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokcli.corpus import Corpus, CorpusConfig
from tokcli.corpus import streams as corpus_streams
from tokcli.corpus.batch import RawBatch
from tokcli.corpus.jsonl import JsonlReader, read_jsonl
from tokcli.errors import InputError

DATA = Path(__file__).parent / "data"
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "400")), deadline=None)

texts = st.one_of(st.text(max_size=30), st.sampled_from(["", " ", "a\nb", "\u2028", "é\r\n"]))
values = st.one_of(texts, st.none(), st.integers(), st.lists(st.integers(), max_size=2))
# records with a string text (the block path's case), then records the reference skips or refuses
records = st.fixed_dictionaries({"text": texts}, optional={"id": values, "meta": texts})
odd_records = st.one_of(st.fixed_dictionaries({"text": values}), st.fixed_dictionaries({"body": texts}))


def dumps(record: dict[str, object], ascii: bool) -> bytes:
    return json.dumps(record, ensure_ascii=ascii).encode()


good_lines = st.builds(dumps, records, st.booleans())
odd_lines = st.builds(dumps, odd_records, st.booleans())
bad_lines = st.one_of(
    st.sampled_from(
        [b"", b"  ", b"\r", b'\xef\xbb\xbf{"text": "bom"}', b"[1, 2]", b'"text"', b"{", b"\0", b'{"text": "\\ud800x"}']
    ),
    st.binary(max_size=12),
    good_lines.map(lambda line: line[:-1]),  # cut short
    st.builds(lambda n: b'{"text": "' + b"x" * n + b'"}', st.integers(min_value=0, max_value=60)),
)
streams = st.builds(
    lambda lines, ending, crlf: (b"\r\n" if crlf else b"\n").join(lines) + ending,
    st.one_of(
        st.lists(good_lines, max_size=25), st.lists(st.one_of(*[good_lines] * 4, odd_lines, bad_lines), max_size=25)
    ),
    st.sampled_from([b"", b"\n"]),
    st.booleans(),
)


def outcome(
    data: bytes, fast: bool, *, limit: int, keep_empty: bool, errors: str
) -> tuple[list[tuple[str, str | None]], str | None]:
    """Documents (text, id) read before the end or the error, and the error message."""
    reader = JsonlReader("f.jsonl", None, "text", "id", errors, keep_empty, limit)
    stream = io.BytesIO(data)
    chunks = reader.chunks(stream) if fast else reader.lines(io.BufferedReader(stream))
    got: list[tuple[str, str | None]] = []
    try:
        for chunk_texts, chunk_ids in chunks:
            got += zip(chunk_texts, chunk_ids, strict=True)
    except InputError as exc:
        return got, str(exc)
    return got, None


@FUZZ
@given(
    data=streams,
    block=st.sampled_from([1, 7, 64, 1 << 18]),
    limit=st.sampled_from([5, 40, 1000]),
    keep_empty=st.booleans(),
    errors=st.sampled_from(["strict", "replace"]),
)
def test_block_path_equals_the_line_reference(
    data: bytes, block: int, limit: int, keep_empty: bool, errors: str
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(corpus_streams, "BLOCK", block)
        fast = outcome(data, True, limit=limit, keep_empty=keep_empty, errors=errors)
    assert fast == outcome(data, False, limit=limit, keep_empty=keep_empty, errors=errors)


def test_batches_and_ids_on_a_real_file(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (DATA / "parallel" / "udhr" / "eng.jsonl").read_bytes()
    data = data + b"\n" + data.replace(b'"id"', b'"x"')  # a blank line, then records without ids

    def batches(block: int) -> list[tuple[list[str], list[str | None] | None]]:
        monkeypatch.setattr(corpus_streams, "BLOCK", block)
        read = read_jsonl(io.BufferedReader(io.BytesIO(data)), "f", None, "s", "text", "id", "strict", 7)
        return [(batch.texts, batch.ids) for batch in read if isinstance(batch, RawBatch)]

    reference = batches(1)  # every block holds a piece of one line: the blocks are whole lines only
    assert [len(t) for t, _ in reference[:-1]] == [7] * (len(reference) - 1)
    assert any(ids is None for _, ids in reference) and any(ids is not None for _, ids in reference)
    assert batches(1 << 18) == batches(100) == reference


def test_a_line_longer_than_the_limit_is_never_read_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus_streams, "BLOCK", 16)
    reads: list[int] = []

    class Counting(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            reads.append(size if size is not None else -1)
            return super().read(size)

    data = b'{"text": "ok"}\n{"text": "' + b"x" * 10_000 + b'"}\n'
    reader = JsonlReader("f", None, "text", "id", "strict", False, 100)
    with pytest.raises(InputError, match=r"^f:2: .* is longer than --max-line-bytes"):
        for _ in reader.chunks(Counting(data)):
            pass
    assert sum(reads) < 400


def test_a_lone_surrogate_escape_is_an_error_unless_replaced(tmp_path: Path) -> None:
    """Python's ``json.dumps`` writes ``"\\ud83d"`` for half an emoji; with ``--errors replace`` it reads as
    U+FFFD, and the ids are those the tokenizer gives the same string (tiktoken's own replacement)."""
    from tokcli import load_tokenizer
    from tokcli.errors import InputError

    path = tmp_path / "s.jsonl"
    path.write_text('{"text": "ok \\ud83d here"}\n{"text": "fine"}\n')
    with pytest.raises(InputError, match="--errors replace"):
        list(Corpus(CorpusConfig(inputs=(str(path),))).documents())
    docs = [d.text for d in Corpus(CorpusConfig(inputs=(str(path),), errors="replace")).documents()]
    assert docs == ["ok \ufffd here", "fine"]
    tok = load_tokenizer(Path(__file__).parent / "data" / "tokenizers" / "bpe-bytelevel.tiktoken", pattern="gpt2")
    assert tok.encode(docs[0]) == tok.encode("ok \ud83d here")
