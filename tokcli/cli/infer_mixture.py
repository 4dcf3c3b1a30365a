"""``tokcli infer-mixture``: recover a BPE tokenizer's training-data mixture from its merges."""

from __future__ import annotations

from tokcli.cli.app import app
from tokcli.cli.options import CORPUS_RENAMES, ResolvedConfig, config_command
from tokcli.cli.stubs import not_implemented
from tokcli.corpus import CorpusConfig


@app.command("infer-mixture")
@config_command({"corpus": CorpusConfig}, rename=CORPUS_RENAMES)
def infer_mixture_command(config: ResolvedConfig) -> None:
    """Infer the data mixture a BPE tokenizer was trained on (Hayase et al. 2024)."""
    not_implemented("infer-mixture")
