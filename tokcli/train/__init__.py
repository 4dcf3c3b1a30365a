"""``tokcli train`` core: train a tokenizer from a streaming corpus (or from counts), write it
atomically, report.

Backends: hf-bpe (byte-level BPE), hf-unigram, hf-wordpiece, hf-wordlevel (HF ``tokenizers``) and
spm-bpe, spm-unigram, spm-char, spm-word (``sentencepiece``). The corpus is streamed in batches and never
held in memory by tokcli.
"""

from tokcli.train.options import BACKENDS, TrainConfig, validate
from tokcli.train.report import TrainReport
from tokcli.train.run import train_tokenizer

__all__ = ["BACKENDS", "TrainConfig", "TrainReport", "train_tokenizer", "validate"]
