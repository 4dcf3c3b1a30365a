"""infer-mixture: merge-list cleaning, merge replay against brute force and HF training, the LP, the CLI."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import pytest

from tokcli.cli.app import main
from tokcli.corpus import Corpus, CorpusConfig, MixSource
from tokcli.errors import ExitCode
from tokcli.mixture.count import PAIR_SHIFT, MergeTable, count_words, replay
from tokcli.train import TrainConfig, train_tokenizer

DATA = Path(__file__).parent / "data"
BYTES = [bytes([b]) for b in range(256)]


def test_merge_table_drops_impossible_and_duplicate_merges() -> None:
    merges = [(b"a", b"b"), (b"ab", b"c"), (b"x", b"yz"), (b"a", b"b"), (b"abc", b"d")]
    table = MergeTable.build(merges, BYTES)
    assert table.merge_bytes == [(b"a", b"b"), (b"ab", b"c"), (b"abc", b"d")]
    assert [i for i, _ in table.skipped] == [2, 3]
    assert "never be produced" in table.skipped[0][1] and "duplicate" in table.skipped[1][1]


def _brute_force_pairs(words: Counter[bytes], merges: list[tuple[bytes, bytes]]) -> dict[tuple[bytes, bytes], int]:
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


def test_replay_matches_a_brute_force_recount() -> None:
    words = Counter({b"aaab": 3, b"abab": 2, b"banana": 5, b"ab": 1, b"aaaa": 2})
    merges = [(b"a", b"b"), (b"a", b"n"), (b"an", b"an"), (b"a", b"a"), (b"b", b"anan"), (b"aa", b"aa")]
    table = MergeTable.build(merges, BYTES)
    counted = replay(words, table, len(table.merges))
    names = {v: k for k, v in table.ids.items()}
    state = dict(counted.initial)
    for step in range(len(table.merges) + 1):
        expected = _brute_force_pairs(words, table.merge_bytes[:step])
        got = {(names[k >> PAIR_SHIFT], names[k & ((1 << PAIR_SHIFT) - 1)]): v for k, v in state.items() if v}
        assert got == expected, f"after {step} merges"
        if step < len(table.merges):
            state.update(counted.diffs[step])
    assert counted.total == sum(_brute_force_pairs(words, []).values())


def test_replay_agrees_with_hf_training(tmp_path: Path) -> None:
    """At every step, the merge HF chose is a most frequent pair in our replayed counts."""
    from tokcli.loading import load_tokenizer
    from tokcli.mixture import pretokenizer_for

    inputs = (str(DATA / "austen.txt"), str(DATA / "code" / "python.jsonl"))
    out = tmp_path / "t.json"
    train_tokenizer(TrainConfig(output=str(out), vocab_size=700, min_frequency=1), Corpus(CorpusConfig(inputs=inputs)))
    tokenizer = load_tokenizer(str(out))
    words_of, _ = pretokenizer_for(tokenizer)
    texts = [t for batch in Corpus(CorpusConfig(inputs=inputs)).text_batches() for t in batch]
    table = MergeTable.build(tokenizer.merges() or [], BYTES)
    counted = replay(count_words(words_of(t) for t in texts), table, len(table.merges))
    state = dict(counted.initial)
    for step, (a, b, _) in enumerate(table.merges):
        chosen = state.get((a << PAIR_SHIFT) | b, 0)
        assert chosen > 0 and chosen == max(state.values()), f"step {step}"
        state.update(counted.diffs[step])
        state = {k: v for k, v in state.items() if v}


def _categories(tmp_path: Path) -> Path:
    folder = tmp_path / "cats"
    folder.mkdir()
    (folder / "prose.txt").write_bytes((DATA / "austen.txt").read_bytes())
    (folder / "python.jsonl").write_bytes((DATA / "code" / "python.jsonl").read_bytes())
    udhr = b"".join((DATA / "parallel" / "udhr" / f"{lang}.jsonl").read_bytes() for lang in ("eng", "fra", "spa"))
    (folder / "udhr.jsonl").write_bytes(udhr)
    return folder


def test_recovers_a_known_mixture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cats = _categories(tmp_path)
    weights = {"prose": 0.5, "python": 0.3, "udhr": 0.2}
    mix = tuple(MixSource(name, w, (str(next(cats.glob(f"{name}.*"))),)) for name, w in weights.items())
    out = tmp_path / "mix.json"
    report = train_tokenizer(
        TrainConfig(output=str(out), vocab_size=800), Corpus(CorpusConfig(mix=mix, max_bytes=60_000))
    ).as_dict()
    truth = {name: src["byte_share"] for name, src in report["sources"].items()}
    code = main(["infer-mixture", "-t", str(out), "--categories-dir", str(cats), "--merges", "500", "-f", "json"])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    doc = json.loads(stdout)
    got = {row["category"]: row["proportion"] for row in doc["rows"]}
    assert sum(got.values()) == pytest.approx(1.0)
    assert [r["proportion"] for r in doc["rows"]] == sorted(got.values(), reverse=True)
    error = sum((got[k] - truth[k]) ** 2 for k in truth) / len(truth)
    uniform = sum((1 / 3 - truth[k]) ** 2 for k in truth) / len(truth)
    # With 60 KB of training text and 500 merges the estimate is rough (about 0.1 off at worst);
    # it must still beat the uniform guess clearly.
    assert max(abs(got[k] - truth[k]) for k in truth) < 0.12
    assert error < uniform / 3
    assert doc["meta"]["solver"]["status"] == "optimal"
    assert doc["meta"]["merges_used"] == 500


def test_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bpe = DATA / "tokenizers" / "bpe-bytelevel.json"
    code = main(["infer-mixture", "-t", str(bpe), "--category", f"a={DATA / 'austen.txt'}"])
    assert code == ExitCode.USAGE and "at least two categories" in capsys.readouterr().err
    code = main(
        ["infer-mixture", "-t", str(bpe), "--category", f"a={DATA / 'austen.txt'}", "--category", "b=/no/such/file"]
    )
    err = capsys.readouterr().err
    assert code == ExitCode.ERROR and "/no/such/file" in err and err.count("\n") == 1
    wordlevel = tmp_path / "wl.json"
    train_tokenizer(
        TrainConfig(output=str(wordlevel), backend="hf-wordlevel", vocab_size=300),
        Corpus(CorpusConfig(inputs=(str(DATA / "austen.txt"),))),
    )
    code = main(
        ["infer-mixture", "-t", str(wordlevel), "--category", f"a={DATA / 'austen.txt'}", "--category", f"b={bpe}"]
    )
    assert code == ExitCode.ERROR and "ordered merge list" in capsys.readouterr().err


def test_lazy_constraints_reach_the_full_lp_optimum() -> None:
    """On a problem small enough to write out every constraint, the lazily built LP has the same optimum."""
    import random

    import numpy as np
    from scipy.optimize import linprog

    from tokcli.mixture.lp import SCALE, solve_mixture

    rng = random.Random(7)
    alphabet = b"abcde"
    categories = []
    for bias in (b"ab", b"cd", b"e"):
        words: Counter[bytes] = Counter()
        for _ in range(300):
            word = bytes(rng.choice(alphabet + bias * 3) for _ in range(rng.randint(2, 6)))
            words[word] += rng.randint(1, 5)
        categories.append(words)
    merges = [(b"a", b"b"), (b"c", b"d"), (b"e", b"e"), (b"ab", b"c"), (b"d", b"e"), (b"a", b"a"), (b"cd", b"ab")]
    table = MergeTable.build(merges, BYTES)
    counted = [replay(w, table, len(table.merges)) for w in categories]
    merged = [(a << PAIR_SHIFT) | b for a, b, _ in table.merges]
    lazy = solve_mixture(counted, merged, per_step=1, per_round=2)

    # the full LP: every step, every pair present in any category at that step
    states = [dict(c.initial) for c in counted]
    rows = []
    for t, target in enumerate(merged):
        pairs = {k for s in states for k, v in s.items() if v} - {target}
        for p in sorted(pairs):
            coefs = [SCALE * (s.get(target, 0) - s.get(p, 0)) / c.total for s, c in zip(states, counted, strict=True)]
            rows.append((t, coefs, p))
        for s, c in zip(states, counted, strict=True):
            s.update(c.diffs[t])
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
    assert lazy.status in ("optimal", "no constraint was violated")
    assert lazy.objective == pytest.approx(full.fun, rel=1e-6, abs=1e-6)
    assert lazy.constraints < len(rows)  # it really was lazy
