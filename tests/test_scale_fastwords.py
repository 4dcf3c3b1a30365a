"""The ``regex``-module word cutter of ``tokcli count`` gives exactly HF's pre-tokens (tokcli.pretok.regex_cutter)."""

from __future__ import annotations

import functools
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokcli.corpus import Corpus, CorpusConfig
from tokcli.pretok.hf import DIGIT_PATTERNS, NO_PRESET_PATTERN, bpe_pre_tokenizer, hf_normalizer
from tokcli.pretok.presets import PRESETS
from tokcli.pretok.regex_cutter import _all_code_points, as_class, disagreements, members, splitter, verified_table
from tokcli.pretok.spec import parse_pretok, word_counter

DATA = Path(__file__).parent / "data"
PATTERNS = {"gpt2": PRESETS["gpt2"].hf, "cl100k": PRESETS["cl100k"].hf, "o200k": PRESETS["o200k"].hf}
PATTERNS["none"] = NO_PRESET_PATTERN
DIGITS = ("none", "single", "ltr3", "rtl3")



@functools.cache
def table() -> str:
    """The disagreement table proven for the installed versions (computed and cached if not shipped)."""
    found = verified_table()
    assert found is not None, "the fast word cutter could not be verified for the installed versions"
    return found


def hf_words(preset: str, digits: str, text: str) -> list[bytes]:
    from tokcli.bpe.byte_level import byte_level_to_bytes

    out = []
    for word, _ in bpe_pre_tokenizer(preset, digits).pre_tokenize_str(text):
        data = byte_level_to_bytes(word)
        assert data is not None
        out.append(data)
    return out


def fast_words(preset: str, digits: str, text: str) -> list[bytes] | None:
    cut = splitter(PATTERNS.get(preset, PRESETS.get(preset, PRESETS["gpt2"]).hf), DIGIT_PATTERNS.get(digits))
    assert cut is not None
    words = cut(text)
    return None if words is None else [w.encode("utf-8") for w in words]


def test_table_lists_exactly_the_code_points_the_engines_disagree_on() -> None:
    assert as_class(disagreements()) == table()


@pytest.mark.parametrize("preset", sorted(PATTERNS))
def test_patterns_leave_no_character_unmatched(preset: str) -> None:
    import regex

    text = _all_code_points()
    assert sum(map(len, regex.findall(PATTERNS[preset], text))) == len(text)


@functools.cache
def _representatives() -> str:
    """All of Latin-1, and up to 16 code points (spread over the range) of every combination of the
    classes the patterns use: the table test proves both engines classify every other code point the
    same way, so these cover every way a pattern can treat a character."""
    import regex

    from tokcli.pretok.regex_cutter import CLASSES, FOLDED

    text = _all_code_points()
    signature = [0] * len(text)
    for bit, pattern in enumerate([*CLASSES, f"[{table()}]", f"(?i:[{FOLDED}])"]):
        for match in regex.finditer(f"(?:{pattern})+", text):
            for i in range(*match.span()):
                signature[i] |= 1 << bit
    groups: dict[int, list[str]] = {}
    for c, sig in zip(text, signature, strict=True):
        groups.setdefault(sig, []).append(c)
    chosen = {chr(i) for i in range(256)}
    for sig, group in groups.items():
        if not sig >> len(CLASSES) & 1:  # not in the table
            step = max(1, len(group) // 16)
            chosen.update(group[::step][:16] + group[-1:])
    return "".join(sorted(chosen))


@pytest.mark.parametrize("preset", sorted(PATTERNS))
def test_every_kind_of_code_point_in_context(preset: str) -> None:
    contexts = ("a{0}b ", " {0}{0}", "'{0}1 ", "\n{0}\r\n", "{0}'s ", "9{0}  ", "x{0}'LL", "\u0301{0}", "{0} 12")
    points = _representatives()
    for context in contexts:
        text = "".join(context.format(c) for c in points)
        assert fast_words(preset, "none", text) == hf_words(preset, "none", text)


@pytest.mark.parametrize("digits", DIGITS[1:])
def test_digit_rules_on_every_digit(digits: str) -> None:
    import regex

    numbers = [c for c in regex.findall(r"\p{N}", _all_code_points()) if not regex.match(f"[{table()}]", c)]
    text = "".join(f"{c}{c}12{c}3456 {c}7a{c}{c}{c}{c}\n" for c in numbers)
    for preset in PATTERNS:
        assert fast_words(preset, digits, text) == hf_words(preset, digits, text)


def test_disagreeing_code_points_and_surrogates_go_to_hf() -> None:
    cut = splitter(PATTERNS["gpt2"], None)
    assert cut is not None
    assert cut("plain text") == ["plain", " text"]
    odd = members(table())[0]  # U+0295 with tokenizers 0.23.3: Ll for Oniguruma, Lo for regex
    assert cut(f"a {odd} b") is None  # HF cuts this text
    assert cut("a \ud800 b") is None


TRICKY = (
    "aAzZ09 \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\x1c\x1f"
    "'\u2019sStTdDmMlLvVrReE\u017f\u212a\u0130\u0131\u00df\u1e9e\ufb05\ufb06"
    "\u0301\u0308\u093f\u0e31\u200d\ufe0f\u00bd\u2167\u0661\u0969\uff11\u00b2"
    ".,;:!?-_/\\()[]{}\"#$%&*+<=>@^`|~\u00a7\u20ac\u2014\u3002"
    "\u00e9\u00c9\u01c5\u02b0\u0391\u03c9\u0416\u0436\u05d0\u0627\u0915\u0e01\u1780\u3042\u30a2\u4e00\u4eba\uac00"
    "\U0001f600\U0001f44d\U0001f3fb\U00020000\u0295\u1acf\U00011f00"
)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(TRICKY), max_size=60) | st.text(max_size=40),
    preset=st.sampled_from(sorted(PATTERNS)),
    digits=st.sampled_from(DIGITS),
)
def test_fuzzed_texts(text: str, preset: str, digits: str) -> None:
    fast = fast_words(preset, digits, text)
    if fast is not None:
        assert fast == hf_words(preset, digits, text)


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(TRICKY), max_size=60),
    normalizer=st.sampled_from(["nfc", "nfkc", "lowercase"]),
)
def test_fuzzed_counts_with_normalizers(text: str, normalizer: str) -> None:
    spec = parse_pretok("cl100k", "rtl3", (normalizer,))
    expected = Counter(hf_words("cl100k", "rtl3", hf_normalizer((normalizer,)).normalize_str(text)))
    assert word_counter(spec)([text]) == expected


