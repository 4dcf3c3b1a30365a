"""infer-mixture core: merge-list cleaning, merge replay (against a brute-force recount and against HF's
own merge choices), pre-tokenizers, the LP (known answer, lazy vs full), the count cache, parallel
counting, bad inputs and an end-to-end recovery of a known mixture."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from spm_support import lines_of, spm_categories, spm_merges, train_spm

from tokcli.bpe.pairs import pair_key, split_pair
from tokcli.errors import InputError, TokcliError, TokenizerError, UsageError
from tokcli.mixture import (
    InferMixtureConfig,
    MergeTable,
    NotBpeError,
    PretokenizerSpec,
    count_categories,
    hf_pretokenizer,
    infer_mixture_from,
    read_hf_merges,
    regex_pretokenizer,
    replay,
    solve_mixture,
)
from tokcli.mixture.lp.tuning import SCALE
from tokcli.pretok.presets import PRESETS

DATA = Path(__file__).parent / "data"
BYTES = [bytes([b]) for b in range(256)]
GPT2 = regex_pretokenizer("gpt2")


# ---------------------------------------------------------------- merge cleaning


def test_merge_table_drops_impossible_duplicate_and_added_merges() -> None:
    merges = [(b"a", b"b"), (b"ab", b"c"), (b"x", b"yz"), (b"a", b"b"), (b"  ", b"  "), (b"abc", b"d"), (b" ", b" ")]
    table = MergeTable.build(merges, added=[b"    "])
    assert table.merge_bytes == [(b"a", b"b"), (b"ab", b"c"), (b"abc", b"d"), (b" ", b" ")]
    assert table.source_index == [0, 1, 5, 6]
    reasons = dict(table.skipped)
    assert set(reasons) == {2, 3, 4}
    assert "never produced" in reasons[2] and "duplicate" in reasons[3]
    # merge 4 ("  " + "  ") is impossible at its position AND builds an added token: either reason drops it
    assert table.skipped_summary() == {r: list(reasons.values()).count(r) for r in set(reasons.values())}
    # ids: the 256 bytes first, then each new token in merge order
    assert table.merges[0] == (ord("a"), ord("b"), 256)
    assert table.merges[1] == (256, ord("c"), 257)
    # once "  " exists, a merge building the added token "    " is dropped for that reason
    later = MergeTable.build([(b" ", b" "), (b"  ", b"  "), (b"  ", b" ")], added=[b"    "])
    assert later.skipped == [(1, "builds a manually added token")]
    assert later.merge_bytes == [(b" ", b" "), (b"  ", b" ")]


def test_merge_table_chars_mode_and_digest() -> None:
    merges = [("é".encode(), b"t"), ("ét".encode(), b"e"), (b"\xc3", b"\xa9")]
    table = MergeTable.build(merges, "chars")
    assert table.merge_bytes == merges[:2]  # half a character is never an initial symbol
    assert table.skipped[0][0] == 2
    assert table.digest(1) != table.digest(2) and table.digest(2) == MergeTable.build(merges[:2], "chars").digest(2)


def test_read_hf_merges_maps_the_byte_level_alphabet() -> None:
    merges = read_hf_merges(DATA / "tokenizers" / "bpe-bytelevel.json")
    assert merges and all(isinstance(a, bytes) and isinstance(b, bytes) for a, b in merges)
    assert (b" ", b"t") in merges[:50]  # "Ġ t" in the file
    with pytest.raises(TokenizerError, match=r"not a readable tokenizer\.json"):
        read_hf_merges(DATA / "austen.txt")


# ---------------------------------------------------------------- replay


def _brute_force_pairs(words: Counter[bytes], merges: Sequence[tuple[bytes, bytes]]) -> dict[tuple[bytes, bytes], int]:
    counts: Counter[tuple[bytes, bytes]] = Counter()
    for word, freq in words.items():
        symbols = [word[i : i + 1] for i in range(len(word))]
        for left, right in merges:
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == left and symbols[i + 1] == right:
                    out.append(left + right)
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            symbols = out
        for pair in itertools.pairwise(symbols):
            counts[pair] += freq
    return dict(counts)


def _check_against_brute_force(words: Counter[bytes], merges: list[tuple[bytes, bytes]]) -> None:
    table = MergeTable.build(merges)
    counted = replay(words, table, len(table.merges))
    names = {v: k for k, v in table.ids.items()}
    assert counted.total == sum(_brute_force_pairs(words, []).values())
    for step in range(len(table.merges) + 1):
        expected = _brute_force_pairs(words, table.merge_bytes[:step])
        got = {(names[a], names[b]): v for (a, b), v in ((split_pair(k), v) for k, v in counted.state_at(step).items())}
        assert got == expected, f"after {step} merges"


def test_replay_matches_a_brute_force_recount() -> None:
    words = Counter({b"aaab": 3, b"abab": 2, b"banana": 5, b"ab": 1, b"aaaa": 2, b"aaaaa": 1, b"xaaay": 4})
    merges = [(b"a", b"b"), (b"a", b"n"), (b"an", b"an"), (b"a", b"a"), (b"b", b"anan"), (b"aa", b"aa"), (b"x", b"aa")]
    _check_against_brute_force(words, merges)


def test_replay_matches_a_brute_force_recount_on_random_words() -> None:
    rng = random.Random(3)
    words = Counter(bytes(rng.choice(b"abc") for _ in range(rng.randint(1, 9))) for _ in range(400))
    merges: list[tuple[bytes, bytes]] = []
    tokens = [b"a", b"b", b"c"]
    for _ in range(25):  # random merges of tokens that exist (some never occur in the words)
        left, right = rng.choice(tokens), rng.choice(tokens)
        merges.append((left, right))
        if left + right not in tokens:
            tokens.append(left + right)
    _check_against_brute_force(words, merges)


def _train_hf(tmp_path: Path, texts: list[str], vocab: int) -> Path:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(texts, trainer)
    out = tmp_path / "tok.json"
    tok.save(str(out))
    return out


def test_replay_agrees_with_hf_training(tmp_path: Path) -> None:
    """At every step, the merge HF chose is a most frequent pair of our replayed counts."""
    texts = lines_of(DATA / "austen.txt") + lines_of(DATA / "code" / "python.jsonl")
    path = _train_hf(tmp_path, texts, 900)
    spec = hf_pretokenizer(path)
    assert spec.kind == "regex"  # the fast path for ByteLevel(use_regex=True)
    table = MergeTable.build(read_hf_merges(path))
    assert len(table.merges) == len(read_hf_merges(path)) > 500
    counted = replay(spec.count(texts), table, len(table.merges))
    state = counted.state_at(0)
    rows = sorted(zip(counted.steps.tolist(), counted.pairs.tolist(), counted.counts.tolist(), strict=True))
    position = 0
    for step, (a, b, _) in enumerate(table.merges):
        while position < len(rows) and rows[position][0] <= step:
            _, key, count = rows[position]
            state[key] = count
            position += 1
        chosen = state.get(pair_key(a, b), 0)
        assert chosen > 0 and chosen == max(state.values()), f"step {step}"


def test_fast_regex_pretokenizer_equals_hf(tmp_path: Path) -> None:
    texts = lines_of(DATA / "austen.txt")[:200] + lines_of(DATA / "code" / "python.jsonl")
    texts += [*lines_of(DATA / "parallel" / "udhr" / "cmn_hans.jsonl"), "  two  spaces\n\n\tand tabs  "]
    path = _train_hf(tmp_path, texts, 300)
    fast = hf_pretokenizer(path)
    slow = PretokenizerSpec(kind="hf", path=str(path))
    assert fast.kind == "regex" and fast.identity != slow.identity
    assert fast.count(texts) == slow.count(texts)
    words = fast.build()("Hello world, it's 2024!")
    assert words == [b"Hello", b" world", b",", b" it", b"'s", b" 2024", b"!"]
    # HF "isolated" split keeps text between matches: a pattern that only matches digits
    digits = PretokenizerSpec(kind="regex", pattern=r"\d+")
    assert digits.build()("ab12cd3") == [b"ab", b"12", b"cd", b"3"]
    assert regex_pretokenizer("gpt2", prefix_space=True).build()("hi") == [b" hi"]
    with pytest.raises(TokenizerError, match="bad pre-tokenization pattern"):
        regex_pretokenizer("(unclosed")




def test_regex_pretokenizer_cuts_new_unicode_as_the_tokenizers_engines(tmp_path: Path) -> None:
    """The ``regex`` module's Unicode tables differ from Oniguruma's (HF) and Rust regex's (tiktoken): with
    regex 2024.11+ e.g. U+0558 (Armenian, Unicode 16) is outside \\p{L} for it, inside for them. Documents
    holding such code points are cut by HF's engine. The text is built from the disagreements of the
    installed versions (tokcli.pretok.regex_cutter), so the test has its premise on any version."""
    import regex

    from tokcli.pretok.regex_cutter import members, verified_table

    pattern = PRESETS["gpt2"].hf
    table = verified_table()
    assert table is not None
    candidates = [c for c in members(table) if regex.match(r"\p{L}|\p{N}", c) or c.isalpha()][:200]
    texts = [f" \u0531{c}\u0561 ok \u0295x 12{c}" for c in candidates]
    text = next((t for t in texts if regex.findall(pattern, t) != tokenizers_pre_split(pattern, t)), None)
    assert text is not None, "no code point the installed engines disagree on changes a gpt2 split"
    hf = tokenizers_pre_split(pattern, text)
    expected = [w.encode("utf-8") for w in hf]
    assert GPT2.build()(text) == expected  # a ranks file's pattern (tiktoken spelling)
    assert GPT2.count([text, text]) == Counter({w: 2 * expected.count(w) for w in expected})
    path = _train_hf(tmp_path, lines_of(DATA / "austen.txt")[:50], 300)
    assert hf_pretokenizer(path).build()(text) == expected  # a tokenizer.json's ByteLevel(use_regex)
    # and the same as HF's own pre-tokenizer of that file, mapped back to bytes
    from tokenizers import Tokenizer

    from tokcli.bpe.byte_level import unicode_to_bytes

    table = unicode_to_bytes()
    own = Tokenizer.from_file(str(path)).pre_tokenizer.pre_tokenize_str(text)
    assert [bytes(table[c] for c in piece) for piece, _ in own] == expected


def tokenizers_pre_split(pattern: str, text: str) -> list[str]:
    from tokenizers import Regex, pre_tokenizers

    return [piece for piece, _ in pre_tokenizers.Split(Regex(pattern), behavior="isolated").pre_tokenize_str(text)]
# ---------------------------------------------------------------- the LP


def _greedy_bpe(words: Counter[bytes], steps: int) -> list[tuple[bytes, bytes]]:
    """A reference BPE trainer: always merge the most frequent pair (ties: smallest pair)."""
    symbols = {w: [w[i : i + 1] for i in range(len(w))] for w in words}
    merges = []
    for _ in range(steps):
        counts: Counter[tuple[bytes, bytes]] = Counter()
        for w, freq in words.items():
            for pair in itertools.pairwise(symbols[w]):
                counts[pair] += freq
        if not counts:
            break
        best = max(counts.items(), key=lambda kv: (kv[1], [-x for x in kv[0][0] + b"|" + kv[0][1]]))[0]
        merges.append(best)
        for w, s in symbols.items():
            out, i = [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            symbols[w] = out
    return merges


def _random_category(rng: random.Random, letters: bytes, size: int) -> Counter[bytes]:
    words: Counter[bytes] = Counter()
    for _ in range(size):
        words[bytes(rng.choice(letters) for _ in range(rng.randint(2, 7)))] += rng.randint(1, 20)
    return words


def test_lp_recovers_a_known_mixture_exactly_enough() -> None:
    """Merges learnt by greedy BPE on a known integer mixture of three synthetic categories: the truth is
    feasible (objective 0) and the LP lands within 0.02 of it (in pair shares)."""
    rng = random.Random(11)
    cats = [_random_category(rng, letters, 300) for letters in (b"abcdefg", b"defghij", b"abcghij")]
    multipliers = [5, 3, 2]
    mixture: Counter[bytes] = Counter()
    for mult, words in zip(multipliers, cats, strict=True):
        for w, n in words.items():
            mixture[w] += mult * n
    merges = _greedy_bpe(mixture, 80)
    table = MergeTable.build(merges)
    counted = [replay(w, table, len(table.merges)) for w in cats]
    merged = [pair_key(a, b) for a, b, _ in table.merges]
    result = solve_mixture(counted, merged)
    truth = np.array([m * c.total for m, c in zip(multipliers, counted, strict=True)], dtype=float)
    truth /= truth.sum()
    assert result.status == "optimal"
    assert result.objective == pytest.approx(0.0, abs=1e-6)
    assert sum(result.weights) == pytest.approx(1.0)
    assert np.abs(np.array(result.weights) - truth).max() < 0.02
    # a wrong merge order is not explained at zero cost
    shuffled = merged[:]
    random.Random(0).shuffle(shuffled)
    assert solve_mixture(counted, shuffled).objective > 1.0


@pytest.mark.parametrize(
    ("phase_start", "ipm_stops_short", "split_depth"),
    [(1000, False, None), (2, False, None), (1, False, None), (1, True, None), (1, False, 1)],
)
def test_lazy_constraints_reach_the_full_lp_optimum(
    phase_start: int, ipm_stops_short: bool, split_depth: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a problem small enough to write out every constraint, the lazily built LP has the same optimum
    (also when solved in phases: prefixes of 3 and 7 or of 1, 3 and 7 merges, earlier phases stopped
    early; with the phases after the first driven by the fixed-weights cover; when the interior point
    method of the rounds that double the model stops short of the optimum; and when the sweeps find only
    the worst step of each violated segment per round)."""
    from scipy.optimize import linprog

    from tokcli.mixture.lp import highs, tuning

    if ipm_stops_short:
        new_highs = highs.new_highs

        def stopping_early() -> Any:
            solver = new_highs()
            solver.setOptionValue("ipm_iteration_limit", 1)
            return solver

        monkeypatch.setattr(highs, "new_highs", stopping_early)

    monkeypatch.setattr(tuning, "PHASE_START", phase_start)
    monkeypatch.setattr(tuning, "PHASE_GROWTH", 2)
    monkeypatch.setattr(tuning, "PHASE_STOP", 0.5)
    monkeypatch.setattr(tuning, "PRUNE_MIN", 1)  # prune (main LP and cover) at every round, as big runs do
    monkeypatch.setattr(tuning, "COVER_PRUNE_MIN", 1)
    monkeypatch.setattr(tuning, "IPM_MIN_ROWS", 1)  # a round that doubles the model's rows is solved by IPM
    if split_depth is not None:
        monkeypatch.setattr(tuning, "SPLIT_DEPTH", split_depth)
        monkeypatch.setattr(tuning, "COVER_SPLIT_DEPTH", split_depth)

    rng = random.Random(7)
    alphabet = b"abcde"
    categories = []
    for bias in (b"ab", b"cd", b"e"):
        words: Counter[bytes] = Counter()
        for _ in range(300):
            words[bytes(rng.choice(alphabet + bias * 3) for _ in range(rng.randint(2, 6)))] += rng.randint(1, 5)
        categories.append(words)
    merges = [(b"a", b"b"), (b"c", b"d"), (b"e", b"e"), (b"ab", b"c"), (b"d", b"e"), (b"a", b"a"), (b"cd", b"ab")]
    table = MergeTable.build(merges)
    counted = [replay(w, table, len(table.merges)) for w in categories]
    merged = [pair_key(a, b) for a, b, _ in table.merges]
    # use_cover: the last phase (when there are several) is driven by the fixed-weights cover (its matching's
    # rows, its optimality certificate); else by the sweep of the main LP's own solution only
    for first_step, per_pair, use_cover in ((0, 1, False), (3, 1, False), (0, 100, False), (0, 1, True), (3, 1, True)):
        lazy = solve_mixture(
            counted, merged, per_step=1, per_pair=per_pair, per_round=2, first_step=first_step, use_cover=use_cover
        )
        assert (lazy.cover_iterations > 0) == (use_cover and phase_start < 1000)  # one phase: no cover
        assert lazy.ipm_iterations > 0  # the rounds that doubled the model ran the interior point method
        states = [[c.state_at(t) for t in range(len(merged))] for c in counted]
        rows = []
        for t, target in enumerate(merged[first_step:], first_step):
            pairs = {k for s in states for k, v in s[t].items() if v} - {target}
            for p in sorted(pairs):
                coefs = [
                    SCALE * (s[t].get(target, 0) - s[t].get(p, 0)) / c.total
                    for s, c in zip(states, counted, strict=True)
                ]
                rows.append((t, coefs, p))
        steps = len(merged)
        pair_ids = sorted({p for _, _, p in rows})
        n = len(counted)
        size = n + steps + len(pair_ids)
        a_ub = np.zeros((len(rows), size))
        for r, (t, coefs, p) in enumerate(rows):
            a_ub[r, :n] = [-c for c in coefs]
            a_ub[r, n + t] = -1
            a_ub[r, n + steps + pair_ids.index(p)] = -1
        cost = np.concatenate([np.zeros(n), np.ones(size - n)])
        full = linprog(cost, A_ub=a_ub, b_ub=np.zeros(len(rows)), A_eq=[[1] * n + [0] * (size - n)], b_eq=[1],
                       bounds=(0, None), method="highs")  # fmt: skip
        assert full.status == 0
        assert full.fun > 1.0  # the problem is not trivially satisfiable
        assert lazy.status == "optimal"
        assert lazy.objective == pytest.approx(full.fun, rel=1e-6, abs=1e-6)
        assert lazy.constraints < len(rows)  # it really was lazy
        assert all(t >= first_step for t, _ in lazy.added)


