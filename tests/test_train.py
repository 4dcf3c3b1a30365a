"""tokcli train: every backend trains on the fixtures, presets and digit rules, determinism, bad options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokcli.cli.app import main
from tokcli.corpus import Corpus, CorpusConfig, MixSource
from tokcli.errors import ConfigError, ExitCode, UsageError
from tokcli.pretok.hf import bpe_pre_tokenizer
from tokcli.train import TrainConfig, train_tokenizer

DATA = Path(__file__).parent / "data"
INPUTS = (str(DATA / "austen.txt"), str(DATA / "code" / "python.jsonl"))  # a small alphabet: small vocabs fit
MULTILINGUAL = (*INPUTS, str(DATA / "parallel" / "udhr"))
SAMPLE = "Hello world, it's 2024: 1234567 apples cost $3.14159!\n  def f(x):\n\treturn x"


def train(
    tmp_path: Path, name: str, inputs: tuple[str, ...] = INPUTS, **options: object
) -> tuple[Path, dict[str, object]]:
    out = tmp_path / name
    config = TrainConfig(output=str(out), **options)  # type: ignore[arg-type]
    report = train_tokenizer(config, Corpus(CorpusConfig(inputs=inputs)))
    return out, report.as_dict()


@pytest.mark.parametrize(
    ("backend", "vocab", "file"),
    [
        ("hf-bpe", 1000, "t.json"),
        ("hf-unigram", 800, "t.json"),
        ("hf-wordpiece", 800, "t.json"),
        ("hf-wordlevel", 500, "t.json"),
        ("spm-bpe", 800, "t.model"),
        ("spm-unigram", 800, "t.model"),
        ("spm-char", 300, "t.model"),
        ("spm-word", 500, "t.model"),
    ],
)
def test_every_backend_trains_and_loads(tmp_path: Path, backend: str, vocab: int, file: str) -> None:
    out, report = train(tmp_path, file, backend=backend, vocab_size=vocab)
    assert report["backend"] == backend and report["tokenizer"] == str(out)
    assert report["docs"] > 0 and report["bytes"] > 0
    if backend.startswith("hf-"):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(out))
        assert tok.get_vocab_size() == report["vocab_size"] <= vocab
        ids = tok.encode("Hello world").ids
        assert ids
    else:
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=str(out))
        assert sp.get_piece_size() == report["vocab_size"]
        assert (tmp_path / "t.vocab").is_file()
        assert sp.encode("Hello world")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tokcli")]  # no temp leftovers


def test_byte_level_bpe_round_trips_any_text(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    out, report = train(tmp_path, "t.json", MULTILINGUAL, vocab_size=1000, special_tokens=("<|endoftext|>",))
    tok = Tokenizer.from_file(str(out))
    for text in (SAMPLE, "日本語 🙂 é\u0301 \r\n\r\n   x", "\x00\x01 control"):
        assert tok.decode(tok.encode(text).ids) == text
    assert tok.token_to_id("<|endoftext|>") == 0
    assert report["merges"] == report["vocab_size"] - 256 - 1


@pytest.mark.parametrize("preset", ["gpt2", "cl100k", "o200k", "llama3", "none"])
def test_presets_split_with_regexes(preset: str) -> None:
    pieces = [p for p, _ in bpe_pre_tokenizer(preset, "none").pre_tokenize_str("Hello world, it's")]
    assert len(pieces) >= 3  # a Split given a plain string would never split
    assert pieces[0] == "Hello"


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("single", ["1", "2", "3", "4", "5", "6", "7"]),
        ("ltr3", ["123", "456", "7"]),
        ("rtl3", ["1", "234", "567"]),
    ],
)
def test_digit_rules(digits: str, expected: list[str]) -> None:
    pre = bpe_pre_tokenizer("gpt2", digits)
    pieces = [p for p, _ in pre.pre_tokenize_str("1234567")]
    assert pieces == expected
    decimals = [p for p, _ in pre.pre_tokenize_str("3.14159")]
    assert "".join(decimals) == "3.14159" and all(len(p) <= 3 for p in decimals if p.isdigit())


def test_cl100k_groups_digits_by_default() -> None:
    pieces = [p for p, _ in bpe_pre_tokenizer("cl100k", "none").pre_tokenize_str("1234567")]
    assert pieces == ["123", "456", "7"]


def test_trained_digit_rule_is_in_the_file(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    out, _ = train(tmp_path, "t.json", vocab_size=600, digits="rtl3")
    tok = Tokenizer.from_file(str(out))
    pieces = [p for p, _ in tok.pre_tokenizer.pre_tokenize_str("1234567")]
    assert pieces == ["1", "234", "567"]


@pytest.mark.parametrize(
    ("backend", "file"),
    [("hf-bpe", "a.json"), ("hf-wordlevel", "a.json"), ("spm-bpe", "a.model"), ("spm-unigram", "a.model"),
     ("spm-char", "a.model")],
)  # fmt: skip
def test_same_input_same_bytes(tmp_path: Path, backend: str, file: str) -> None:
    """hf-unigram and hf-wordpiece are not reproducible upstream (docs/train.md says why)."""
    outputs = []
    for run in ("first", "second"):
        (tmp_path / run).mkdir()
        outputs.append(train(tmp_path / run, file, backend=backend, vocab_size=700)[0].read_bytes())
    assert outputs[0] == outputs[1]


def test_alphabet_larger_than_vocabulary_is_a_clear_error(tmp_path: Path) -> None:
    for backend, name in (("hf-unigram", "u.json"), ("spm-bpe", "s.model")):
        with pytest.raises(ConfigError, match="could not train"):
            train(tmp_path, name, MULTILINGUAL, backend=backend, vocab_size=300)
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".json", ".model")]


def test_character_level_bpe_caps_token_length(tmp_path: Path) -> None:
    from tokenizers import Tokenizer

    out, _ = train(tmp_path, "t.json", vocab_size=1200, max_token_length=3)
    vocab = Tokenizer.from_file(str(out)).get_vocab()
    assert max(len(token) for token in vocab) <= 3


def test_mixture_report_matches_weights(tmp_path: Path) -> None:
    mix = (
        MixSource("prose", 0.5, (str(DATA / "austen.txt"),)),
        MixSource("code", 0.3, (str(DATA / "code" / "python.jsonl"), str(DATA / "code" / "rust.jsonl"))),
        MixSource("udhr", 0.2, (str(DATA / "parallel" / "udhr"),)),
    )
    out = tmp_path / "m.json"
    corpus = Corpus(CorpusConfig(mix=mix, max_bytes=60_000))
    report = train_tokenizer(TrainConfig(output=str(out), vocab_size=500), corpus).as_dict()
    shares = {name: src["byte_share"] for name, src in report["sources"].items()}
    assert report["bytes"] <= 60_000
    for name, weight in (("prose", 0.5), ("code", 0.3), ("udhr", 0.2)):
        assert report["sources"][name]["requested_share"] == pytest.approx(weight)
        # byte-deficit interleaving keeps shares within one document of the weights
        assert abs(shares[name] - weight) < 0.12


@pytest.mark.parametrize(
    ("options", "error", "needle"),
    [
        ({"vocab_size": 100}, ConfigError, "byte alphabet"),
        ({"backend": "hf-bpe", "character_coverage": 0.99}, UsageError, "--character-coverage"),
        ({"backend": "spm-bpe", "preset": "gpt2"}, UsageError, "--preset"),
        ({"backend": "spm-bpe", "digits": "rtl3"}, UsageError, "--digits rtl3"),
        ({"backend": "hf-unigram", "preset": "gpt2"}, UsageError, "--preset"),
        ({"superword_transition": 40000}, UsageError, "below --vocab-size"),
        ({"superword_transition": 100, "vocab_size": 1000}, ConfigError, "byte alphabet"),
        ({"superword_transition": 500, "backend": "hf-unigram", "vocab_size": 1000}, UsageError, "hf-bpe"),
        ({"special_tokens": ("<a>", "<a>")}, ConfigError, "twice"),
    ],
)
def test_bad_options_write_nothing(tmp_path: Path, options: dict[str, object], error: type, needle: str) -> None:
    with pytest.raises(error, match=needle):
        train(tmp_path, "bad.json", **options)
    assert list(tmp_path.iterdir()) == []


def test_empty_corpus_writes_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    out = tmp_path / "t.json"
    with pytest.raises(Exception, match="empty"):
        train_tokenizer(TrainConfig(output=str(out), vocab_size=300), Corpus(CorpusConfig(inputs=(str(empty),))))
    assert not out.exists()


def test_cli_report_on_stdout_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tok.json"
    report_file = tmp_path / "report.json"
    code = main(["-q", "train", *INPUTS, "--vocab-size", "600", "-o", str(out), "--report", str(report_file)])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    report = json.loads(stdout)  # stdout is exactly the report
    assert report == json.loads(report_file.read_text(encoding="utf-8"))
    assert report["sha256"] and out.is_file() and stderr == ""


def test_cli_bad_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", *INPUTS, "-o", str(tmp_path / "missing" / "t.json")])
    _, stderr = capsys.readouterr()
    assert code == ExitCode.ERROR and "does not exist" in stderr and stderr.count("\n") == 1


def test_cli_needs_output(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", *INPUTS])
    assert code == ExitCode.USAGE and "-o/--output" in capsys.readouterr().err


def test_superword_tokens_span_words_and_round_trip(tmp_path: Path) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from tokenizers import Tokenizer

    from tokcli.train.superbpe import MAX_WORDS, words_in

    out, report = train(tmp_path, "sw.json", vocab_size=1500, superword_transition=900)
    tok = Tokenizer.from_file(str(out))
    assert tok.get_vocab_size() == report["vocab_size"] == 1500
    vocab = tok.get_vocab()
    multi = [t for t in vocab if words_in(t) >= 2]
    assert len(multi) > 50  # stage 2 really merged across words
    assert max(words_in(t) for t in vocab) <= MAX_WORDS
    encoded = tok.encode("It is a truth universally acknowledged, that a single man in possession of a good fortune")
    assert any(words_in(t) >= 2 for t in encoded.tokens)  # multi-word tokens are used when encoding

    @settings(max_examples=150, deadline=None)
    @given(st.text(max_size=80))
    def round_trip(text: str) -> None:
        assert tok.decode(tok.encode(text).ids) == text

    round_trip()
    again = tmp_path / "again"
    again.mkdir()
    assert train(again, "sw.json", vocab_size=1500, superword_transition=900)[0].read_bytes() == out.read_bytes()
