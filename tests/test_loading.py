"""Tokenizer loading: formats, errors, token bytes, merges, and id parity with the reference libraries."""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokcli.bpe.byte_level import bytes_to_unicode, render_token, unicode_to_bytes
from tokcli.bpe.ranks import rank_bpe, rebuild_merges, split_bytes
from tokcli.errors import ConfigError, TokenizerError
from tokcli.loading import LoadedTokenizer, load_tokenizer
from tokcli.pretok.presets import PRESETS

DATA = Path(__file__).parent / "data"
TOK = DATA / "tokenizers"
HF_JSON = TOK / "bpe-bytelevel.json"
RANKS = TOK / "bpe-bytelevel.tiktoken"
SPM = TOK / "spm-bpe-bytefallback.model"

# Fragments that stress pre-tokenizers: CRLF, whitespace runs, contractions, digits, emoji (ZWJ and
# skin tone), combining marks, titlecase letters, scripts without spaces, the special token text.
FRAGMENTS = [
    "\r\n",
    "\n\n",
    "\n",
    "  ",
    "    ",
    "\t",
    " \n ",
    "'s",
    "'S",
    "'ll",
    "123456",
    " 42",
    "🤖",
    "👩‍👩‍👧",
    "👍🏽",
    "é",
    "e\u0301",
    "ǅ",
    "ﬁ",
    "世界",
    "สวัสดี",
    "ខ្មែរ",
    "नमस्ते",
    "مرحبا",
    "Hello",
    " world",
    "<|endoftext|>",
    "\u00a0",
    "\u3000",
    "\u2028",
    "\x00",
    "a/b",
    "!!",
    "...",
    "\\x",
    "\ufeff",
]
TEXT = st.lists(
    st.one_of(st.text(alphabet=st.characters(codec="utf-8"), max_size=12), st.sampled_from(FRAGMENTS)),
    max_size=20,
).map("".join)
HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def corpus_texts() -> list[str]:
    """Every paragraph of tests/data, plus long-line and empty-line cases."""
    texts = (DATA / "austen.txt").read_text("utf-8").split("\n")
    for path in sorted((DATA / "code").glob("*.jsonl")) + sorted((DATA / "parallel" / "udhr").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()]
    texts += ["", " ", "\n", "x" * 20000, " ".join(texts[:50]), "\r\n".join(texts[:20]) + "\r\n"]
    return texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return corpus_texts()


@pytest.fixture(scope="module")
def hf() -> LoadedTokenizer:
    return load_tokenizer(HF_JSON)


@pytest.fixture(scope="module")
def ranks() -> LoadedTokenizer:
    return load_tokenizer(RANKS, pattern="gpt2")


@pytest.fixture(scope="module")
def spm() -> LoadedTokenizer:
    return load_tokenizer(SPM)


@functools.cache
def raw_hf(path: Path) -> Callable[[list[str]], list[list[int]]]:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    return lambda texts: [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]


@functools.cache
def raw_tiktoken(path: Path, pattern: str) -> Any:
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    return tiktoken.Encoding("raw", pat_str=pattern, mergeable_ranks=load_tiktoken_bpe(str(path)), special_tokens={})


def variant(tmp_path: Path, change: Callable[[dict[str, Any]], None], name: str = "variant.json") -> Path:
    """A copy of the HF fixture with ``change`` applied to its JSON."""
    data = json.loads(HF_JSON.read_text("utf-8"))
    change(data)
    out = tmp_path / name
    out.write_text(json.dumps(data), "utf-8")
    return out


def split_pre_tokenizer(regex: str) -> dict[str, Any]:
    return {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        ],
    }


# --- formats and the interface -------------------------------------------------------------------


def test_formats_are_detected(hf: LoadedTokenizer, ranks: LoadedTokenizer, spm: LoadedTokenizer) -> None:
    assert (hf.info.kind, hf.info.model_type, hf.info.engine) == ("hf", "bpe", "tiktoken")
    assert (ranks.info.kind, ranks.info.engine) == ("tiktoken", "tiktoken")
    assert (spm.info.kind, spm.info.model_type, spm.info.engine) == ("spm", "bpe", "sentencepiece")
    assert hf.vocab_size == 640 and ranks.vocab_size == 640 and spm.vocab_size == 1000
    assert hf.special_tokens == {"<|endoftext|>": 0}
    assert spm.special_tokens == {"<s>": 1, "</s>": 2} and spm.unk_id == 0
    assert len(spm.byte_fallback_ids) == 256 and sorted(spm.byte_fallback_ids.values()) == list(range(256))


