"""encode/decode core: every output format, batching, binary shards, decoding, errors, atomicity."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokcli.bpe.byte_level import render_token
from tokcli.corpus import Document
from tokcli.encode import (
    DecodeConfig,
    EncodeConfig,
    corpus_documents,
    decode_lines,
    encode_documents,
    write_decoded,
)
from tokcli.encode.writers import NPY_HEADER_BYTES, choose_dtype
from tokcli.errors import ConfigError, InputError, UsageError
from tokcli.loading import LoadedTokenizer, load_tokenizer
from tokcli.loading.base import TokenizerInfo

DATA = Path(__file__).parent / "data"
TOK = DATA / "tokenizers"


def udhr_docs() -> list[Document]:
    docs = []
    for path in sorted((DATA / "parallel" / "udhr").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            record = json.loads(line)
            docs.append(Document(text=record["text"], source=path.stem, id=f"{path.stem}-{record['id']}"))
    return [*docs, Document(text="", source="x", id="empty"), Document(text="a\r\n\r\nb  \n", source="x", id="ws")]


@pytest.fixture(scope="module")
def docs() -> list[Document]:
    return udhr_docs()


@pytest.fixture(scope="module", params=["bpe-bytelevel.json", "bpe-bytelevel.tiktoken", "spm-bpe-bytefallback.model"])
def tok(request: pytest.FixtureRequest) -> LoadedTokenizer:
    return load_tokenizer(TOK / request.param, pattern="gpt2" if request.param.endswith(".tiktoken") else None)


def run_text(tok: LoadedTokenizer, docs: Sequence[Document | str], **options: object) -> tuple[str, int]:
    out = io.StringIO()
    result = encode_documents(tok, docs, EncodeConfig(**options), stdout=out)  # type: ignore[arg-type]
    return out.getvalue(), result.tokens


# --- text formats -------------------------------------------------------------------------------------


def test_ids_format(tok: LoadedTokenizer, docs: list[Document]) -> None:
    text, total = run_text(tok, docs, format="ids", batch_size=7)
    expected = tok.encode_batch([d.text for d in docs])
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == len(docs) + 1
    assert [[int(w) for w in line.split()] for line in lines[:-1]] == expected
    assert total == sum(map(len, expected))


def test_results_do_not_depend_on_batching(tok: LoadedTokenizer, docs: list[Document]) -> None:
    reference, _ = run_text(tok, docs)
    assert run_text(tok, docs, batch_size=1)[0] == reference
    assert run_text(tok, docs, batch_bytes=100, threads=2)[0] == reference
    assert run_text(tok, [d.text for d in docs], batch_size=3)[0] == reference  # plain strings work too


def test_count_format(tok: LoadedTokenizer, docs: list[Document]) -> None:
    text, total = run_text(tok, docs, format="count")
    counts = [int(x) for x in text.split()]
    assert counts == [len(ids) for ids in tok.encode_batch([d.text for d in docs])]
    assert total == sum(counts) and counts[-2] == 0  # the empty document


def test_jsonl_format_passes_ids_through(tok: LoadedTokenizer, docs: list[Document]) -> None:
    text, _ = run_text(tok, docs, format="jsonl", add_special_tokens=True)
    records = [json.loads(line) for line in text.splitlines()]
    expected = tok.encode_batch([d.text for d in docs], add_special_tokens=True)
    assert [r["ids"] for r in records] == expected
    assert [r["n_tokens"] for r in records] == [len(ids) for ids in expected]
    assert [r["id"] for r in records] == [d.id for d in docs]
    text, _ = run_text(tok, ["no id"], format="jsonl")
    assert "id" not in json.loads(text)


def test_tokens_format(tok: LoadedTokenizer) -> None:
    text, _ = run_text(tok, ["Hello world\n🤖"], format="tokens")
    ids = tok.encode("Hello world\n🤖")
    assert text == " ".join(render_token(tok.token_bytes(i)) for i in ids) + "\n"
    assert "␣w" in text and "\\n" in text and "\\xf0" in text  # space, newline, a partial emoji


def test_text_output_file_is_written_atomically(tmp_path: Path, docs: list[Document]) -> None:
    tok = load_tokenizer(TOK / "bpe-bytelevel.json")
    out = tmp_path / "ids.txt"
    out.write_text("old content\n")

    def failing() -> Iterator[Document]:
        yield from docs[:50]
        raise InputError("bad record in corpus")

    with pytest.raises(InputError):
        encode_documents(tok, failing(), EncodeConfig(output=str(out), batch_size=10))
    assert out.read_text() == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["ids.txt"]  # no temporary file left behind
    result = encode_documents(tok, docs, EncodeConfig(output=str(out)))
    assert result.output == out and len(out.read_text().splitlines()) == len(docs)


# --- binary formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bin", "npy"])
@pytest.mark.parametrize("eos", [None, "<|endoftext|>"])
def test_binary_formats(tmp_path: Path, docs: list[Document], kind: str, eos: str | None) -> None:
    tok = load_tokenizer(TOK / "bpe-bytelevel.json")
    out = tmp_path / f"train.{kind}"
    result = encode_documents(tok, docs, EncodeConfig(format=kind, output=str(out), eos=eos, batch_size=9))  # type: ignore[arg-type]
    expected = tok.encode_batch([d.text for d in docs])
    eos_id = None if eos is None else 0
    flat = [i for ids in expected for i in [*ids, *([eos_id] if eos_id is not None else [])]]
    array = np.load(out) if kind == "npy" else np.fromfile(out, dtype="<u2")
    assert array.dtype == np.dtype("<u2") and array.tolist() == flat
    if kind == "npy":
        assert out.read_bytes()[:6] == b"\x93NUMPY" and (NPY_HEADER_BYTES % 64) == 0
        assert len(out.read_bytes()) == NPY_HEADER_BYTES + 2 * len(flat)
    index = json.loads((tmp_path / f"train.{kind}.index.json").read_text())
    assert result.index == tmp_path / f"train.{kind}.index.json"
    assert index["n_docs"] == len(docs) and index["n_tokens"] == len(flat) and index["dtype"] == "uint16"
    assert index["eos_id"] == eos_id and index["format"] == kind and index["data"] == out.name
    offsets = index["offsets"]
    assert len(offsets) == len(docs) + 1 and offsets[-1] == len(flat)
    for i, ids in enumerate(expected):
        piece = array[offsets[i] : offsets[i + 1]].tolist()
        assert piece == ids + ([eos_id] if eos_id is not None else [])
    assert result.tokens == sum(map(len, expected)) and result.dtype == "uint16"


def test_binary_uint32_override_and_empty_input(tmp_path: Path) -> None:
    tok = load_tokenizer(TOK / "spm-bpe-bytefallback.model")
    out = tmp_path / "x.npy"
    encode_documents(tok, ["hello", "world"], EncodeConfig(format="npy", output=str(out), dtype="uint32", eos="2"))
    array = np.load(out)
    assert array.dtype == np.dtype("<u4") and array.tolist() == [*tok.encode("hello"), 2, *tok.encode("world"), 2]
    encode_documents(tok, [], EncodeConfig(format="npy", output=str(out)))
    assert np.load(out).tolist() == []
    assert json.loads((tmp_path / "x.npy.index.json").read_text())["offsets"] == [0]


@pytest.mark.parametrize("eos", [None, "0"])
def test_array_path_gives_the_list_path_output(
    tmp_path: Path, tok: LoadedTokenizer, docs: list[Document], monkeypatch: pytest.MonkeyPatch, eos: str | None
) -> None:
    """count/bin/npy take encode_batch_array's arrays when the engine gives them (tiktoken): the
    output files, index and totals are byte for byte those of the list path (arrays switched off)."""
    texts = [d.text for d in docs] + ["<|endoftext|> x", "", "\n"]
    if tok.info.engine == "tiktoken":
        texts.append("lone \ud800 surrogate")  # (sentencepiece rejects these)

    def run_all(tag: str) -> dict[str, object]:
        out: dict[str, object] = {}
        for fmt in ("count", "bin", "npy"):
            path = tmp_path / f"{tag}.{fmt}"
            options = {"eos": eos} if fmt != "count" else {}
            result = encode_documents(
                tok,
                texts,
                EncodeConfig(format=fmt, output=str(path), batch_size=13, threads=2, **options),  # type: ignore[arg-type]
            )
            out[fmt] = (path.read_bytes(), result.tokens, result.docs)
            if fmt != "count":
                index = json.loads(path.with_name(path.name + ".index.json").read_text())
                out[fmt + ".index"] = {k: v for k, v in index.items() if k != "data"}
        return out

    arrays = tok.encode_batch_array(["a"])
    with_arrays = run_all("arrays")
    monkeypatch.setattr(tok, "encode_batch_array", lambda texts, threads=1: None)
    with_lists = run_all("lists")
    assert with_arrays == with_lists
    counts = [int(x) for x in with_lists["count"][0].split()]  # type: ignore[index]
    assert counts == [len(ids) for ids in tok.encode_batch(texts)]
    assert (arrays is not None) == (tok.info.engine == "tiktoken")  # the array path was really taken


class _BigVocab(LoadedTokenizer):
    """A stand-in with a 100k vocabulary: ids are code points."""

    info = TokenizerInfo("big", Path("big"), "hf", "bpe", "test", "0" * 64)

    @property
    def vocab_size(self) -> int:
        return 100_000

    def encode_batch(
        self, texts: Sequence[str], *, add_special_tokens: bool = False, threads: int = 1
    ) -> list[list[int]]:
        return [[ord(c) for c in t] for t in texts]

    def decode_batch(self, ids: Sequence[Sequence[int]]) -> list[str]:
        return ["".join(map(chr, seq)) for seq in ids]

    def _build_token_bytes(self) -> list[bytes]:
        return [chr(i).encode("utf-8", "surrogatepass") for i in range(self.vocab_size)]

    @property
    def special_tokens(self) -> Mapping[str, int]:
        return {}

    def merges(self) -> list[tuple[bytes, bytes]] | None:
        return None

    def token_to_id(self, token: str) -> int | None:
        return ord(token) if len(token) == 1 else None


def test_dtype_follows_vocabulary_size(tmp_path: Path) -> None:
    assert choose_dtype("auto", 65536, None) == "uint16"
    assert choose_dtype("auto", 65537, None) == "uint32"
    assert choose_dtype("auto", 1000, 70000) == "uint32"
    big = _BigVocab()
    out = tmp_path / "big.bin"
    result = encode_documents(big, ["\U0001f600a"], EncodeConfig(format="bin", output=str(out)))
    assert result.dtype == "uint32"
    assert np.fromfile(out, dtype="<u4").tolist() == [0x1F600, 97]
    with pytest.raises(ConfigError, match="uint16 cannot hold"):
        encode_documents(big, ["a"], EncodeConfig(format="bin", output=str(out), dtype="uint16"))


def test_binary_needs_an_output_file() -> None:
    tok = load_tokenizer(TOK / "bpe-bytelevel.json")
    with pytest.raises(UsageError, match="-o/--output"):
        encode_documents(tok, ["x"], EncodeConfig(format="bin"))
    with pytest.raises(UsageError, match="-o/--output"):
        encode_documents(tok, ["x"], EncodeConfig(format="npy", output="/dev/null"))


def test_text_output_to_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    """Devices and pipes must not be replaced by a temporary file (think ``-o /dev/null``)."""
    import os
    import threading

    tok = load_tokenizer(TOK / "bpe-bytelevel.json")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    encode_documents(tok, ["hello", "world"], EncodeConfig(format="count", output=str(fifo)))
    reader.join(timeout=10)
    assert received and received[0].splitlines() == [str(len(tok.encode("hello"))), str(len(tok.encode("world")))]
    assert fifo.exists() and not fifo.is_file()


def test_failed_binary_run_leaves_no_files(tmp_path: Path) -> None:
    tok = load_tokenizer(TOK / "bpe-bytelevel.json")

    def failing() -> Iterator[str]:
        yield "some text"
        raise InputError("boom")

    with pytest.raises(InputError):
        encode_documents(tok, failing(), EncodeConfig(format="npy", output=str(tmp_path / "a.npy"), batch_size=1))
    assert list(tmp_path.iterdir()) == []


def test_bad_eos_and_options() -> None:
    tok = load_tokenizer(TOK / "bpe-bytelevel.json")
    with pytest.raises(ConfigError, match=r"encode\.eos 'nope'"):
        encode_documents(tok, ["x"], EncodeConfig(eos="nope"))
    with pytest.raises(ConfigError, match=r"encode\.eos '99999'"):
        encode_documents(tok, ["x"], EncodeConfig(eos="99999"))
    with pytest.raises(ConfigError, match="batch_size"):
        encode_documents(tok, ["x"], EncodeConfig(batch_size=0))


def test_batches_are_bounded(docs: list[Document]) -> None:
    """Never one giant batch: every encode call sees at most batch_size docs / about batch_bytes chars."""
    tok = load_tokenizer(TOK / "bpe-bytelevel.json")
    sizes: list[tuple[int, int]] = []
    original, original_array = tok.encode_batch, tok.encode_batch_array

    def spy(texts: Sequence[str], **kwargs: object) -> list[list[int]]:
        sizes.append((len(texts), sum(map(len, texts))))
        return original(texts, **kwargs)  # type: ignore[arg-type]

    def spy_array(texts: Sequence[str], **kwargs: object) -> object:  # count takes arrays from tiktoken
        sizes.append((len(texts), sum(map(len, texts))))
        return original_array(texts, **kwargs)  # type: ignore[arg-type]

    tok.encode_batch = spy  # type: ignore[method-assign]
    tok.encode_batch_array = spy_array  # type: ignore[method-assign,assignment]
    longest = max(len(d.text) for d in docs)
    progress: list[int] = []
    result = encode_documents(
        tok,
        docs,
        EncodeConfig(format="count", batch_size=50, batch_bytes=2000),
        stdout=io.StringIO(),
        progress=lambda p: progress.append(p.docs),
    )
    assert len(sizes) > 5 and all(n <= 50 and chars < 2000 + longest for n, chars in sizes)
    assert progress[-1] == result.docs == len(docs) and progress == sorted(progress)


# --- decode ---------------------------------------------------------------------------------------------


def test_decode_ids_and_jsonl_round_trip(tok: LoadedTokenizer, docs: list[Document]) -> None:
    ids_text, _ = run_text(tok, docs, format="ids")
    decoded = list(decode_lines(tok, io.StringIO(ids_text), batch_size=5))
    assert [d.text for d in decoded] == [d.text for d in docs]
    jsonl_text, _ = run_text(tok, docs, format="jsonl")
    decoded = list(decode_lines(tok, jsonl_text.splitlines(), input_format="jsonl"))
    assert [(d.id, d.text) for d in decoded] == [(d.id, d.text) for d in docs]
    out = io.StringIO()
    assert write_decoded(decoded, out, fmt="jsonl") == len(docs)
    assert json.loads(out.getvalue().splitlines()[0]) == {"id": docs[0].id, "text": docs[0].text}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(
        st.text(
            alphabet=st.characters(codec="utf-8", exclude_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
            max_size=30,
        ),
        max_size=5,
    )
)
def test_decode_encode_round_trip_hypothesis(tok: LoadedTokenizer, texts: list[str]) -> None:
    ids_text, _ = run_text(tok, texts, format="ids")
    assert [d.text for d in decode_lines(tok, ids_text.splitlines())] == texts


def test_decode_errors_name_the_line() -> None:
    tok = load_tokenizer(TOK / "bpe-bytelevel.json")
    with pytest.raises(InputError, match=r"ids\.txt:2: 'x7' is not a token id"):
        list(decode_lines(tok, ["1 2", "3 x7"], source="ids.txt"))
    with pytest.raises(InputError, match=r"<stdin>:1: id 640 is out of range"):
        list(decode_lines(tok, ["640"]))
    with pytest.raises(InputError, match=r"<stdin>:1: invalid JSON"):
        list(decode_lines(tok, ["{nope"]))
    with pytest.raises(InputError, match=r"'ids' list of integers"):
        list(decode_lines(tok, ['{"ids": ["a"]}']))


def test_decode_config_defaults() -> None:
    assert DecodeConfig().format == "text" and DecodeConfig().input_format == "auto"


def test_encode_from_the_corpus_reader(tmp_path: Path) -> None:
    from tokcli.corpus import Corpus, CorpusConfig

    corpus = Corpus(CorpusConfig(inputs=(str(DATA / "parallel" / "udhr" / "eng.jsonl"),)))
    documents = list(corpus.documents())
    tok = load_tokenizer(TOK / "bpe-bytelevel.json")
    text, _ = run_text(tok, documents, format="jsonl")
    records = [json.loads(line) for line in text.splitlines()]
    assert len(records) == 32 and records[0]["id"] == "00"
    for fmt in ("jsonl", "ids"):
        config = EncodeConfig(format=fmt)  # type: ignore[arg-type]
        out = io.StringIO()
        encode_documents(tok, corpus_documents(Corpus(corpus.config), config), config, stdout=out)
        assert out.getvalue() == run_text(tok, documents, format=fmt)[0]
