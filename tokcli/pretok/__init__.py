"""Pre-tokenization: the presets' regexes and digit rules, the HF pipelines built from them, the fast
regex word cutter proven identical to HF's, sentencepiece's word rules, and counting words."""