def test_name_spec_and_folder(tmp_path: Path) -> None:
    assert load_tokenizer(f"mine={HF_JSON}").name == "mine"
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "tokenizer.json").write_bytes(HF_JSON.read_bytes())
    loaded = load_tokenizer(folder)
    assert loaded.name == "model" and loaded.info.kind == "hf"


def test_token_bytes_are_the_tokens_own_bytes(
    hf: LoadedTokenizer, ranks: LoadedTokenizer, spm: LoadedTokenizer
) -> None:
    text = "Hello wörld 世界 🤖\r\n  x"
    for tok in (hf, ranks):
        ids = tok.encode(text)
        assert b"".join(tok.token_bytes(i) for i in ids) == text.encode("utf-8")
    assert hf.token_bytes(0) == b"<|endoftext|>" and hf.token_bytes_table[1:] == ranks.token_bytes_table[1:]
    ids = spm.encode(text)
    # sentencepiece adds a dummy-prefix space; byte pieces give single (partial UTF-8) bytes.
    assert b"".join(spm.token_bytes(i) for i in ids) == b" " + text.encode("utf-8")
    assert any(i in spm.byte_fallback_ids for i in ids)  # the emoji is not in the 1000-piece vocabulary


def test_byte_level_alphabet_matches_gpt2() -> None:
    table = bytes_to_unicode()
    assert len(set(table.values())) == 256
    assert table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ" and table[ord("A")] == "A"
    assert all(unicode_to_bytes()[c] == b for b, c in table.items())


def test_render_token() -> None:
    assert render_token(b" hello") == "␣hello"
    assert render_token(b"\n\t\\") == "\\n\\t\\\\"
    assert render_token(b"\xe4\xb8") == "\\xe4\\xb8"  # a partial UTF-8 sequence
    assert render_token("é".encode() + b"\xff") == "é\\xff"
    assert render_token(b"\x00") == "\\x00"


# --- merges ----------------------------------------------------------------------------------------


def test_rank_bpe_golden() -> None:
    ranks = {b"a": 0, b"b": 1, b"c": 2, b"bc": 3, b"ab": 4, b"abc": 5}
    assert rank_bpe([b"a", b"b", b"c"], ranks) == [b"abc"]
    assert rank_bpe([b"a", b"b", b"c"], ranks, limit=5) == [b"a", b"bc"]  # bc ranks before ab
    merges, stuck = rebuild_merges(list(ranks), split_bytes)
    assert merges == [(b"b", b"c"), (b"a", b"b"), (b"a", b"bc")]
    assert stuck == []


def test_ranks_file_merges_equal_the_tokenizer_json_merges(hf: LoadedTokenizer, ranks: LoadedTokenizer) -> None:
    hf_merges = hf.merges()
    assert hf_merges is not None and len(hf_merges) == 640 - 1 - 256
    assert ranks.merges() == hf_merges
    assert hf_merges[0] == (b" ", b" ")


def test_spm_merges_rebuilt_from_scores(spm: LoadedTokenizer) -> None:
    merges = spm.merges()
    assert merges
    pieces = {spm.token_bytes(i) for i in range(spm.vocab_size)}
    assert all(a + b in pieces for a, b in merges)
    produced = [a + b for a, b in merges]
    assert len(set(produced)) == len(produced)
    assert produced[0] == spm.token_bytes(3 + 256)  # first piece after <unk>, <s>, </s> and 256 bytes


# --- parity with the reference libraries -----------------------------------------------------------


def test_hf_parity_on_fixtures(hf: LoadedTokenizer, texts: list[str]) -> None:
    assert hf.info.engine == "tiktoken"
    assert hf.encode_batch(texts, threads=2) == raw_hf(HF_JSON)(texts)


def test_ranks_parity_on_fixtures(ranks: LoadedTokenizer, texts: list[str]) -> None:
    raw = raw_tiktoken(RANKS, PRESETS["gpt2"].tiktoken)
    assert ranks.encode_batch(texts) == raw.encode_ordinary_batch(texts)


