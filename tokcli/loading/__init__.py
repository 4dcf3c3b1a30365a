"""Tokenizer loading: one registry (``load_tokenizer``) and one interface (``LoadedTokenizer``)."""

from tokcli.loading.base import LoadedTokenizer, TokenizerInfo, default_threads
from tokcli.loading.registry import TokenizerSpec, load_tokenizer

__all__ = ["LoadedTokenizer", "TokenizerInfo", "TokenizerSpec", "default_threads", "load_tokenizer"]
