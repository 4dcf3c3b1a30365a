"""Streaming corpus reader: formats, inputs, limits, sampling, sharding, mixtures, bad input."""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokcli.corpus import Corpus, CorpusConfig, CorpusStats, Document, MixSource
from tokcli.errors import ConfigError, InputError, UsageError

DATA = Path(__file__).parent / "data"
UDHR = DATA / "parallel" / "udhr"


def read_jsonl(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def docs(*inputs: str | Path, **options: object) -> list[Document]:
    return list(Corpus(CorpusConfig(inputs=tuple(str(i) for i in inputs), **options)).documents())  # type: ignore[arg-type]


def texts(*inputs: str | Path, **options: object) -> list[str]:
    return [d.text for d in docs(*inputs, **options)]


def austen_lines() -> list[str]:
    return [ln for ln in (DATA / "austen.txt").read_text(encoding="utf-8").split("\n") if ln]


def eng() -> list[dict[str, str]]:
    return read_jsonl(UDHR / "eng.jsonl")


def write_jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def pieces(seed: int, n: int) -> list[str]:
    """n real-text snippets of varied length (20-600 chars), cut from the fixtures."""
    corpus = " ".join(austen_lines() + [r["text"] for f in sorted(UDHR.glob("*.jsonl")) for r in read_jsonl(f)])
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        length = rng.randint(20, 600)
        start = rng.randrange(0, len(corpus) - length)
        out.append(corpus[start : start + length].replace("\n", " ").strip() or "x")
    return out


# ---------------------------------------------------------------------------------------------------
# Formats


def test_plain_text_one_document_per_line() -> None:
    result = docs(DATA / "austen.txt")
    assert [d.text for d in result] == austen_lines()
    assert {d.source for d in result} == {"austen"} and all(d.id is None for d in result)


def test_plain_text_crlf_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfone\r\n\r\ntwo \r\nthree")
    assert texts(path) == ["one", "two ", "three"]


def test_blank_line_paragraphs(tmp_path: Path) -> None:
    paras = ["First line\nof a paragraph.", "Second\n  indented", "Third"]
    path = tmp_path / "p.txt"
    path.write_text("\n\n".join(paras[:2]) + "\n \t\n\n" + paras[2] + "\n", encoding="utf-8")
    assert texts(path, doc_sep="blank") == paras


@pytest.mark.parametrize("block", [7, 1000])
def test_documents_across_read_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    from tokcli.corpus import streams as corpus_streams

    monkeypatch.setattr(corpus_streams, "BLOCK", block)  # multi-byte characters straddle block ends
    paras = [f"paragraph {i} " + "ωορδ " * (i % 50) + "終" for i in range(300)]
    path = tmp_path / "big.txt"
    path.write_text("\n\n".join(paras), encoding="utf-8")
    assert texts(path, doc_sep="blank") == paras
    assert texts(path) == paras
    lines = [r["text"] for r in read_jsonl(UDHR / "khm.jsonl")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus = Corpus(CorpusConfig(inputs=(str(path),)))
    assert [d.text for d in corpus.documents()] == lines
    assert corpus.stats.bytes == sum(len(t.encode()) for t in lines)


def test_one_document_per_file(tmp_path: Path) -> None:
    for i, line in enumerate(austen_lines()[:3]):
        (tmp_path / f"{i}.txt").write_text(line + "\n\nmore\n", encoding="utf-8")
    result = docs(tmp_path, doc_sep="file")
    assert [d.text for d in result] == [line + "\n\nmore\n" for line in austen_lines()[:3]]
    assert [d.source for d in result] == ["0", "1", "2"]


def test_jsonl_with_ids() -> None:
    result = docs(UDHR / "eng.jsonl")
    assert [(d.text, d.id) for d in result] == [(r["text"], str(r["id"])) for r in eng()]
    assert {d.source for d in result} == {"eng"}


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_jsonl(tmp_path: Path, suffix: str) -> None:
    raw = (UDHR / "fra.jsonl").read_bytes()
    path = tmp_path / f"fra{suffix}"
    if suffix.endswith(".gz"):
        path.write_bytes(gzip.compress(raw))
    else:
        import zstandard

        path.write_bytes(zstandard.ZstdCompressor().compress(raw))
    result = docs(path)
    assert [d.text for d in result] == [r["text"] for r in read_jsonl(UDHR / "fra.jsonl")]
    assert result[0].source == "fra"


def test_json_array_file(tmp_path: Path) -> None:
    path = tmp_path / "arr.json"
    path.write_text(json.dumps(eng()), encoding="utf-8")
    assert texts(path) == [r["text"] for r in eng()]


def test_text_field_and_id_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "b.jsonl", [{"body": "alpha", "key": 7}, {"body": "beta", "key": None}])
    result = docs(path, text_field="body", id_field="key")
    assert [(d.text, d.id) for d in result] == [("alpha", "7"), ("beta", None)]


def test_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = eng()
    table = pa.table({"id": [r["id"] for r in records], "text": [r["text"] for r in records]})
    pq.write_table(table, tmp_path / "eng.parquet", row_group_size=7)
    result = docs(tmp_path / "eng.parquet")
    assert [(d.text, d.id) for d in result] == [(r["text"], str(r["id"])) for r in records]
    assert result[0].source == "eng"


@pytest.mark.parametrize(("suffix", "sep"), [(".csv", ","), (".tsv", "\t")])
def test_csv_and_tsv(tmp_path: Path, suffix: str, sep: str) -> None:
    import csv

    rows = [{"id": str(i), "text": t} for i, t in enumerate([*austen_lines()[:4], 'She said "NA"', "NA", "12"])]
    path = tmp_path / f"data{suffix}"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        if sep == ",":
            writer = csv.DictWriter(fh, fieldnames=["id", "text"])
            writer.writeheader()
            writer.writerows(rows)
        else:  # TSV as written by most tools: no quoting at all
            fh.write("id\ttext\n" + "".join(f"{r['id']}\t{r['text']}\n" for r in rows))
    result = docs(path)
    assert [(d.text, d.id) for d in result] == [(r["text"], r["id"]) for r in rows]


def test_save_to_disk_folder(tmp_path: Path) -> None:
    import datasets

    records = read_jsonl(UDHR / "deu_1996.jsonl")
    ds = datasets.Dataset.from_dict({"text": [r["text"] for r in records], "id": [r["id"] for r in records]})
    ds.save_to_disk(str(tmp_path / "saved"))
    datasets.DatasetDict({"train": ds.select(range(5)), "test": ds}).save_to_disk(str(tmp_path / "dd"))
    assert texts(tmp_path / "saved") == [r["text"] for r in records]
    assert texts(tmp_path / "dd") == [r["text"] for r in records[:5]]
    # A saved dataset inside a folder is read as one input, not as its .arrow files.
    (tmp_path / "tree").mkdir()
    ds.save_to_disk(str(tmp_path / "tree" / "inner"))
    assert texts(tmp_path / "tree") == [r["text"] for r in records]


def test_stdin_jsonl_text_and_gzip() -> None:
    raw = (UDHR / "spa.jsonl").read_bytes()
    expected = [r["text"] for r in read_jsonl(UDHR / "spa.jsonl")]
    for data in (raw, gzip.compress(raw)):
        corpus = Corpus(CorpusConfig(inputs=("-",)), stdin=io.BytesIO(data))
        result = list(corpus.documents())
        assert [d.text for d in result] == expected and result[0].source == "stdin"
    text = "\n".join(austen_lines()).encode()
    corpus = Corpus(CorpusConfig(inputs=("-",)), stdin=io.BytesIO(text))
    assert [d.text for d in corpus.documents()] == austen_lines()
    with pytest.raises(InputError, match="stdin was already read"):
        list(corpus.documents())


def test_stdin_tty_is_refused() -> None:
    class Tty(io.BytesIO):
        def isatty(self) -> bool:
            return True

    with pytest.raises(InputError, match="stdin is a terminal") as info:
        list(Corpus(CorpusConfig(inputs=("-",)), stdin=Tty(b"")).documents())
    assert "pipe" in str(info.value)


def test_fast_paths_give_the_same_documents_as_hf_builders(tmp_path: Path) -> None:
    import datasets

    path = DATA / "code" / "python.jsonl"
    hf = datasets.load_dataset("json", data_files=str(path), split="train", streaming=True)
    assert texts(path) == [r["text"] for r in hf]
    text_path = tmp_path / "lines.txt"
    text_path.write_text("\n".join([*austen_lines()[:3], "", "tail"]) + "\n", encoding="utf-8")
    hf_text = datasets.load_dataset("text", data_files=str(text_path), split="train", streaming=True)
    assert texts(text_path) == [r["text"] for r in hf_text if r["text"]]


# ---------------------------------------------------------------------------------------------------
# Inputs: folders, globs, hub names


def test_folder_is_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "b.jsonl", [{"text": "b1"}])
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "z.txt").write_text("az\n", encoding="utf-8")
    (tmp_path / "a" / "notes.md").write_text("ignored\n", encoding="utf-8")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "h.txt").write_text("hidden\n", encoding="utf-8")
    (tmp_path / "c.txt.gz").write_bytes(gzip.compress(b"c1\nc2\n"))
    result = docs(tmp_path)
    assert [(d.text, d.source) for d in result] == [("az", "z"), ("b1", "b"), ("c1", "c"), ("c2", "c")]
    assert texts(tmp_path, format="jsonl") == ["b1"]