ARRAY_CASES = ["", "<|endoftext|>", "a<|endoftext|>b", "x\U0010fffe\U0010ffff<|tokcli: never in text|>y", "a\ud800b"]


@pytest.mark.parametrize("threads", [1, 2])
def test_id_arrays_equal_id_lists(hf: LoadedTokenizer, ranks: LoadedTokenizer, texts: list[str], threads: int) -> None:
    """compare's array path (tiktoken buffers) gives the ids of encode_batch: with special tokens parsed
    (hf), with none at all (ranks: a never-seen one is added), lone surrogates, empty texts."""
    import numpy as np

    batch = [*texts, *ARRAY_CASES]
    for tok in (hf, ranks):
        lists = tok.encode_batch(batch, threads=threads)
        arrays = tok.encode_batch_array(batch, threads=threads)
        assert arrays is not None
        ids, counts = arrays
        assert ids.dtype == np.int64 and counts.dtype == np.int64
        assert counts.tolist() == [len(x) for x in lists]
        assert ids.tolist() == [i for x in lists for i in x]
    assert hf.encode(ARRAY_CASES[1]) == [0]  # the special token is parsed by both paths
    assert tok.encode_batch_array([], threads=threads) is not None


def test_id_arrays_with_unparsed_special_tokens() -> None:
    """An encoding that has special tokens but does not parse them (ranks files of known encodings)."""
    import tiktoken

    from tokcli.loading.tiktoken_ import TiktokenEngine

    base = raw_tiktoken(RANKS, PRESETS["gpt2"].tiktoken)
    special = {"<|endoftext|>": base.max_token_value + 1}
    encoding = tiktoken.Encoding(
        "s", pat_str=base._pat_str, mergeable_ranks=base._mergeable_ranks, special_tokens=special
    )
    engine = TiktokenEngine(encoding, parse_specials=False)
    batch = ["a <|endoftext|> b", "<|endoftext|>", "plain"]
    arrays = engine.encode_batch_array(batch, 1)
    assert arrays is not None
    assert arrays[0].tolist() == [i for t in batch for i in encoding.encode_ordinary(t)]
    assert special["<|endoftext|>"] not in arrays[0].tolist()


def test_id_arrays_only_from_tiktoken(spm: LoadedTokenizer) -> None:
    assert spm.encode_batch_array(["a b"]) is None
    assert load_tokenizer(HF_JSON, engine="tokenizers").encode_batch_array(["a b"]) is None


@HYPOTHESIS
@given(text=TEXT)
def test_hypothesis_id_arrays(hf: LoadedTokenizer, ranks: LoadedTokenizer, text: str) -> None:
    for tok in (hf, ranks):
        arrays = tok.encode_batch_array([text, text[::-1]])
        assert arrays is not None
        assert arrays[0].tolist() == tok.encode(text) + tok.encode(text[::-1])


def test_spm_parity_on_fixtures(spm: LoadedTokenizer, texts: list[str]) -> None:
    import sentencepiece

    raw = sentencepiece.SentencePieceProcessor(model_file=str(SPM))
    assert spm.encode_batch(texts, threads=2) == raw.encode(texts, out_type=int)
    assert spm.encode_batch(texts[:5], add_special_tokens=True) == raw.encode(texts[:5], out_type=int, add_bos=True)


@HYPOTHESIS
@given(text=TEXT)
def test_hypothesis_parity_and_round_trip(
    hf: LoadedTokenizer, ranks: LoadedTokenizer, spm: LoadedTokenizer, text: str
) -> None:
    import sentencepiece

    hf_ids = hf.encode(text)
    assert hf_ids == raw_hf(HF_JSON)([text])[0]
    assert hf.decode(hf_ids) == text
    assert ranks.encode(text) == raw_tiktoken(RANKS, PRESETS["gpt2"].tiktoken).encode_ordinary(text)
    assert ranks.decode(ranks.encode(text)) == text
    spm_ids = spm.encode(text)
    assert spm_ids == sentencepiece.SentencePieceProcessor(model_file=str(SPM)).encode(text, out_type=int)
    assert spm.decode(spm_ids) == text  # byte fallback, identity normalization, whitespace kept


