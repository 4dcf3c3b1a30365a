"""``tokcli train`` core: train a tokenizer from a streaming corpus, write it atomically, report.

Backends: hf-bpe (byte-level BPE), hf-unigram, hf-wordpiece, hf-wordlevel (HF ``tokenizers``) and
spm-bpe, spm-unigram, spm-char, spm-word (``sentencepiece``). The corpus is streamed in batches and never
held in memory by tokcli.
"""

from __future__ import annotations

import os
import platform
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokcli import __version__
from tokcli.config import to_plain
from tokcli.corpus import Corpus
from tokcli.errors import InputError
from tokcli.files import atomic_write, sha256_file
from tokcli.train.options import BACKENDS, THREADS_CHANGE_RESULT, TrainConfig, validate

__all__ = ["BACKENDS", "TrainConfig", "TrainReport", "train_tokenizer", "validate"]


@dataclass(frozen=True)
class TrainReport:
    """What a training run produced; ``as_dict`` is the JSON report."""

    backend: str
    tokenizer: str
    sha256: str
    vocab_size: int
    merges: int | None
    docs: int
    bytes: int
    sources: dict[str, dict[str, Any]]
    stop_reason: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    config: dict[str, Any]
    versions: dict[str, str]
    extra_files: tuple[str, ...] = ()
    from_counts_method: str | None = None  # hf-bpe --from-counts: the route taken (repeat or merge-loop)
    # whether train.threads changes the trained pieces for this backend (spm-unigram); the default thread
    # count is fixed there, so only an explicit --threads gives a different file
    threads_change_result: bool = False

    def as_dict(self) -> dict[str, Any]:
        plain = dict(to_plain(self))
        if self.from_counts_method is None:
            del plain["from_counts_method"]
        return plain


def _limit_threads(threads: int | None) -> None:
    """Cap the Rust (rayon) pool before ``tokenizers`` first starts it; sentencepiece gets num_threads."""
    if threads:  # None or 0: all CPUs (TOKCLI_THREADS=0 means the same)
        os.environ["RAYON_NUM_THREADS"] = str(threads)
        os.environ["RAYON_RS_NUM_CPUS"] = str(threads)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"tokcli": __version__, "python": platform.python_version()}
    for package in ("tokenizers", "sentencepiece"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def train_tokenizer(
    config: TrainConfig, corpus: Corpus, *, batch_size: int = 1000, if_changed: bool = False
) -> TrainReport:
    """Train on ``corpus`` and write ``config.output`` (nothing is written if anything fails).

    ``if_changed``: an existing byte-identical tokenizer file keeps its mtime (Makefile friendly).
    """
    validate(config)
    assert config.output is not None
    output = Path(config.output)
    if not output.parent.is_dir():
        from tokcli.errors import OutputError

        raise OutputError(f"cannot write {output}: folder {output.parent} does not exist", hint="create it first")
    _limit_threads(config.threads)
    started, cpu_started = time.monotonic(), _cpu_seconds()
    batches = corpus.text_batches(batch_size)
    extra: tuple[str, ...] = ()
    if config.is_spm:
        from tokcli.train.spm import train_spm

        facts = train_spm(config, batches, output)
        extra = (facts.pop("vocab_file"),)
    else:
        if config.superword_transition is not None:
            from tokcli.train.superbpe import train_superword

            text, facts = train_superword(config, batches)
        else:
            from tokcli.train.hf import train_hf

            text, facts = train_hf(config, batches)
        if corpus.stats.docs == 0:
            raise InputError("the corpus is empty: no document to train on", hint="check the inputs and limits")
        with atomic_write(output, "w", if_changed=if_changed) as handle:
            handle.write(text)
    stats = corpus.stats
    weights = {m.name: m.weight for m in corpus.config.mix}
    total_weight = sum(weights.values())
    sources = {}
    for name, n_bytes in sorted(stats.bytes_by_source.items()):
        entry: dict[str, Any] = {
            "docs": stats.docs_by_source.get(name, 0),
            "bytes": n_bytes,
            "byte_share": round(n_bytes / stats.bytes, 6) if stats.bytes else 0.0,
        }
        if name in weights:
            entry["requested_share"] = weights[name] / total_weight
        sources[name] = entry
    return TrainReport(
        backend=config.backend,
        tokenizer=str(output),
        sha256=sha256_file(output),
        vocab_size=int(facts["vocab_size"]),
        merges=facts.get("merges"),
        docs=stats.docs,
        bytes=stats.bytes,
        sources=sources,
        stop_reason=stats.stop_reason,
        wall_s=round(time.monotonic() - started, 3),
        cpu_s=round(_cpu_seconds() - cpu_started, 3),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        config=to_plain(config),
        versions=_versions(),
        extra_files=extra,
        threads_change_result=config.backend in THREADS_CHANGE_RESULT,
    )
