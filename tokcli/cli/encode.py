"""``tokcli encode``: text to token ids with any tokenizer file."""

from __future__ import annotations

from tokcli.cli.app import app
from tokcli.cli.options import CORPUS_RENAMES, ResolvedConfig, config_command
from tokcli.cli.stubs import not_implemented
from tokcli.corpus import CorpusConfig


@app.command("encode")
@config_command({"corpus": CorpusConfig}, positional="corpus.inputs", rename=CORPUS_RENAMES)
def encode_command(config: ResolvedConfig) -> None:
    """Encode documents to token ids, tokens, counts or binary shards."""
    not_implemented("encode")
