"""compare: corpus planning, offsets from token bytes, rows/summary on a tokenizer we can reason about."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokcli.compare.offsets import OffsetAligner, char_offsets_from_bytes
from tokcli.compare.options import CompareConfig
from tokcli.compare.plan import plan_corpora
from tokcli.compare.run import run_compare
from tokcli.compare.summary import probe_digit_style
from tokcli.corpus import CorpusConfig
from tokcli.errors import InputError
from tokcli.loading.base import LoadedTokenizer, TokenizerInfo
from tokcli.metrics import MetricsAccumulator
from tokcli.plot import chart_svg, write_plot

DIGIT_GROUPS = [str(n).zfill(width) for width in (2, 3) for n in range(10**width)]
GROUP_IDS = {g: 256 + i for i, g in enumerate(DIGIT_GROUPS)}


class ByteTokenizer(LoadedTokenizer):
    """One token per UTF-8 byte, or per ``group`` bytes of digits: easy to count by hand."""

    def __init__(self, name: str, digit_group: int = 1) -> None:
        self.info = TokenizerInfo(name, Path(name), "hf", "bpe", "test", "0" * 64)
        self.digit_group = digit_group

    @property
    def vocab_size(self) -> int:
        return 256 + len(DIGIT_GROUPS)

    def encode_batch(
        self, texts: Sequence[str], *, add_special_tokens: bool = False, threads: int = 1
    ) -> list[list[int]]:
        out = []
        for text in texts:
            data = text.encode()
            ids: list[int] = []
            i = 0
            while i < len(data):
                j = i
                while j < len(data) and j - i < self.digit_group and chr(data[j]).isdigit():
                    j += 1
                if j - i > 1:
                    ids.append(GROUP_IDS[data[i:j].decode()])  # a digit group token
                    i = j
                else:
                    ids.append(data[i])
                    i += 1
            out.append(ids)
        return out

    def decode_batch(self, ids: Sequence[Sequence[int]]) -> list[str]:
        return [b"".join(self.token_bytes(i) for i in seq).decode() for seq in ids]

    def _build_token_bytes(self) -> list[bytes]:
        table = [bytes([b]) for b in range(256)]
        table += [g.encode() if self.digit_group > 1 else b"" for g in DIGIT_GROUPS]
        return table

    @property
    def special_tokens(self) -> Mapping[str, int]:
        return {}

    def merges(self) -> list[tuple[bytes, bytes]] | None:
        return None

    def token_to_id(self, token: str) -> int | None:
        return None


def test_char_offsets_from_bytes_multibyte() -> None:
    text = "aé€"  # 1 + 2 + 3 bytes
    offsets = char_offsets_from_bytes(text, np.array([1, 2, 3]))
    assert offsets.tolist() == [[0, 1], [1, 2], [2, 3]]
    # byte-level tokens that split "€" each overlap that character
    split = char_offsets_from_bytes(text, np.array([1, 2, 1, 2]))
    assert split.tolist() == [[0, 1], [1, 2], [2, 3], [2, 3]]


def test_plan_corpora_names_and_folders(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"text": "y"}\n', encoding="utf-8")
    specs = plan_corpora([str(tmp_path), f"mine={tmp_path / 'a.txt'}"], None)
    assert [(s.name, s.parallel) for s in specs] == [("a", False), ("b", False), ("mine", False)]
    with pytest.raises(InputError, match="two corpora are named 'a'"):
        plan_corpora([str(tmp_path / "a.txt"), str(tmp_path)], None)
    with pytest.raises(InputError, match="no corpus given"):
        plan_corpora([], None)


def _parallel(tmp_path: Path, lines: dict[str, list[str]]) -> Path:
    folder = tmp_path / "par"
    folder.mkdir()
    for lang, rows in lines.items():
        (folder / f"{lang}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def test_rows_premium_and_summary(tmp_path: Path) -> None:
    folder = _parallel(tmp_path, {"eng": ["ab cd", "e"], "deu": ["abcd ef", "ghi"]})
    config = CompareConfig(parallel=str(folder), bootstrap=50)
    toks = [ByteTokenizer("bytes"), ByteTokenizer("digits3", digit_group=3)]
    result = run_compare(config, CorpusConfig(), toks, plan_corpora([], config.parallel))
    rows = {(r["tokenizer"], r["corpus"]): r for r in result.rows}
    eng, deu = rows[("bytes", "eng")], rows[("bytes", "deu")]
    assert (eng["tokens"], deu["tokens"]) == (6, 10)  # one token per byte
    assert deu["premium"] == pytest.approx(10 / 6) and eng["premium"] == 1.0
    assert eng["words"] == 3 and eng["fertility"] == pytest.approx(5 / 3)  # "ab","cd","e": 2+2+1 tokens
    assert eng["split_rate"] == pytest.approx(2 / 3)
    assert eng["bytes_per_token"] == 1.0
    lo, hi = deu["premium_ci"]
    assert lo <= deu["premium"] <= hi
    assert result.meta["reference"] == "eng" and result.meta["add_special_tokens"] is False
    summary = {s["tokenizer"]: s for s in result.summary}
    assert summary["bytes"]["digit_style"] == "single"
    assert summary["digits3"]["digit_style"] == "ltr3"
    assert 0 < summary["bytes"]["overlap"]["digits3"] < 1
    json.dumps(result.meta)  # serialisable


def test_parallel_length_mismatch_names_the_file(tmp_path: Path) -> None:
    folder = _parallel(tmp_path, {"eng": ["a", "b"], "fra": ["a"]})
    config = CompareConfig(parallel=str(folder))
    with pytest.raises(InputError, match=r"fra\.txt has 1 lines"):
        run_compare(config, CorpusConfig(), [ByteTokenizer("b")], plan_corpora([], config.parallel))


def test_missing_reference_language(tmp_path: Path) -> None:
    folder = _parallel(tmp_path, {"deu": ["a"], "fra": ["b"]})
    config = CompareConfig(parallel=str(folder))
    with pytest.raises(InputError, match="--reference"):
        run_compare(config, CorpusConfig(), [ByteTokenizer("b")], plan_corpora([], config.parallel))
    bad = CompareConfig(parallel=str(folder), reference="xx")
    with pytest.raises(InputError, match="'xx' is not in --parallel"):
        run_compare(bad, CorpusConfig(), [ByteTokenizer("b")], plan_corpora([], bad.parallel))


def test_keep_going_reports_the_bad_corpus(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("hello world\n", encoding="utf-8")
    specs = plan_corpora([str(good), str(tmp_path / "missing.txt")], None)
    with pytest.raises(InputError):
        run_compare(CompareConfig(), CorpusConfig(), [ByteTokenizer("b")], specs)
    result = run_compare(CompareConfig(keep_going=True), CorpusConfig(), [ByteTokenizer("b")], specs)
    assert [r["corpus"] for r in result.rows] == ["good"]
    assert len(result.errors) == 1 and "missing" in result.errors[0]


def test_digit_probe_single() -> None:
    assert probe_digit_style(ByteTokenizer("b")) == "single"


def test_plot_svg_and_html(tmp_path: Path) -> None:
    rows = [
        {"tokenizer": "a", "corpus": "eng", "premium": 1.0, "bytes_per_token": 4.0},
        {"tokenizer": "a", "corpus": "deu", "premium": 1.3, "bytes_per_token": 3.5},
        {"tokenizer": "b", "corpus": "code", "bytes_per_token": math.nan},
    ]
    svg = chart_svg(rows)
    assert svg.startswith("<svg") and "deu" in svg and "Token premium" in svg and "Bytes per token" in svg
    write_plot(rows, tmp_path / "c.html")
    assert "<svg" in (tmp_path / "c.html").read_text(encoding="utf-8")
    write_plot(rows, tmp_path / "c.svg")
    assert (tmp_path / "c.svg").read_text(encoding="utf-8") == svg


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab é€日本 \n\t1", max_size=12), min_size=1, max_size=6), st.booleans())
def test_batched_metrics_equal_one_document_at_a_time(texts: list[str], dummy_prefix: bool) -> None:
    """The vectorised batch path gives exactly the per-document results (byte tokens, optional ▁ prefix)."""
    tok = ByteTokenizer("b")
    prefix = [32] if dummy_prefix else []
    arrays = [np.asarray(prefix + list(t.encode()), dtype=np.int64) if t else np.zeros(0, np.int64) for t in texts]
    batch_acc = MetricsAccumulator(tok.vocab_size)
    batch_acc.add_batch(texts, arrays, OffsetAligner(tok).batch_offsets(texts, arrays))
    one_acc = MetricsAccumulator(tok.vocab_size)
    aligner = OffsetAligner(tok)
    for text, ids in zip(texts, arrays, strict=True):
        one_acc.add(text, ids, aligner.offsets(text, ids))
    a, b = batch_acc.result(), one_acc.result()
    assert a == b or all(
        x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))
        for x, y in zip(dataclasses.astuple(a), dataclasses.astuple(b), strict=True)
    )
    for key in ("bytes", "tokens", "units", "unit_tokens"):
        assert batch_acc.per_document()[key].tolist() == one_acc.per_document()[key].tolist()


DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("spec", ["bpe-bytelevel.json", "spm-bpe-bytefallback.model", "bytes"])
def test_fast_path_equals_character_offsets_on_udhr(spec: str) -> None:
    """compare's byte-position path gives exactly the metrics of the character-offset reference path
    on every UDHR language (byte-level BPE, sentencepiece with dummy prefix and byte fallback)."""
    from tokcli.corpus import Corpus
    from tokcli.loading import load_tokenizer
    from tokcli.metrics import TextBatch

    tok = ByteTokenizer("bytes") if spec == "bytes" else load_tokenizer(DATA / "tokenizers" / spec)
    for path in sorted((DATA / "parallel" / "udhr").glob("*.jsonl")):
        texts = [t for batch in Corpus(CorpusConfig(inputs=(str(path),))).text_batches(10_000) for t in batch]
        ids = tok.encode_batch(texts)
        arrays = [np.asarray(x, dtype=np.int64) for x in ids]
        reference = MetricsAccumulator(tok.vocab_size)
        reference.add_batch(texts, arrays, OffsetAligner(tok).batch_offsets(texts, arrays))
        aligner = OffsetAligner(tok)
        batch = TextBatch.of(texts)
        counts = np.asarray([len(x) for x in ids], dtype=np.int64)
        spelled = aligner.token_lengths(batch, np.concatenate(arrays), counts)
        assert spelled is not None and not aligner.note
        fast = MetricsAccumulator(tok.vocab_size)
        fast.add_spelled(batch, np.concatenate(arrays), counts, spelled[0], aligner.shift or 0, spelled[1])
        assert dataclasses.astuple(fast.result()) == dataclasses.astuple(reference.result()), path.name
        for key in ("bytes", "tokens", "units", "unit_tokens"):
            assert fast.per_document()[key].tolist() == reference.per_document()[key].tolist(), path.name


def test_id_arrays_and_id_lists_give_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """run_compare on tiktoken-engine tokenizers (ids as arrays) equals the list path, every field."""
    from tokcli.loading import load_tokenizer

    udhr = sorted(str(p) for p in (DATA / "parallel" / "udhr").glob("*.jsonl"))[:6]
    config = CompareConfig(batch_size=7, threads=2)
    toks = [
        load_tokenizer(DATA / "tokenizers" / "bpe-bytelevel.json"),
        load_tokenizer(f"ranks={DATA / 'tokenizers' / 'bpe-bytelevel.tiktoken'}", pattern="gpt2"),
    ]
    assert all(t.encode_batch_array(["a"]) is not None for t in toks)
    fast = run_compare(config, CorpusConfig(), toks, plan_corpora(udhr, None))
    for tok in toks:  # the engines' lists, flattened by compare
        monkeypatch.setattr(tok, "encode_batch_array", lambda texts, threads=1: None)
    lists = run_compare(config, CorpusConfig(), toks, plan_corpora(udhr, None))

    def strip(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in r.items() if k != "mb_per_s"} for r in rows]

    assert strip(fast.rows) == strip(lists.rows) and len(fast.rows) == 12
    assert strip(fast.summary) == strip(lists.summary)


def _flores_like(tmp_path: Path) -> Path:
    """FLORES-200's layout (dev/ and devtest/, files LANG_Script.SPLIT) from the shipped UDHR lines."""
    udhr = Path(__file__).parent / "data" / "parallel" / "udhr"
    root = tmp_path / "flores200"
    for split, lines in (("dev", slice(0, 10)), ("devtest", slice(10, 32))):
        (root / split).mkdir(parents=True)
        for code, name in (("eng_Latn", "eng"), ("fra_Latn", "fra"), ("rus_Cyrl", "rus")):
            texts = [
                json.loads(line)["text"].replace("\n", " ")
                for line in (udhr / f"{name}.jsonl").read_text().splitlines()
            ]
            (root / split / f"{code}.{split}").write_text("".join(f"{t}\n" for t in texts[lines]))
    return root


def test_flores_dev_and_devtest_files_are_named_by_language(tmp_path: Path) -> None:
    root = _flores_like(tmp_path)
    one_split = plan_corpora([], str(root / "devtest"))
    assert [s.name for s in one_split] == ["eng_Latn", "fra_Latn", "rus_Cyrl"]
    both = plan_corpora([], str(root))  # dev then devtest, as Petrov et al. count them
    assert [(s.name, [Path(p).parent.name for p in s.paths]) for s in both] == [
        (lang, ["dev", "devtest"]) for lang in ("eng_Latn", "fra_Latn", "rus_Cyrl")
    ]
    from tokcli.compare.plan import reference_language

    assert reference_language(None, both) == "eng_Latn" == reference_language("eng_Latn", one_split)
