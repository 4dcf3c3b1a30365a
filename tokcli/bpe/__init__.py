"""BPE building blocks shared by training, loading and mixture inference: the byte-level alphabet,
rank-based BPE and merge rebuilding, pair keys and pair counting over words."""
