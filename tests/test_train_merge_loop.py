"""Route 2 of ``train --from-counts``: HF's BPE merge loop re-implemented over unique words
(:mod:`tokcli.train.merge_loop`) gives HF's tokenizer byte for byte."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from tokcli.cli.app import main
from tokcli.errors import ExitCode
from tokcli.train.merge_loop import as_u64, train_bpe

DATA = Path(__file__).parent / "data"
CORPUS = (str(DATA / "austen.txt"), str(DATA / "code"), str(DATA / "parallel" / "udhr"))


def hf_reference(words: list[tuple[str, int]], **options: Any) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """HF's BpeTrainer on the same word counts (each word fed ``count`` times, split on white space)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(show_progress=False, **options)
    tokenizer.train_from_iterator([" ".join([word] * count) for word, count in words], trainer=trainer)
    model = json.loads(tokenizer.to_str())["model"]
    return model["vocab"], [tuple(pair) for pair in model["merges"]]


def ours(words: list[tuple[str, int]], **options: Any) -> tuple[dict[str, int], list[tuple[str, str]]]:
    model = train_bpe(words, **options)
    assert model.emitted == len(model.merges)  # no pair is ever merged twice (see the module docstring)
    return model.vocab, model.merges


RUNS = [("a" * n, 10 - n) for n in range(1, 10)] + [("ab" * 4, 3), ("aab", 7), ("baaa", 7), ("ba" * 5, 2)]
TIES = [(w, 5) for w in ("ab", "ba", "bc", "cb", "abc", "cab", "bca", "ca", "ac", "cba")]


@pytest.mark.parametrize(
    ("words", "options"),
    [
        (RUNS, {"vocab_size": 1000}),  # overlapping pairs (aaaa -> aa aa), until no pair is left
        (RUNS, {"vocab_size": 9, "min_frequency": 0}),
        (RUNS, {"vocab_size": 1000, "min_frequency": 15}),  # stops at the first pair below it
        (RUNS, {"vocab_size": 1000, "max_token_length": 3}),
        (RUNS, {"vocab_size": 1000, "max_token_length": 1}),  # HF still merges the initial pairs
        (TIES, {"vocab_size": 1000}),  # equal counts: the smaller pair of ids first
        (TIES, {"vocab_size": 20, "special_tokens": ["<s>", "ab", "c"]}),  # a special token as a char / merge
        (TIES + RUNS, {"vocab_size": 40, "limit_alphabet": 2}),
        (TIES + RUNS, {"vocab_size": 40, "limit_alphabet": 3, "initial_alphabet": ["z"]}),
        ([*TIES, ("ab", 3), ("ab", 4)], {"vocab_size": 30}),  # a word listed twice counts once, summed
    ],
)
def test_merge_loop_equals_hf(words: list[tuple[str, int]], options: dict[str, Any]) -> None:
    merged: dict[str, int] = {}
    for word, count in words:
        merged[word] = merged.get(word, 0) + count
    assert ours(words, **options) == hf_reference(list(merged.items()), **options)


def test_merge_loop_equals_hf_on_random_words() -> None:
    for seed in range(40):
        rng = random.Random(seed)
        alphabet = "abcdefg"[: rng.randint(2, 7)]
        counts: dict[str, int] = {}
        for _ in range(rng.randint(10, 120)):
            word = "".join(rng.choice(alphabet) * rng.choice((1, 1, 2, 4)) for _ in range(rng.randint(1, 8)))
            counts[word] = counts.get(word, 0) + rng.choice((1, 2, 3, rng.randint(1, 60)))
        options: dict[str, Any] = {"vocab_size": rng.randint(10, 300), "min_frequency": rng.choice((0, 2, 4))}
        if seed % 3 == 0:
            options["max_token_length"] = rng.randint(2, 6)
        if seed % 4 == 1:
            options["special_tokens"] = rng.sample(["<s>", "a", "ab", "aa"], 2)
        words = list(counts.items())
        assert ours(words, **options) == hf_reference(words, **options), (seed, options)


