"""hf-* training through a pipe (the Rust file reader) gives the file ``train_from_iterator`` gives."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokcli.corpus import Corpus, CorpusConfig
from tokcli.errors import InputError
from tokcli.train import TrainConfig, hf, train_tokenizer
from tokcli.train.hf import ESC, encode_batch, escape_document, train_hf

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.skipif(hf.PIPE_PATH is None, reason="no /dev/fd on this platform")

# Documents where a kept newline would change the pre-tokens: trailing white space, punctuation before
# a newline (cl100k's ' ?[^\s\p{L}\p{N}]+[\r\n]*'), blank-line runs, CR LF, the escape character itself,
# text that looks like an escape sequence, combining marks after a newline (NFKC), digits.
TRICKY = [
    "Hello.\n\nWorld  \n  x",
    "ends with spaces   ",
    "ends with punctuation.",
    "line one,\nline two;\r\nline three!\n\n\n",
    f"escape {ESC} char {ESC}n not a newline {ESC}0 {ESC}{ESC}n",
    "\n\n",
    "",
    " ",
    "\n\u0301 combining after a newline, e\u0301 and \uff71\uff72",
    "1234567 3.14159\n$12,345.67 \t\n\tdef f(x):\n\t\treturn x ** 2  # done",
    "中文文本，没有空格。\n日本語のテキスト。",
]


def _libc_env(name: str) -> str | None:
    """The variable as native code (tokenizers) sees it: libc's environment, not os.environ's copy."""
    import ctypes

    libc = ctypes.CDLL(None)
    libc.getenv.restype = ctypes.c_char_p
    value = libc.getenv(name.encode())
    return value.decode() if value is not None else None


def _random_docs(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = [*"aab bc.,!?  \n\n\r\t", ESC, "0", "n", "1", "2", "é", "中", "\u0301", "Σ"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(n)]


def _fixture_docs(multilingual: bool = False) -> list[str]:
    inputs = [str(DATA / "austen.txt"), str(DATA / "code" / "python.jsonl")]
    if multilingual:
        inputs.append(str(DATA / "parallel" / "udhr"))
    corpus = Corpus(CorpusConfig(inputs=tuple(inputs)))
    return [doc for batch in corpus.text_batches(100) for doc in batch]


def _both(config: TrainConfig, docs: list[str], batch: int = 37) -> tuple[str, str]:
    batches = [docs[i : i + batch] for i in range(0, len(docs), batch)]
    by_iterator, _ = train_hf(config, iter(batches), feed="iterator")
    by_pipe, _ = train_hf(config, iter(batches), feed="pipe")
    return by_iterator, by_pipe


@pytest.mark.parametrize("preset", ["gpt2", "cl100k", "o200k", "llama3", "none"])
@pytest.mark.parametrize(
    ("digits", "normalizer"), [("none", ()), ("rtl3", ("nfkc", "lowercase")), ("single", ("nfc",))]
)
def test_pipe_equals_iterator_for_every_preset(preset: str, digits: str, normalizer: tuple[str, ...]) -> None:
    docs = TRICKY * 5 + _random_docs(400, seed=len(preset)) + _fixture_docs(multilingual=preset == "gpt2")
    config = TrainConfig(
        output="unused.json", vocab_size=1000, preset=preset, digits=digits, normalizer=normalizer,  # type: ignore[arg-type]
        special_tokens=("<|endoftext|>",),
    )  # fmt: skip
    by_iterator, by_pipe = _both(config, docs)
    assert len(json.loads(by_iterator)["model"]["merges"]) > 700  # a real training, not a trivial one
    assert by_pipe == by_iterator


@pytest.mark.parametrize("backend", ["hf-wordlevel"])  # hf-unigram / hf-wordpiece are not reproducible upstream
def test_pipe_equals_iterator_for_other_deterministic_backends(backend: str) -> None:
    docs = TRICKY * 3 + _random_docs(200, seed=7) + _fixture_docs()
    config = TrainConfig(output="unused.json", backend=backend, vocab_size=800, normalizer=("lowercase",))  # type: ignore[arg-type]
    by_iterator, by_pipe = _both(config, docs)
    assert by_pipe == by_iterator


def test_escaping_keeps_each_document_on_one_line() -> None:
    docs = [*TRICKY, *_random_docs(300, seed=3)]
    lines = encode_batch(docs).decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == len(docs) + 1
    unescape = hf.unescape_normalizer(None)
    for doc, line in zip(docs, lines, strict=False):
        assert unescape.normalize_str(line + "\n") == doc
    assert escape_document("plain text") == "plain text"


def test_unpaired_surrogate_is_an_input_error() -> None:
    with pytest.raises(InputError, match="surrogate"):
        encode_batch(["fine", "bad \udc80 text"])


def test_reader_error_is_raised_at_once_and_the_trainer_thread_ends() -> None:
    def batches() -> Iterator[list[str]]:
        yield _fixture_docs()
        raise InputError("broken input at line 7")

    before = threading.active_count()
    config = TrainConfig(output="unused.json", vocab_size=2000)
    with pytest.raises(InputError, match="line 7"):
        train_hf(config, batches(), feed="pipe")
    for thread in threading.enumerate():
        if thread.name == "tokcli-train":
            thread.join(60)  # the abandoned Rust call finishes on its own input
    assert threading.active_count() <= before


def test_cli_training_uses_the_pipe_and_matches_the_iterator(tmp_path: Path) -> None:
    inputs = (str(DATA / "austen.txt"), str(DATA / "code" / "python.jsonl"))
    out = tmp_path / "t.json"
    train_tokenizer(TrainConfig(output=str(out), vocab_size=1200), Corpus(CorpusConfig(inputs=inputs)))
    corpus = Corpus(CorpusConfig(inputs=inputs))
    by_iterator, _ = train_hf(TrainConfig(output=str(out), vocab_size=1200), corpus.text_batches(), feed="iterator")
    assert out.read_text(encoding="utf-8") == by_iterator


@pytest.mark.parametrize(
    ("backend", "vocab", "options"),
    [
        ("spm-bpe", 800, {}),
        ("spm-unigram", 700, {"byte_fallback": True, "normalizer": ("none",)}),
        ("spm-char", 300, {}),
        ("spm-word", 600, {"special_tokens": ("<|endoftext|>",)}),
    ],
)
def test_spm_pipe_equals_iterator(tmp_path: Path, backend: str, vocab: int, options: dict[str, object]) -> None:
    from tokcli.train.spm import train_spm

    docs = TRICKY * 3 + _fixture_docs()
    batches = [docs[i : i + 50] for i in range(0, len(docs), 50)]
    files = {}
    for feed in ("iterator", "pipe"):
        out = tmp_path / feed / "t.model"
        out.parent.mkdir()
        config = TrainConfig(output=str(out), backend=backend, vocab_size=vocab, **options)  # type: ignore[arg-type]
        train_spm(config, iter(batches), out, feed=feed)
        files[feed] = (out.read_bytes(), out.with_suffix(".vocab").read_bytes())
        assert sorted(p.name for p in out.parent.iterdir()) == ["t.model", "t.vocab"]  # no scratch left
    assert files["pipe"] == files["iterator"]


def test_spm_pipe_reader_error_leaves_nothing(tmp_path: Path) -> None:
    from tokcli.train.spm import train_spm

    def batches() -> Iterator[list[str]]:
        yield _fixture_docs()
        raise InputError("broken input at line 9")

    out = tmp_path / "t.model"
    with pytest.raises(InputError, match="line 9"):
        train_spm(TrainConfig(output=str(out), backend="spm-bpe", vocab_size=500), batches(), out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("preset", ["gpt2", "cl100k"])
def test_serial_merge_loop_gives_the_same_merges(preset: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tokcli.train.hf import build_tokenizer

    monkeypatch.delenv(hf.PARALLELISM, raising=False)
    docs = _fixture_docs(multilingual=True)
    config = TrainConfig(output="unused.json", vocab_size=3000, preset=preset)  # type: ignore[arg-type]
    files = []
    for serial in (False, True):
        tokenizer, trainer = build_tokenizer(config)
        batches = [docs[i : i + 40] for i in range(0, len(docs), 40)]
        hf.train_through_pipe(tokenizer, trainer, batches, serial_merges=serial)
        files.append(tokenizer.to_str(pretty=True))
        assert _libc_env(hf.PARALLELISM) is None  # restored (it was unset)
    by_iterator, _ = train_hf(config, iter([docs]), feed="iterator")
    assert len(json.loads(by_iterator)["model"]["merges"]) > 2000
    assert files[0] == files[1] == by_iterator


def test_parallelism_switch_respects_and_restores_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    def libc_value() -> str | None:
        return _libc_env(hf.PARALLELISM)

    monkeypatch.setenv(hf.PARALLELISM, "1")
    with hf.parallelism_switch(True) as to_serial:
        assert to_serial is not None and libc_value() == "1"
        to_serial()
        assert libc_value() == "false"
    assert libc_value() == "1" and os.environ[hf.PARALLELISM] == "1"
    monkeypatch.setenv(hf.PARALLELISM, "false")  # the user turned it off: left alone
    with hf.parallelism_switch(True) as to_serial:
        assert to_serial is None
    with hf.parallelism_switch(False) as to_serial:
        assert to_serial is None


def test_serial_merges_only_where_measured() -> None:
    assert hf.serial_merges_pay(1) and hf.serial_merges_pay(2) and not hf.serial_merges_pay(8)


def test_one_thread_keeps_the_iterator_feed(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--threads 1`` means one thread: no second thread to write the pipe."""
    called = []
    monkeypatch.setattr(hf, "train_through_pipe", lambda *args, **kwargs: called.append(1))
    config = TrainConfig(output="unused.json", vocab_size=300, threads=1)
    train_hf(config, iter([["some text", "more text"]]), feed="pipe")
    assert not called
    monkeypatch.setenv("TOKCLI_THREADS", "1")
    assert hf.training_threads(TrainConfig(output="unused.json")) == 1
