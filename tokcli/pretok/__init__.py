"""Pre-tokenization: the presets' regexes and digit rules, the HF pipelines built from them, the fast
regex word cutter proven identical to HF's, sentencepiece's word rules, the one pre-tokenizer spec
(:mod:`tokcli.pretok.spec`, shared by ``count`` and ``infer-mixture``) and counting words
(:mod:`tokcli.pretok.words`)."""