def test_counts_wrap_as_hf_i32_and_compare_as_u64() -> None:
    assert [as_u64(c) for c in (0, 5, 2**31 - 1)] == [0, 5, 2**31 - 1]
    assert as_u64(2**31) == 2**64 - 2**31  # i32::MIN as u64
    assert as_u64(2**32 + 7) == 7
    assert as_u64(-3) == 2**64 - 3


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["-q", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Counts of the shipped corpus per count-flag set (made once)."""
    base = tmp_path_factory.mktemp("counts")
    flags = {
        "gpt2": ["--pretok", "gpt2"],
        "cl100k": ["--pretok", "cl100k"],
        "llama3-single": ["--pretok", "llama3", "--digits", "single", "--by", "source"],
        "gpt2-rtl3-nfkc": ["--pretok", "gpt2", "--digits", "rtl3", "--normalizer", "nfkc"],
    }
    out = {}
    for name, argv in flags.items():
        out[name] = base / name
        assert main(["-q", "count", *CORPUS, *argv, "-o", str(out[name])]) == 0
    return out


@pytest.mark.parametrize(
    ("counts", "train_flags"),
    [
        ("gpt2", ["--vocab-size", "2000", "--special-tokens", "<|endoftext|>", "--special-tokens", "<pad>"]),
        ("gpt2", ["--vocab-size", "60000"]),  # runs out of pairs
        ("gpt2", ["--vocab-size", "1500", "--min-frequency", "1", "--max-token-length", "3"]),
        ("gpt2", ["--vocab-size", "1200", "--limit-alphabet", "256", "--min-frequency", "0"]),
        ("cl100k", ["--preset", "cl100k", "--vocab-size", "3000", "--min-frequency", "4"]),
        ("llama3-single", ["--preset", "llama3", "--digits", "single", "--vocab-size", "1000"]),
        ("gpt2-rtl3-nfkc", ["--digits", "rtl3", "--normalizer", "nfkc", "--vocab-size", "800"]),
    ],
)
def test_merge_loop_route_equals_repeat_route_and_the_corpus(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, counted: dict[str, Path], counts: str, train_flags: list[str]
) -> None:
    direct = tmp_path / "direct.json"
    code, _, err = run(capsys, "train", *CORPUS, *train_flags, "-o", str(direct))
    assert code == 0, err
    for method in ("repeat", "merge-loop"):
        out = tmp_path / f"{method}.json"
        argv = ["--from-counts", str(counted[counts]), "--from-counts-method", method, *train_flags]
        code, stdout, err = run(capsys, "train", *argv, "-o", str(out))
        assert code == 0, err
        assert json.loads(stdout)["from_counts_method"] == method
        assert out.read_bytes() == direct.read_bytes(), method


def test_auto_picks_the_route_by_counted_bytes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, counted: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "t.json"
    code, stdout, err = run(
        capsys, "train", "--from-counts", str(counted["gpt2"]), "--vocab-size", "600", "-o", str(out)
    )
    assert code == 0, err
    report = json.loads(stdout)
    assert report["from_counts_method"] == "repeat" and report["config"]["from_counts_method"] is None
    monkeypatch.setattr("tokcli.train.from_counts.REPEAT_MAX_BYTES", 1000)
    config = tmp_path / "train.yaml"
    config.write_text("train:\n  vocab_size: 600\n  from_counts_method: auto\n")
    code, stdout, err = run(
        capsys, "train", "--config", str(config), "--from-counts", str(counted["gpt2"]), "-o", str(tmp_path / "u.json")
    )
    assert code == 0, err
    assert json.loads(stdout)["from_counts_method"] == "merge-loop"
    assert (tmp_path / "u.json").read_bytes() == out.read_bytes()


@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        ([*CORPUS[:1], "--from-counts-method", "repeat"], ExitCode.USAGE, "--from-counts-method needs --from-counts"),
        (
            ["--from-counts", "COUNTS", "--backend", "spm-bpe", "--from-counts-method", "merge-loop"],
            ExitCode.USAGE,
            "--from-counts-method merge-loop trains hf-bpe, not spm-bpe",
        ),
        (["--from-counts", "COUNTS", "--from-counts-method", "fast"], ExitCode.ERROR, "--from-counts-method"),
    ],
)
def test_from_counts_method_misuse_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    counted: dict[str, Path],
    argv: list[str],
    code: int,
    words: str,
) -> None:
    out = tmp_path / "t.json"
    argv = [str(counted["gpt2"]) if a == "COUNTS" else a for a in argv]
    got, stdout, err = run(capsys, "train", *argv, "--vocab-size", "600", "-o", str(out))
    assert (got, stdout) == (code, "")
    assert err.count("\n") == 1 and words in err, err
    assert not out.exists()