def test_select_takes_the_worst_under_the_caps_even_past_the_sorted_head() -> None:
    """The round's pick sorts only the worst 8 x per_round candidates first and widens that window when
    the caps reject them; it must pick exactly what a full stable sort followed by the greedy would,
    or a round could come back empty while violations remain (and the LP stop early)."""
    from tokcli.mixture.lp.sweep import select_constraints

    rng = np.random.default_rng(3)
    stride = 1000
    for per_step, per_pair, per_round, size in [(2, 1, 5, 4000), (1, 1, 3, 5000), (5, 2, 50, 3000), (2, 1, 5, 30)]:
        # few steps and pairs: the caps reject most of the head, so the window has to widen
        steps = rng.integers(0, 40, size)
        pairs = rng.integers(0, 60, size)
        excess = rng.choice([1.0, 2.0, 3.0], size) + rng.integers(0, 3, size) * 0.5  # many ties
        keys = set(zip(steps.tolist(), pairs.tolist(), strict=True))
        known = {p * stride + t for t, p in sorted(keys)[::7]}
        expected: list[tuple[int, int]] = []
        by_step: Counter[int] = Counter()
        by_pair: Counter[int] = Counter()
        for i in np.argsort(-excess, kind="stable").tolist():
            t, p = int(steps[i]), int(pairs[i])
            if by_step[t] >= per_step or by_pair[p] >= per_pair or p * stride + t in known:
                continue
            by_step[t] += 1
            by_pair[p] += 1
            expected.append((t, p))
            if len(expected) == per_round:
                break
        got = select_constraints(steps, pairs, excess, known, stride, per_step, per_pair, per_round)
        assert got == expected
        assert got  # every case has something left to take
    # the 100 worst candidates all compete with pair 0: one is taken, the rest are past the first window
    steps, pairs = np.arange(300) % 40, np.where(np.arange(300) < 100, 0, np.arange(300))
    excess = np.linspace(10.0, 1.0, 300)
    got = select_constraints(steps, pairs, excess, set(), stride, 2, 1, 5)
    assert got == [(0, 0), (20, 100), (21, 101), (22, 102), (23, 103)]


