"""``tokcli compare``'s core: tokenizers side by side on corpora (compression, fertility, premiums,
fallback rates, Rényi efficiency, overlap, speed)."""

from tokcli.compare.options import CompareConfig, CompareResult, CorpusSpec
from tokcli.compare.plan import plan_corpora
from tokcli.compare.run import keep_freed_memory, run_compare

__all__ = ["CompareConfig", "CompareResult", "CorpusSpec", "keep_freed_memory", "plan_corpora", "run_compare"]
