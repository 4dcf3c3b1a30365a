"""``tokcli compare``: compare tokenizers on corpora."""

from __future__ import annotations

from tokcli.cli.app import app
from tokcli.cli.options import CORPUS_RENAMES, ResolvedConfig, config_command
from tokcli.cli.stubs import not_implemented
from tokcli.corpus import CorpusConfig


@app.command("compare")
@config_command({"corpus": CorpusConfig}, positional="corpus.inputs", rename=CORPUS_RENAMES)
def compare_command(config: ResolvedConfig) -> None:
    """Compare tokenizers: compression, fertility, token premium, Rényi efficiency, overlap, speed."""
    not_implemented("compare")