def test_globs(tmp_path: Path) -> None:
    for code in ("eng", "fra", "spa"):
        (tmp_path / f"{code}.jsonl").write_bytes((UDHR / f"{code}.jsonl").read_bytes())
    (tmp_path / "README.md").write_text("not data\n", encoding="utf-8")
    result = docs(str(tmp_path / "*"))
    assert [d.source for d in result[::32]] == ["eng", "fra", "spa"]
    assert len(result) == 96
    with pytest.raises(InputError, match=r"no files match .*\*\.parquet"):
        docs(str(tmp_path / "*.parquet"))


def test_hub_name_offline_fails_fast() -> None:
    assert os.environ["HF_DATASETS_OFFLINE"] == "1"
    start = time.monotonic()
    with pytest.raises(InputError, match="hf:wikitext:wikitext-2-raw-v1@train") as info:
        docs("hf:wikitext:wikitext-2-raw-v1@train")
    assert time.monotonic() - start < 10
    assert "offline" in str(info.value)


def test_hub_name_without_network_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused at once
    start = time.monotonic()
    with pytest.raises(InputError, match=r"hf:some/dataset.*cannot be reached") as info:
        docs("hf:some/dataset")
    assert time.monotonic() - start < 10
    assert "HF_DATASETS_OFFLINE" in str(info.value)