def _corpus_texts() -> list[str]:
    inputs = [str(DATA / "austen.txt"), str(DATA / "code"), str(DATA / "parallel" / "udhr")]
    return [t for batch in Corpus(CorpusConfig(inputs=tuple(inputs))).text_batches(1000) for t in batch]


@pytest.mark.parametrize("preset", ["gpt2", "cl100k", "o200k", "llama3", "none"])
@pytest.mark.parametrize("digits", DIGITS)
def test_counts_of_the_shipped_corpus_equal_hf(preset: str, digits: str) -> None:
    texts = _corpus_texts()
    spec = parse_pretok(preset, digits)
    assert word_counter(spec)(texts) == word_counter(spec, fast=False)(texts)


def test_tokenizer_json_counts_equal_hf() -> None:
    texts = _corpus_texts()
    spec = parse_pretok(str(DATA / "tokenizers" / "bpe-bytelevel.json"))
    assert word_counter(spec)(texts) == word_counter(spec, fast=False)(texts)


def test_texts_hf_must_cut_are_found_among_clean_ones() -> None:
    spec = parse_pretok("gpt2")
    odd = members(table())
    dirty = [f"the {odd[0]} the", f"Kawi {odd[-1]} and {odd[len(odd) // 2]}", odd[0]]
    texts = [f"the doc {i} the" for i in range(600)] + dirty + ["the end"] * 300 + dirty
    assert word_counter(spec)(texts) == word_counter(spec, fast=False)(texts)
    surrogate = [*texts[:10], "x\ud800 the"]  # not text HF accepts: the same error both ways
    with pytest.raises(UnicodeEncodeError):
        word_counter(spec, fast=False)(surrogate)
    with pytest.raises(UnicodeEncodeError):
        word_counter(spec)(surrogate)


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(st.text(alphabet=st.sampled_from(TRICKY), max_size=30), max_size=600),
    preset=st.sampled_from(["gpt2", "cl100k", "o200k", "none"]),
    digits=st.sampled_from(DIGITS),
)
def test_fuzzed_batches(texts: list[str], preset: str, digits: str) -> None:
    spec = parse_pretok(preset, digits)
    assert word_counter(spec)(texts) == word_counter(spec, fast=False)(texts)


def test_table_members_are_the_class_members() -> None:
    import regex

    assert "".join(members(table())) == "".join(regex.findall(f"[{table()}]", _all_code_points()))


def _fresh_check(monkeypatch: pytest.MonkeyPatch, versions: tuple[str, str]) -> list[int]:
    """Pretend other library versions are installed; returns a list that grows by one per computation."""
    from tokcli.pretok import regex_cutter as fastwords

    calls: list[int] = []
    real = fastwords.disagreements

    def counted() -> str:
        calls.append(1)
        return real()

    monkeypatch.setattr(fastwords, "installed_versions", lambda: versions)
    monkeypatch.setattr(fastwords, "disagreements", counted)
    fastwords.verified_table.cache_clear()
    fastwords.splitter.cache_clear()
    return calls