@pytest.mark.parametrize("preset", ["gpt2", "cl100k", "o200k"])
@pytest.mark.parametrize("spelling", ["hf", "tiktoken"])
def test_split_regex_presets_use_tiktoken_and_match(
    tmp_path: Path, texts: list[str], preset: str, spelling: str
) -> None:
    regex = getattr(PRESETS[preset], spelling)

    def change(data: dict[str, Any]) -> None:
        data["pre_tokenizer"] = split_pre_tokenizer(regex)

    path = variant(tmp_path, change)
    fast = load_tokenizer(path)
    assert fast.info.engine == "tiktoken"
    sample = texts[::7] + FRAGMENTS + ["".join(FRAGMENTS), " \n \n\n  a\r\n\r\n \t"]
    assert fast.encode_batch(sample) == raw_hf(path)(sample)


@pytest.mark.parametrize("preset", ["gpt2", "cl100k", "o200k"])
def test_every_code_point_pre_tokenizes_identically(tmp_path: Path, preset: str) -> None:
    """onig (tokenizers) and fancy-regex (tiktoken) must agree on \\s, \\p{L}, \\p{N}... for all of Unicode."""

    def change(data: dict[str, Any]) -> None:
        data["pre_tokenizer"] = split_pre_tokenizer(PRESETS[preset].hf)

    path = variant(tmp_path, change)
    fast = load_tokenizer(path)
    assert fast.info.engine == "tiktoken"
    # All code points except surrogates, planes 4-13 (unassigned in every Unicode version so far) and
    # the private-use planes 15-16; so characters assigned after Python's Unicode version are covered.
    points = [chr(c) for c in range(0xF0000) if not (0xD800 <= c <= 0xDFFF or 0x40000 <= c < 0xE0000)]
    # Each code point after a letter, a space and a digit, and before an apostrophe: exercises every
    # character class and the contraction/lookahead alternatives.
    samples = ["".join(f"a{c} {c}1{c}'s\n" for c in points[i : i + 200]) for i in range(0, len(points), 200)]
    assert fast.encode_batch(samples, threads=2) == raw_hf(path)(samples)


@pytest.fixture(scope="module")
def llama3(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LoadedTokenizer]:
    folder = tmp_path_factory.mktemp("llama3")
    path = variant(folder, lambda d: d.update(pre_tokenizer=split_pre_tokenizer(PRESETS["llama3"].hf)))
    return path, load_tokenizer(path)


@HYPOTHESIS
@given(text=TEXT)
def test_hypothesis_parity_llama3_split(llama3: tuple[Path, LoadedTokenizer], text: str) -> None:
    path, tok = llama3
    assert tok.info.engine == "tiktoken"
    assert tok.encode(text) == raw_hf(path)([text])[0]


def _added(content: str, token_id: int, *, special: bool = True, **flags: bool) -> dict[str, Any]:
    return {
        "id": token_id,
        "content": content,
        "single_word": False,
        "lstrip": False,
        "rstrip": False,
        "normalized": not special,
        "special": special,
        **flags,
    }


def test_added_tokens_are_split_out_like_tokenizers(tmp_path: Path) -> None:
    def change(data: dict[str, Any]) -> None:
        data["added_tokens"] += [_added("<|im_start|>", 640), _added(" kitten", 641, special=False)]

    path = variant(tmp_path, change)
    tok = load_tokenizer(path)
    assert tok.info.engine == "tiktoken"
    assert tok.added_tokens == {"<|endoftext|>": 0, "<|im_start|>": 640, " kitten": 641}
    assert tok.special_tokens == {"<|endoftext|>": 0, "<|im_start|>": 640}
    sample = ["a<|endoftext|>b<|im_start|> kitten kittens<|im_start", "<|endoftext|><|endoftext|>", " kitten"]
    assert tok.encode_batch(sample) == raw_hf(path)(sample)
    assert tok.decode(tok.encode(sample[0])) == sample[0]


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("normalizer", lambda d: d.update(normalizer={"type": "NFC"})),
        ("unknown regex", lambda d: d.update(pre_tokenizer=split_pre_tokenizer(r"\w+|\s"))),
        ("prefix space", lambda d: d["pre_tokenizer"].update(add_prefix_space=True)),
        ("lstrip", lambda d: d["added_tokens"].append(_added("<mask>", 640, lstrip=True))),
        ("prefix tokens", lambda d: d["added_tokens"].append(_added("<|endoftext|>x", 640))),
        ("merge order", lambda d: d["model"].update(merges=_swap_merges(d["model"]["merges"]))),
        ("dropout", lambda d: d["model"].update(dropout=0.0001)),
    ],
)
def test_tokenizers_engine_when_tiktoken_is_not_provably_identical(
    tmp_path: Path, texts: list[str], name: str, change: Callable[[dict[str, Any]], None]
) -> None:
    path = variant(tmp_path, change)
    tok = load_tokenizer(path)
    assert tok.info.engine == "tokenizers", name
    assert tok.info.notes and tok.info.notes[0].startswith("tiktoken engine not used")
    if name != "dropout":  # dropout is random
        sample = [*texts[::11], "a<mask> b", "<|endoftext|>x"]
        assert tok.encode_batch(sample) == raw_hf(path)(sample)


