"""Build the tiny tokenizer fixtures under tests/data/tokenizers/ from the text in tests/data.

Run from the repository root: ``.venv/bin/python scripts/make_tokenizer_fixtures.py``. Writes:

- ``bpe-bytelevel.json``: HF byte-level BPE (GPT-2 regex), 640 ids, ``<|endoftext|>`` special at id 0;
- ``bpe-bytelevel.tiktoken``: the same vocabulary as a tiktoken ranks file (base64 token, rank);
- ``spm-bpe-bytefallback.model``: sentencepiece BPE, 1000 pieces, byte_fallback, identity normalization,
  whitespace kept.

Training is deterministic for a given library version; the files are committed so tests do not depend
on it.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
OUT = DATA / "tokenizers"


def texts() -> Iterator[str]:
    yield from (line for line in (DATA / "austen.txt").read_text("utf-8").splitlines() if line.strip())
    for path in sorted((DATA / "code").glob("*.jsonl")) + sorted((DATA / "parallel" / "udhr").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            yield json.loads(line)["text"]


def build_hf() -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=640,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=["<|endoftext|>"],
        show_progress=False,
    )
    tok.train_from_iterator(texts(), trainer)
    tok.save(str(OUT / "bpe-bytelevel.json"))


def build_ranks() -> None:
    sys.path.insert(0, str(ROOT))
    from tokcli.bpe.byte_level import unicode_to_bytes

    vocab: dict[str, int] = json.loads((OUT / "bpe-bytelevel.json").read_text("utf-8"))["model"]["vocab"]
    decode = unicode_to_bytes()
    # The special token (id 0) is not a mergeable token; ranks files hold only mergeable ones.
    lines = [
        f"{base64.b64encode(bytes(decode[c] for c in token)).decode()} {rank}"
        for token, rank in sorted(vocab.items(), key=lambda item: item[1])
        if token != "<|endoftext|>"
    ]
    (OUT / "bpe-bytelevel.tiktoken").write_text("\n".join(lines) + "\n", "utf-8")


def build_spm() -> None:
    import sentencepiece as spm

    spm.SentencePieceTrainer.train(
        sentence_iterator=texts(),
        model_prefix=str(OUT / "spm-bpe-bytefallback"),
        model_type="bpe",
        vocab_size=1000,
        byte_fallback=True,
        character_coverage=0.98,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,  # keep decode(encode(x)) == x
        max_sentence_length=100_000,
        num_threads=1,
        minloglevel=2,
    )
    (OUT / "spm-bpe-bytefallback.vocab").unlink()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    build_hf()
    build_ranks()
    build_spm()
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