# ---------------------------------------------------------------------------------------------------
# Limits, sampling, shuffling, sharding


def test_max_docs_skip_and_max_bytes() -> None:
    all_texts = [r["text"] for r in eng()]
    assert texts(UDHR / "eng.jsonl", max_docs=5) == all_texts[:5]
    assert texts(UDHR / "eng.jsonl", skip=5, max_docs=3) == all_texts[5:8]
    assert texts(UDHR / "eng.jsonl", max_docs=0) == []
    sizes = [len(t.encode()) for t in all_texts]
    limit = sum(sizes[:10]) + sizes[10] - 1  # the 11th document does not fit
    corpus = Corpus(CorpusConfig(inputs=(str(UDHR / "eng.jsonl"),), max_bytes=limit))
    assert [d.text for d in corpus.documents()] == all_texts[:10]
    assert corpus.stats.bytes == sum(sizes[:10]) and corpus.stats.stop_reason == "max_bytes"


def test_max_bytes_counts_utf8_bytes() -> None:
    corpus = Corpus(CorpusConfig(inputs=(str(UDHR / "khm.jsonl"),), max_bytes=5000))
    got = [t for batch in corpus.text_batches(4) for t in batch]
    total = sum(len(t.encode()) for t in got)
    assert total == corpus.stats.bytes <= 5000 < total + len(read_jsonl(UDHR / "khm.jsonl")[len(got)]["text"].encode())