@pytest.fixture
def _restore_table() -> Any:
    from tokcli.pretok import regex_cutter as fastwords

    yield
    fastwords.verified_table.cache_clear()
    fastwords.splitter.cache_clear()


@pytest.mark.usefixtures("_restore_table")
def test_new_versions_are_checked_once_then_read_from_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tokcli.pretok import regex_cutter as fastwords

    monkeypatch.setenv("TOKCLI_CACHE_DIR", str(tmp_path / "cache"))
    calls = _fresh_check(monkeypatch, ("0.0.1-test", "1999.1.1"))
    first = fastwords.verified_table()
    assert first == as_class(disagreements()) and len(calls) == 1
    entries = list((tmp_path / "cache").glob("fastwords-*.json"))
    assert len(entries) == 1
    fastwords.verified_table.cache_clear()  # a new process: reads the entry, computes nothing
    assert fastwords.verified_table() == first and len(calls) == 1
    assert splitter(PATTERNS["gpt2"], None) is not None
    # other versions miss the entry and are checked again
    _fresh_check(monkeypatch, ("0.0.2-test", "1999.1.1"))
    assert fastwords.verified_table() == first
    assert len(list((tmp_path / "cache").glob("fastwords-*.json"))) == 2


@pytest.mark.usefixtures("_restore_table")
def test_a_check_that_cannot_run_falls_back_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tokcli.pretok import regex_cutter as fastwords

    monkeypatch.setenv("TOKCLI_CACHE_DIR", str(tmp_path / "cache"))
    _fresh_check(monkeypatch, ("0.0.3-test", "1999.1.1"))

    def broken() -> str:
        raise ValueError("unknown property \\p{Lt}")

    monkeypatch.setattr(fastwords, "disagreements", broken)
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("tokcli")
    monkeypatch.setattr(logger, "level", logging.DEBUG)
    logger.addHandler(handler)
    try:
        assert splitter(PATTERNS["gpt2"], None) is None
        assert splitter(PATTERNS["cl100k"], None) is None
    finally:
        logger.removeHandler(handler)
    assert len(records) == 1 and "HF's pre-tokenizer" in records[0].getMessage()
    assert "\n" not in records[0].getMessage()
    # the counts are still right: every document goes to HF
    spec = parse_pretok("gpt2")
    texts = ["it's 2024, the end", "x \u0295 y"]
    assert word_counter(spec)(texts) == word_counter(spec, fast=False)(texts)


def test_a_foreign_or_corrupt_cache_entry_is_a_miss(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tokcli import cache

    monkeypatch.setenv("TOKCLI_CACHE_DIR", str(tmp_path))
    assert cache.store("probe", "k1", {"a": 1}) and cache.load("probe", "k1") == {"a": 1}
    (tmp_path / "probe-k2.json").write_bytes(b"{not json")
    assert cache.load("probe", "k2") is None
    (tmp_path / "probe-k3.json").write_bytes(b'{"kind": "probe", "key": "other", "value": 1}')
    assert cache.load("probe", "k3") is None
    (tmp_path / "probe-k4.json").symlink_to(tmp_path / "probe-k1.json")
    assert cache.load("probe", "k4") is None  # never follows a planted link


# A fresh install with library versions the shipped table was not computed for: the first count proves
# the table (and says so nowhere but in its speed), the second reads the cache.
_COUNT_WITH_NEW_VERSIONS = """
import sys
from tokcli.pretok import regex_cutter as fastwords
real = fastwords.disagreements
def counted():
    sys.stderr.write("CHECKED\\n")
    return real()
fastwords.installed_versions = lambda: ("0.0.9-fresh", "1999.9.9")
fastwords.disagreements = counted
from tokcli.cli.app import main
sys.exit(main(sys.argv[1:]))
"""


def test_count_on_a_fresh_install_proves_the_table_once_and_takes_the_fast_path(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "TOKCLI_CACHE_DIR": str(tmp_path / "cache")}
    corpus = str(DATA / "austen.txt")
    for run, out in enumerate(("a", "b")):
        argv = [sys.executable, "-c", _COUNT_WITH_NEW_VERSIONS, "count", corpus, "-o", str(tmp_path / out)]
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["word_cutter"] == "regex"
        assert proc.stderr.count("CHECKED") == (1 if run == 0 else 0), proc.stderr
    assert len(list((tmp_path / "cache").glob("fastwords-*.json"))) == 1
    assert counts_of(tmp_path / "a") == counts_of(tmp_path / "b")


def counts_of(folder: Path) -> Counter[bytes]:
    from tokcli.counts.store import iter_counts

    return Counter({w: n for _, w, n in iter_counts(folder)})
