"""``tokcli train``: train a tokenizer from a streaming corpus."""

from __future__ import annotations

from tokcli.cli.app import app
from tokcli.cli.options import CORPUS_RENAMES, ResolvedConfig, config_command
from tokcli.cli.stubs import not_implemented
from tokcli.corpus import CorpusConfig


@app.command("train")
@config_command({"corpus": CorpusConfig}, positional="corpus.inputs", rename=CORPUS_RENAMES)
def train_command(config: ResolvedConfig) -> None:
    """Train a tokenizer (BPE, Unigram, WordPiece, sentencepiece) on CORPUS and write it atomically."""
    not_implemented("train")