def _swap_merges(merges: list[Any]) -> list[Any]:
    merges = list(merges)
    merges[10], merges[200] = merges[200], merges[10]
    return merges


def test_engine_tokenizers_can_be_forced(texts: list[str]) -> None:
    tok = load_tokenizer(HF_JSON, engine="tokenizers")
    assert tok.info.engine == "tokenizers"
    assert tok.encode_batch(texts[:100]) == load_tokenizer(HF_JSON).encode_batch(texts[:100])


def test_add_special_tokens_follows_the_template(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    def change(data: dict[str, Any]) -> None:
        data["post_processor"] = {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
            ],
            "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [0], "tokens": ["<|endoftext|>"]}},
        }

    path = variant(tmp_path, change)
    tok = load_tokenizer(path)
    assert tok.info.engine == "tiktoken"
    raw = Tokenizer.from_file(str(path))
    for text in ["Hello world", ""]:
        assert tok.encode(text, add_special_tokens=True) == raw.encode(text, add_special_tokens=True).ids
        assert tok.encode(text) == raw.encode(text, add_special_tokens=False).ids


# --- tekken and well-known ranks files ----------------------------------------------------------------


def _tekken(tmp_path: Path, num_special: int = 5) -> Path:
    from tiktoken.load import load_tiktoken_bpe

    ranks = load_tiktoken_bpe(str(RANKS))
    # The fixture's ranks start at 1 (id 0 is its special token); tekken ranks start at 0.
    vocab = [
        {"rank": r - 1, "token_bytes": base64.b64encode(t).decode(), "token_str": t.decode("utf-8", "replace")}
        for t, r in sorted(ranks.items(), key=lambda kv: kv[1])
    ]
    specials = [{"rank": i, "token_str": s, "is_control": True} for i, s in enumerate(["<unk>", "<s>", "</s>"])]
    data = {
        "config": {
            "pattern": PRESETS["cl100k"].tiktoken,
            "num_vocab_tokens": len(vocab),
            "default_vocab_size": len(vocab) + num_special - 10,  # the last 10 tokens are cut off
            "default_num_special_tokens": num_special,
            "version": "v3",
        },
        "vocab": vocab,
        "special_tokens": specials,
    }
    path = tmp_path / "tekken.json"
    path.write_text(json.dumps(data), "utf-8")
    return path


def test_tekken_ids_are_ranks_shifted_by_the_special_tokens(tmp_path: Path, texts: list[str]) -> None:
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    tok = load_tokenizer(_tekken(tmp_path))
    assert tok.info.kind == "tekken"
    kept = {t: r - 1 for t, r in load_tiktoken_bpe(str(RANKS)).items() if r - 1 < 639 - 10}
    raw = tiktoken.Encoding("raw", pat_str=PRESETS["cl100k"].tiktoken, mergeable_ranks=kept, special_tokens={})
    sample = texts[::5]
    assert tok.encode_batch(sample) == [[i + 5 for i in ids] for ids in raw.encode_ordinary_batch(sample)]
    assert tok.vocab_size == 639 - 10 + 5
    assert tok.special_tokens == {"<unk>": 0, "<s>": 1, "</s>": 2, "<SPECIAL_3>": 3, "<SPECIAL_4>": 4}
    assert tok.encode("<s>hi", add_special_tokens=True)[0] == 1
    assert 1 not in tok.encode("<s>")  # special tokens are never parsed from text
    assert tok.decode(tok.encode(sample[3])) == sample[3]