def test_text_batches_sizes_and_stats() -> None:
    seen: list[int] = []
    corpus = Corpus(CorpusConfig(inputs=(str(UDHR),)), progress=lambda s: seen.append(s.docs))
    batches = list(corpus.text_batches(batch_size=50))
    assert [len(b) for b in batches] == [50] * 7 + [34]  # 12 files x 32 documents
    stats = corpus.stats
    assert stats.docs == 384 and stats.docs_by_source["khm"] == 32 and stats.stop_reason == "end"
    assert stats.bytes == sum(len(t.encode()) for b in batches for t in b)
    assert stats.bytes_by_source["eng"] == sum(len(r["text"].encode()) for r in eng())
    assert seen and seen[-1] == 384 and seen == sorted(seen)


def test_stats_count_exactly_what_documents_yielded() -> None:
    corpus = Corpus(CorpusConfig(inputs=(str(UDHR / "eng.jsonl"),)))
    for i, _ in enumerate(corpus.documents()):
        if i == 6:
            break
    assert corpus.stats.docs == 7
    assert corpus.stats.bytes == sum(len(r["text"].encode()) for r in eng()[:7])


def test_sampling_is_deterministic(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [{"text": t} for t in pieces(1, 2000)])
    first = texts(path, sample=0.3, seed=1)
    assert first == texts(path, sample=0.3, seed=1)
    assert first != texts(path, sample=0.3, seed=2)
    assert 0.25 < len(first) / 2000 < 0.35
    # A document's fate does not depend on the other options (here: a later skip).
    assert texts(path, sample=0.3, seed=1, skip=10) == first[10:]


def test_shuffle_buffer_permutes_deterministically() -> None:
    plain = texts(UDHR / "eng.jsonl")
    shuffled = texts(UDHR / "eng.jsonl", shuffle_buffer=8, seed=3)
    assert sorted(shuffled) == sorted(plain) and shuffled != plain
    assert shuffled == texts(UDHR / "eng.jsonl", shuffle_buffer=8, seed=3)


@settings(max_examples=25, deadline=None)
@given(num_shards=st.integers(1, 7), sample=st.sampled_from([None, 0.5]))
def test_shards_partition_the_input(num_shards: int, sample: float | None) -> None:
    full = [(d.source, d.id) for d in docs(UDHR, sample=sample)]
    shards = [
        [(d.source, d.id) for d in docs(UDHR, num_shards=num_shards, shard_index=i, sample=sample)]
        for i in range(num_shards)
    ]
    union = [doc for shard in shards for doc in shard]
    assert sorted(union) == sorted(full)
    assert len(set(union)) == len(union) == len(full)
    if sample is None:  # round-robin over the whole input (not per file): shard sizes differ by at most one
        assert max(map(len, shards)) - min(map(len, shards)) <= 1


# ---------------------------------------------------------------------------------------------------
# Mixtures


@pytest.fixture
def mixture_sources(tmp_path: Path) -> dict[str, Path]:
    short = [p[:80] for p in pieces(2, 9000)]
    long = pieces(3, 9000)
    code = [r["text"][:1500] for r in read_jsonl(DATA / "code" / "python.jsonl")] * 400
    return {
        "short": write_jsonl(tmp_path / "short.jsonl", [{"text": t} for t in short]),
        "long": write_jsonl(tmp_path / "long.jsonl", [{"text": t} for t in long]),
        "code": write_jsonl(tmp_path / "code.jsonl", [{"text": t} for t in code]),
    }


