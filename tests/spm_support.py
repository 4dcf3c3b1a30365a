"""sentencepiece BPE fixtures for the infer-mixture tests: a known mixture of the shipped texts, a
trainer call, and the tokenizer.json that transformers' converter (``LlamaConverter`` with
``SentencePieceExtractor``) makes of a model, written out here so the tests need no transformers."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data"


def lines_of(path: Path) -> list[str]:
    raw = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in raw] if path.suffix == ".jsonl" else raw


def spm_categories() -> dict[str, list[str]]:
    udhr = DATA / "parallel" / "udhr"
    return {
        "prose": lines_of(DATA / "austen.txt")[:1500],
        "python": [line for text in lines_of(DATA / "code" / "python.jsonl") for line in text.splitlines()],
        "scripts": lines_of(udhr / "rus.jsonl") + lines_of(udhr / "jpn.jsonl") + lines_of(udhr / "hin.jsonl"),
    }


def train_spm(tmp_path: Path, lines: list[str], name: str, vocab: int = 1200, **options: object) -> Path:
    import sentencepiece as spm

    out = tmp_path / f"{name}.model"
    with out.open("wb") as model:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_writer=model, model_type="bpe", vocab_size=vocab,
            minloglevel=2, num_threads=1, **options,
        )  # fmt: skip
    return out


def spm_merges(path: Path) -> list[tuple[bytes, bytes]]:
    from tokcli.loading.registry import load_tokenizer

    merges = load_tokenizer(str(path)).merges()
    assert merges is not None
    return merges


def convert_like_transformers(model: Path, out: Path) -> Path:
    """The Llama 2 style tokenizer.json of a sentencepiece BPE model trained with the identity
    normalisation: every split of each piece into two pieces as a merge (ordered by the piece's score,
    then by the ids of the two sides), U+2581 prepended and put for spaces by the normalizer."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model))
    size = sp.GetPieceSize()
    vocab = {sp.IdToPiece(i): i for i in range(size)}
    merges: list[tuple[str, str, float]] = []
    for piece, index in vocab.items():
        local = [(piece[:k], piece[k:]) for k in range(1, len(piece)) if piece[:k] in vocab and piece[k:] in vocab]
        local.sort(key=lambda pair: (vocab[pair[0]], vocab[pair[1]]))
        merges += [(left, right, sp.GetScore(index)) for left, right in local]
    merges.sort(key=lambda merge: merge[2], reverse=True)
    special = [i for i in range(size) if sp.IsControl(i) or sp.IsUnknown(i)]
    data = {
        "version": "1.0",
        "added_tokens": [
            {"id": i, "content": sp.IdToPiece(i), "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for i in special
        ],
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "Prepend", "prepend": "\u2581"},
                {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
            ],
        },
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": {
            "type": "Sequence",
            "decoders": [
                {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                {"type": "ByteFallback"},
                {"type": "Fuse"},
                {"type": "Strip", "content": " ", "start": 1, "stop": 0},
            ],
        },
        "model": {
            "type": "BPE", "dropout": None, "unk_token": sp.IdToPiece(sp.unk_id()), "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
            "vocab": vocab, "merges": [f"{left} {right}" for left, right, _ in merges],
        },
    }  # fmt: skip
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return out