# ---------------------------------------------------------------- counting: cache and processes


def _three_categories() -> dict[str, list[str]]:
    udhr = DATA / "parallel" / "udhr"
    return {
        "prose": lines_of(DATA / "austen.txt"),
        "python": lines_of(DATA / "code" / "python.jsonl"),
        "udhr": lines_of(udhr / "eng.jsonl") + lines_of(udhr / "fra.jsonl") + lines_of(udhr / "spa.jsonl"),
    }


def _halves(texts: list[str], block: int = 400) -> tuple[list[str], list[str]]:
    """Cut the texts into ~``block``-character pieces at line or sentence ends and deal them alternately
    into two halves, so both halves follow the same distribution."""
    import re

    pieces: list[str] = []
    for text in texts:
        current = ""
        for part in re.split(r"(?<=[\n.])", text):
            current += part
            if len(current) >= block:
                pieces.append(current)
                current = ""
        if current:
            pieces.append(current)
    return pieces[0::2], pieces[1::2]


def test_count_cache_and_processes_give_the_same_counts(tmp_path: Path) -> None:
    cats = _three_categories()
    table = MergeTable.build(read_hf_merges(DATA / "tokenizers" / "bpe-bytelevel.json"))
    steps = len(table.merges)
    first = count_categories(cats, table, GPT2, steps, threads=2, cache_dir=tmp_path)
    assert not any(c.cached for c in first.values())
    files = sorted(tmp_path.glob("*.npz"))
    assert len(files) == 3
    with np.load(files[0], allow_pickle=False) as data:  # plain arrays: loads without pickle
        assert set(data.files) == {"pairs", "steps", "counts", "meta"}
    again = count_categories(cats, table, GPT2, steps, threads=1, cache_dir=tmp_path)
    assert all(c.cached for c in again.values())
    serial = count_categories(cats, table, GPT2, steps, threads=1, use_cache=False)
    for name in cats:
        for got in (again[name].counts, serial[name].counts):
            ref = first[name].counts
            assert np.array_equal(got.pairs, ref.pairs) and np.array_equal(got.counts, ref.counts)
            assert np.array_equal(got.steps, ref.steps) and got.total == ref.total
    # another sample, another T or another pre-tokenizer is another cache entry; a damaged one is recounted
    count_categories({"prose": cats["prose"][:2]}, table, GPT2, steps, threads=1, cache_dir=tmp_path)
    count_categories({"prose": cats["prose"]}, table, GPT2, steps - 1, threads=1, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 5
    files[0].write_bytes(b"damaged")
    redone = count_categories(cats, table, GPT2, steps, threads=1, cache_dir=tmp_path)
    assert sum(not c.cached for c in redone.values()) == 1


def test_sample_bytes_limits_the_sample(tmp_path: Path) -> None:
    table = MergeTable.build(read_hf_merges(DATA / "tokenizers" / "bpe-bytelevel.json"))
    prose = lines_of(DATA / "austen.txt")
    got = count_categories({"p": prose}, table, GPT2, 10, sample_bytes=5000, threads=1, use_cache=False)
    size = got["p"].counts.sample_bytes
    assert 5000 <= size < 5000 + max(len(t.encode()) for t in prose)


# ---------------------------------------------------------------- end to end and bad inputs


def _mixture_texts(
    sources: dict[str, list[str]], weights: dict[str, float], total: int
) -> tuple[list[str], dict[str, float]]:
    """Documents of each source until its byte share reaches its weight; the realised shares."""
    out: list[str] = []
    got = dict.fromkeys(sources, 0)
    for name, texts in sources.items():
        for text in texts:
            if got[name] >= weights[name] * total:
                break
            out.append(text)
            got[name] += len(text.encode())
    size = sum(got.values())
    return out, {k: v / size for k, v in got.items()}


def test_recovers_a_known_mixture(tmp_path: Path) -> None:
    """Train HF byte-level BPE on the FIRST half of three sources mixed 0.5/0.3/0.2 by bytes; infer with
    the SECOND halves. Achieved on these ~30 KB halves: every proportion within 0.06 (MSE about 1e-3,
    10x better than the uniform guess)."""
    cats = _three_categories()
    halves = {k: _halves(v) for k, v in cats.items()}
    first = {k: v[0] for k, v in halves.items()}
    second = {k: v[1] for k, v in halves.items()}
    weights = {"prose": 0.5, "python": 0.3, "udhr": 0.2}
    texts, truth = _mixture_texts(first, weights, 50_000)
    path = _train_hf(tmp_path, texts, 900)
    config = InferMixtureConfig(merges=600, cache=False, threads=1)
    said: list[str] = []
    result = infer_mixture_from(read_hf_merges(path), hf_pretokenizer(path), second, config, progress=said.append)
    got = result.proportions
    assert sum(got.values()) == pytest.approx(1.0)
    assert [r["proportion"] for r in result.rows] == sorted(got.values(), reverse=True)
    error = sum((got[k] - truth[k]) ** 2 for k in truth) / 3
    uniform = sum((1 / 3 - truth[k]) ** 2 for k in truth) / 3
    assert max(abs(got[k] - truth[k]) for k in truth) < 0.06, (got, truth)
    assert error < uniform / 10
    meta = result.meta
    assert meta["solver"]["status"] == "optimal" and meta["merges_used"] == 600
    # one status per stage and per LP round, for the progress display
    assert said[0] == "counting and replaying 600 merges in 3 categories"
    assert len(said) == 1 + meta["solver"]["rounds"] and said[-1].startswith(f"LP round {meta['solver']['rounds']}:")
    assert set(meta["sample_bytes"]) == set(cats) and meta["unit"] == "bytes"
    assert sum(meta["pair_shares"].values()) == pytest.approx(1.0, abs=1e-6)


def test_bad_inputs() -> None:
    merges = read_hf_merges(DATA / "tokenizers" / "bpe-bytelevel.json")
    prose = lines_of(DATA / "austen.txt")[:50]
    config = InferMixtureConfig(cache=False, threads=1, merges=100)
    with pytest.raises(UsageError, match="at least two categories"):
        infer_mixture_from(merges, GPT2, {"a": prose}, config)
    with pytest.raises(InputError, match="category b has no text"):
        infer_mixture_from(merges, GPT2, {"a": prose, "b": []}, config)
    with pytest.raises(InputError, match="category b: its sample has no byte pairs"):
        infer_mixture_from(merges, GPT2, {"a": prose, "b": ["a"]}, config)
    with pytest.raises(UsageError, match="skip_merges=100 leaves none"):
        infer_mixture_from(
            merges, GPT2, {"a": prose, "b": prose[::-1]}, InferMixtureConfig(merges=100, skip_merges=100)
        )
    with pytest.raises(TokenizerError, match="no usable merge"):
        infer_mixture_from([(b"xy", b"z")], GPT2, {"a": prose, "b": prose}, config)
    big = InferMixtureConfig(cache=False, threads=1, merges=10**6)
    result = infer_mixture_from(merges, GPT2, {"a": prose, "b": lines_of(DATA / "code" / "python.jsonl")[:5]}, big)
    assert result.meta["merges_used"] == len(merges) and "exceeds" in result.warnings[0]
    for bad in ({"merges": 0}, {"skip_merges": -1}, {"threads": -1}, {"unit": "words"}):
        with pytest.raises(UsageError):
            InferMixtureConfig(**bad)
    error = NotBpeError("tok.json", "wordpiece")
    assert isinstance(error, TokcliError) and "ordered merge list" in str(error) and "\n" not in str(error)


# ---------------------------------------------------------------- sentencepiece BPE models


SPM_OPTIONS: list[dict[str, object]] = [
    {},
    {"split_digits": True},
    {"split_by_number": False},
    {"split_by_unicode_script": False},
    {"treat_whitespace_as_suffix": True},
    {"max_sentencepiece_length": 4},
    {"allow_whitespace_only_pieces": True, "remove_extra_whitespaces": False},
]


@pytest.mark.parametrize("options", SPM_OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_spm_word_splitting_explains_every_merge(tmp_path: Path, options: dict[str, object]) -> None:
    """Train sentencepiece BPE on a known mixture (Latin prose, code, Cyrillic/Japanese/Devanagari
    text; rare characters become UNK at the default character coverage), then replay its merges on the
    same text: with the trainer's word splitting reproduced exactly, the true mixture explains every
    merge, so the LP optimum is 0 and the weights are close to the truth."""
    from tokcli.mixture import spm_pretokenizer

    cats = spm_categories()
    weights = {"prose": 3, "python": 2, "scripts": 1}
    lines = [line for name, texts in cats.items() for line in texts * weights[name]]
    random.Random(0).shuffle(lines)
    model = train_spm(tmp_path, lines, "m", **options)
    spec = spm_pretokenizer(model)
    table = MergeTable.build(spm_merges(model), "chars")
    counted = count_categories(cats, table, spec, len(table.merges), threads=1, use_cache=False)
    merged = [pair_key(a, b) for a, b, _ in table.merges]
    result = solve_mixture([c.counts for c in counted.values()], merged)
    assert len(table.merges) > 400
    assert result.objective == pytest.approx(0.0, abs=1e-6), options
    totals = np.array([weights[n] * counted[n].counts.total for n in cats], dtype=float)
    assert np.abs(np.array(result.weights) - totals / totals.sum()).max() < 0.03


def test_spm_word_splitting_of_another_model_does_not_explain_the_merges(tmp_path: Path) -> None:
    """The check above can fail: counting a default model's merges with the rules of a model trained
    without split_by_unicode_script (so pairs like "e" + "," become competitors the trainer could
    never merge) leaves merges unexplained."""
    from tokcli.mixture import PretokenizerSpec

    cats = spm_categories()
    lines = [line for texts in cats.values() for line in texts]
    default = train_spm(tmp_path, lines, "default")
    mixed_scripts = train_spm(tmp_path, lines, "mixed", split_by_unicode_script=False)
    table = MergeTable.build(spm_merges(default), "chars")
    wrong = PretokenizerSpec(kind="spm", path=str(mixed_scripts), split="chars", max_piece_chars=16)
    counted = count_categories(cats, table, wrong, len(table.merges), threads=1, use_cache=False)
    merged = [pair_key(a, b) for a, b, _ in table.merges]
    assert solve_mixture([c.counts for c in counted.values()], merged).objective > 1.0


def test_spm_word_splitter_rules(tmp_path: Path) -> None:
    from tokcli.pretok.spm_words import SpmWordSplitter

    cats = spm_categories()
    lines = [line for texts in cats.values() for line in texts]
    plain = SpmWordSplitter(str(train_spm(tmp_path, lines, "plain", character_coverage=1.0)))
    # words start at the whitespace marker; a script change (Latin/Common/Cyrillic) cuts a word;
    # digits are Common, like punctuation
    assert plain("Hello, world 12.5 мир-ok") == ["▁Hello", ",", "▁world", "▁12.5", "▁мир", "-", "ok"]
    assert plain("a\n\nb") == ["▁a", "▁b"]  # one sentence per line
    digits = SpmWordSplitter(str(train_spm(tmp_path, lines, "digits", split_digits=True, character_coverage=1.0)))
    assert digits("x 2024") == ["▁x", "▁", "2", "0", "2", "4"]
    suffix = SpmWordSplitter(str(train_spm(tmp_path, lines, "suffix", treat_whitespace_as_suffix=True)))
    assert suffix("ab cd") == ["ab▁", "cd▁"]  # the dummy prefix becomes a suffix too
    # a character outside the alphabet (beyond character_coverage) is an UNK symbol: it cuts the word
    rare = SpmWordSplitter(str(train_spm(tmp_path, lines, "rare")))
    assert "\u2603" not in rare.alphabet
    assert rare("ab\u2603cd") == ["▁ab", "cd"]


def test_spm_models_with_unsupported_options_are_refused(tmp_path: Path) -> None:
    from tokcli.pretok.spm_words import SpmWordSplitter

    lines = spm_categories()["prose"]
    model = train_spm(tmp_path, lines, "nows", vocab=80, split_by_whitespace=False)
    with pytest.raises(TokenizerError, match="split_by_whitespace"):
        SpmWordSplitter(str(model))