def test_mixture_by_bytes_matches_byte_shares(mixture_sources: dict[str, Path]) -> None:
    weights = {"short": 0.5, "long": 0.3, "code": 0.2}
    mix = tuple(MixSource(n, w, (str(mixture_sources[n]),)) for n, w in weights.items())
    corpus = Corpus(CorpusConfig(mix=mix, max_docs=10_000))
    result = list(corpus.documents())
    assert len(result) == 10_000 and corpus.stats.stop_reason == "max_docs"
    stats = corpus.stats
    for name, weight in weights.items():
        share = stats.bytes_by_source[name] / stats.bytes
        assert abs(share - weight) < 0.02, (name, share)
    # Shares hold at every prefix too (largest-deficit schedule), and the schedule is deterministic.
    again = Corpus(CorpusConfig(mix=mix, max_docs=10_000))
    assert [(d.source, d.text) for d in again.documents()] == [(d.source, d.text) for d in result]


def test_mixture_by_docs_matches_document_shares(mixture_sources: dict[str, Path]) -> None:
    weights = {"short": 0.6, "long": 0.4}
    mix = tuple(MixSource(n, w, (str(mixture_sources[n]),)) for n, w in weights.items())
    corpus = Corpus(CorpusConfig(mix=mix, mix_by="docs", max_docs=10_000, seed=5))
    sources = [d.source for d in corpus.documents()]
    assert len(sources) == 10_000
    for name, weight in weights.items():
        assert abs(sources.count(name) / 10_000 - weight) < 0.02
    other = Corpus(CorpusConfig(mix=mix, mix_by="docs", max_docs=10_000, seed=6))
    assert [d.source for d in other.documents()] != sources


def test_mixture_stops_at_max_bytes_and_when_a_source_runs_out(tmp_path: Path) -> None:
    small = write_jsonl(tmp_path / "small.jsonl", [{"text": t} for t in pieces(4, 50)])
    big = write_jsonl(tmp_path / "big.jsonl", [{"text": t} for t in pieces(5, 2000)])
    mix = (MixSource("small", 0.5, (str(small),)), MixSource("big", 0.5, (str(big),)))
    corpus = Corpus(CorpusConfig(mix=mix, max_bytes=20_000))
    list(corpus.text_batches())
    assert corpus.stats.stop_reason == "max_bytes" and 19_000 < corpus.stats.bytes <= 20_000
    corpus = Corpus(CorpusConfig(mix=mix))
    list(corpus.documents())
    stats = corpus.stats
    assert stats.stop_reason == "source_exhausted" and stats.exhausted_source == "small"
    assert stats.docs_by_source["small"] == 50 and stats.docs_by_source["big"] < 2000
    assert abs(stats.bytes_by_source["small"] / stats.bytes - 0.5) < 0.02


def test_mixture_source_names_and_empty_source(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    mix = (MixSource("web", 1, (str(UDHR / "eng.jsonl"),)), MixSource("void", 1, (str(empty),)))
    with pytest.raises(InputError, match="mixture source 'void' has no documents"):
        list(Corpus(CorpusConfig(mix=mix)).documents())


# ---------------------------------------------------------------------------------------------------
# Bad input and bad options


def test_missing_file() -> None:
    with pytest.raises(InputError, match=r"nope\.jsonl: no such file"):
        docs("nope.jsonl")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "locked.jsonl", [{"text": "x"}])
    path.chmod(0)
    try:
        with pytest.raises(InputError, match=r"locked\.jsonl: permission denied"):
            docs(path)
    finally:
        path.chmod(0o644)


