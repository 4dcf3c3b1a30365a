"""``tokcli compare``'s core: tokenizers side by side on corpora (compression, fertility, premiums,
fallback rates, Rényi efficiency, overlap, speed)."""
