"""infer-mixture on tokenizer.json files converted from sentencepiece BPE (Llama 2, Mistral style):
trainer options inferred from the vocabulary, one merge per token rebuilt from the converter's list of
every split, and whitespace-run pieces (allow_whitespace_only_pieces) as the trainer counts them."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from spm_support import convert_like_transformers, spm_categories, spm_merges, train_spm

from tokcli.bpe.pairs import pair_key
from tokcli.cli.app import main
from tokcli.mixture import MergeTable, count_categories, hf_pretokenizer, solve_mixture
from tokcli.mixture.merges import creation_order
from tokcli.pretok.spm_words import SpmWordSplitter
from tokcli.spm_model import trainer_options

LLAMA_LIKE = {"normalization_rule_name": "identity", "remove_extra_whitespaces": False, "byte_fallback": True}
OPTIONS: list[dict[str, object]] = [
    {},
    {"split_digits": True, "allow_whitespace_only_pieces": True},  # as Llama 2 was trained
    {"split_by_unicode_script": False},
    {"max_sentencepiece_length": 6},
]


def _mixture() -> tuple[dict[str, list[str]], list[str]]:
    cats = spm_categories()
    weights = {"prose": 3, "python": 2, "scripts": 1}
    lines = [line for name, texts in cats.items() for line in texts * weights[name]]
    random.Random(0).shuffle(lines)
    return cats, lines


def _solve(merges: list[tuple[bytes, bytes]], path: Path, cats: dict[str, list[str]]) -> float:
    table = MergeTable.build(merges, "chars")
    spec = hf_pretokenizer(path)
    counted = count_categories(cats, table, spec, len(table.merges), threads=1, use_cache=False)
    merged = [pair_key(a, b) for a, b, _ in table.merges]
    return solve_mixture([c.counts for c in counted.values()], merged).objective


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_converted_tokenizer_json_is_read_as_its_model(tmp_path: Path, options: dict[str, object]) -> None:
    from tokenizers import Tokenizer

    cats, lines = _mixture()
    model = train_spm(tmp_path, lines, "m", **LLAMA_LIKE, **options)
    converted = convert_like_transformers(model, tmp_path / "m.json")
    # the conversion is faithful: the same ids as sentencepiece
    hf = Tokenizer.from_file(str(converted))
    assert [hf.encode(line, add_special_tokens=False).ids for line in lines[:200]] == _spm_encode(model, lines[:200])
    # the converter lists every split of every piece; one merge per token, in creation order, is left
    raw = [(a.replace("\u2581", " ").encode(), b.replace("\u2581", " ").encode()) for a, b in _json_merges(converted)]
    assert len(raw) > len(set(a + b for a, b in raw))
    assert creation_order(raw) == spm_merges(model)
    # the options the vocabulary shows are the trainer's
    inferred = SpmWordSplitter(str(converted)).options
    truth = trainer_options(model.read_bytes())
    for key, value in options.items():
        assert inferred[key] == truth[key] == int(value), key  # type: ignore[call-overload]
    # and the true mixture explains every merge, as for the model itself
    assert _solve(creation_order(raw), converted, cats) == pytest.approx(0.0, abs=1e-6)


def test_the_converters_first_listed_merge_is_often_not_the_one_bpe_made(tmp_path: Path) -> None:
    """Negative control: keeping the first merge of the converted list whose sides exist (instead of
    rebuilding it) leaves merges unexplained."""
    cats, lines = _mixture()
    model = train_spm(tmp_path, lines, "m", **LLAMA_LIKE)
    converted = convert_like_transformers(model, tmp_path / "m.json")
    raw = [(a.replace("\u2581", " ").encode(), b.replace("\u2581", " ").encode()) for a, b in _json_merges(converted)]
    assert _solve(raw, converted, cats) > 1.0


def test_infer_mixture_cli_on_a_converted_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cats, lines = _mixture()
    model = train_spm(tmp_path, lines, "m", **LLAMA_LIKE, split_digits=True, allow_whitespace_only_pieces=True)
    converted = convert_like_transformers(model, tmp_path / "tokenizer.json")
    argv = ["infer-mixture", "-t", str(converted), "--no-cache", "-f", "json"]
    for name, texts in cats.items():
        path = tmp_path / f"{name}.txt"
        path.write_text("\n".join(texts) + "\n", encoding="utf-8")
        argv += ["--category", f"{name}={path}"]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["meta"]["solver"]["objective"] == pytest.approx(0.0, abs=1e-6)
    assert data["meta"]["merges_used"] > 300
    tokenizer = data["meta"]["tokenizer"]
    assert tokenizer["merges_listed"] == len(_json_merges(converted)) > tokenizer["merges_rebuilt_one_per_token"]


def _spm_encode(model: Path, lines: list[str]) -> list[list[int]]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model))
    return [sp.encode(line) for line in lines]


def _json_merges(path: Path) -> list[tuple[str, str]]:
    merges = json.loads(path.read_text(encoding="utf-8"))["model"]["merges"]
    return [tuple(m.split(" ", 1)) for m in merges]  # type: ignore[misc]