def test_unreadable_file_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same check where the tests run as root: the reader asks os.access before opening."""
    path = write_jsonl(tmp_path / "locked.jsonl", [{"text": "x"}])
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == path else real_access(p, mode))
    with pytest.raises(InputError, match=r"locked\.jsonl: permission denied"):
        docs(path)
    with pytest.raises(InputError, match=r"locked\.jsonl: permission denied"):
        docs(tmp_path)


def test_folder_without_supported_files(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("x\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"{tmp_path.name}: folder has no supported files"):
        docs(tmp_path)


def test_malformed_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "a"}\n\n{"text": "b"\n{"text": "c"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"data\.jsonl:3: malformed JSON"):
        docs(path)


def test_missing_text_field_lists_fields(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl", [{"content": "hello", "lang": "en"}])
    with pytest.raises(InputError) as info:
        docs(path)
    message = str(info.value)
    assert "data.jsonl:1" in message and "'text'" in message and "'content', 'lang'" in message
    assert "--text-field content" in message


def test_missing_text_column_in_parquet(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"body": ["a"]}), tmp_path / "d.parquet")
    with pytest.raises(InputError, match=r"d\.parquet.*no field 'text'.*'body'.*--text-field"):
        docs(tmp_path / "d.parquet")


def test_non_string_text_field(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "data.jsonl", [{"text": "ok"}, {"text": ["a", "list"]}])
    with pytest.raises(InputError, match=r"data\.jsonl:2: field 'text' is a list"):
        docs(path)


def test_invalid_utf8_names_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good line\nbad \xff here\n")
    with pytest.raises(InputError, match=r"bad\.txt: invalid UTF-8 at byte offset 14") as info:
        docs(path)
    assert "--errors replace" in str(info.value)
    assert texts(path, errors="replace") == ["good line", "bad \ufffd here"]
    corpus = Corpus(CorpusConfig(inputs=(str(path),), errors="replace"))
    list(corpus.documents())
    assert corpus.stats.bytes == len(b"good line") + len("bad \ufffd here".encode())


def test_invalid_utf8_in_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "ok"}\n{"text": "x\xc3"}\n')
    with pytest.raises(InputError, match=r"bad\.jsonl:2: invalid UTF-8 at byte offset 26"):
        docs(path)
    assert texts(path, errors="replace") == ["ok", "x\ufffd"]


def test_empty_input(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no documents in .*empty\.txt"):
        docs(path)


def test_binary_file_given_as_text(tmp_path: Path) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"model\.bin: looks like a binary file \(NUL byte at byte offset 4\)"):
        docs(path)
    with pytest.raises(InputError, match="looks like a binary file"):
        docs(path, format="jsonl")


def test_truncated_gzip(tmp_path: Path) -> None:
    data = gzip.compress((UDHR / "eng.jsonl").read_bytes() * 20)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.jsonl\.gz: truncated or corrupt"):
        docs(path)
    text_path = tmp_path / "cut.txt.gz"
    text_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.txt\.gz: truncated or corrupt"):
        docs(text_path)


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"sample": 1.5}, "corpus.sample"),
        ({"num_shards": 2, "shard_index": 2}, "corpus.shard_index"),
        ({"skip": -1}, "corpus.skip"),
        ({"max_bytes": -5}, "corpus.max_bytes"),
        ({"mix": (MixSource("a", 1, ("x",)), MixSource("a", 1, ("y",)))}, "corpus.mix"),
    ],
)
def test_bad_options(options: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        CorpusConfig(**options)  # type: ignore[arg-type]


def test_inputs_and_mix_together_or_nothing() -> None:
    with pytest.raises(UsageError, match="no input"):
        list(Corpus(CorpusConfig()).documents())
    mix = (MixSource("a", 1, (str(UDHR / "eng.jsonl"),)),)
    with pytest.raises(UsageError, match="both inputs and a mixture"):
        list(Corpus(CorpusConfig(inputs=("x",), mix=mix)).documents())


def test_stats_default() -> None:
    assert CorpusStats().stop_reason == "" and CorpusStats().docs == 0


def test_keep_empty_keeps_line_alignment(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(b"a\n\nb\r\n\n")
    assert texts(path) == ["a", "b"]
    assert texts(path, keep_empty=True) == ["a", "", "b", ""]
    records = tmp_path / "r.jsonl"
    records.write_text('{"text": "x"}\n{"text": ""}\n{"text": "y"}\n', encoding="utf-8")
    assert texts(records) == ["x", "y"]
    assert texts(records, keep_empty=True) == ["x", "", "y"]