def test_known_ranks_file_recognised_by_hash(monkeypatch: pytest.MonkeyPatch, ranks: LoadedTokenizer) -> None:
    from tokcli.files import sha256_file
    from tokcli.loading import tiktoken_

    known = {sha256_file(RANKS): ("r50k_base", "gpt2")}
    monkeypatch.setattr(tiktoken_, "KNOWN_RANKS_FILES", known)
    tok = load_tokenizer(RANKS)  # no pattern needed
    assert tok.info.notes == ("recognised as r50k_base by SHA-256",)
    assert tok.special_tokens == {"<|endoftext|>": 50256}
    text = "Some text, 123 numbers\n\n  and spaces"
    assert tok.encode(text) == ranks.encode(text)


def test_real_known_ranks_files_when_cached() -> None:
    import os
    import tempfile

    from tokcli.files import sha256_file
    from tokcli.pretok.presets import KNOWN_RANKS_FILES

    cache = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or Path(tempfile.gettempdir()) / "data-gym-cache")
    files = [p for p in cache.glob("*") if p.is_file() and p.stat().st_size > 1_000_000] if cache.is_dir() else []
    found = [p for p in files if sha256_file(p) in KNOWN_RANKS_FILES]
    if not found:
        pytest.skip("no well-known tiktoken ranks file cached locally")
    tok = load_tokenizer(found[0])
    assert tok.info.notes[0].startswith("recognised as")


def test_raw_regex_pattern_for_ranks_file() -> None:
    tok = load_tokenizer(RANKS, pattern=r"\S+|\s+")
    assert [tok.token_bytes(i) for i in tok.encode("ab cd")][-2:] != []
    assert b"".join(tok.token_bytes(i) for i in tok.encode("ab  cd")) == b"ab  cd"


# --- errors: one line each, naming the file and the fix -------------------------------------------------


def _one_line(exc: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError) as exc:
        load_tokenizer(tmp_path / "nope.json")
    assert "nope.json: no such tokenizer file" in _one_line(exc)


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "weird.bin"
    path.write_bytes(b"\x00\x01garbage")
    with pytest.raises(TokenizerError) as exc:
        load_tokenizer(path)
    assert "unknown tokenizer format" in _one_line(exc)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError) as exc:
        load_tokenizer(tmp_path)
    assert "holds no tokenizer file" in _one_line(exc)


def test_corrupt_json_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "tokenizer.json"
    path.write_text('{\n  "model": {\n    "type": "BPE",,\n', "utf-8")
    with pytest.raises(TokenizerError) as exc:
        load_tokenizer(path)
    assert f"{path}:3:19: corrupt JSON" in _one_line(exc)


def test_json_that_is_no_tokenizer(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"a": 1}', "utf-8")
    with pytest.raises(TokenizerError, match="no 'model' key"):
        load_tokenizer(path)
    path.write_text('{"model": {"type": "Nope"}}', "utf-8")
    with pytest.raises(TokenizerError, match=r"not a valid tokenizer\.json"):
        load_tokenizer(path)


def test_malformed_ranks_line(tmp_path: Path) -> None:
    lines = RANKS.read_text("utf-8").splitlines()
    lines[41] = "not base64!! 42"
    path = tmp_path / "bad.tiktoken"
    path.write_text("\n".join(lines), "utf-8")
    with pytest.raises(TokenizerError) as exc:
        load_tokenizer(path, pattern="gpt2")
    assert f"{path}:42: malformed ranks line" in _one_line(exc)


def test_ranks_file_needs_a_pattern() -> None:
    with pytest.raises(ConfigError) as exc:
        load_tokenizer(RANKS)
    assert "--pattern" in _one_line(exc)


def test_unknown_pattern_preset() -> None:
    with pytest.raises(ConfigError) as exc:
        load_tokenizer(RANKS, pattern="cl100")
    assert "unknown pattern preset 'cl100'" in _one_line(exc)
    with pytest.raises(ConfigError, match="bad pre-tokenization pattern"):
        load_tokenizer(RANKS, pattern="(unclosed")


def test_corrupt_spm_model(tmp_path: Path) -> None:
    path = tmp_path / "broken.model"
    path.write_bytes(SPM.read_bytes()[:500])
    with pytest.raises(TokenizerError) as exc:
        load_tokenizer(path)
    assert "not a valid sentencepiece model" in _one_line(exc)
