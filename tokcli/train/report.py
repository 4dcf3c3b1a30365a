"""The report of a training run (``train`` and ``train --from-counts`` build it the same way) and the
run-wide facts it records: wall and CPU time, peak memory, library versions."""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tokcli.config import to_plain
from tokcli.train.options import THREADS_CHANGE_RESULT, TrainConfig
from tokcli.version import __version__


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


def limit_threads(threads: int | None) -> None:
    """Cap the Rust (rayon) pool before ``tokenizers`` first starts it; sentencepiece gets num_threads."""
    if threads:  # None or 0: all CPUs (TOKCLI_THREADS=0 means the same)
        from tokcli.resources import useful_threads

        os.environ["RAYON_NUM_THREADS"] = os.environ["RAYON_RS_NUM_CPUS"] = str(useful_threads(threads))


def library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"tokcli": __version__, "python": platform.python_version()}
    for package in ("tokenizers", "sentencepiece"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Clock:
    """Wall and CPU time since it was made."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.monotonic(), cpu_seconds()


def source_shares(
    sources: Mapping[str, tuple[int, int]], total: int, weights: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """name -> (docs, bytes) as the report's ``sources``: each source's docs, bytes, share of the ``total``
    bytes and, for a declared mixture, the share it was given."""
    total_weight = sum((weights or {}).values())
    out: dict[str, Any] = {}
    for name, (docs, n_bytes) in sorted(sources.items()):
        share = round(n_bytes / total, 6) if total else 0.0
        entry: dict[str, Any] = {"docs": docs, "bytes": n_bytes, "byte_share": share}
        if weights and name in weights:
            entry["requested_share"] = weights[name] / total_weight
        out[name] = entry
    return out


def build_report(
    config: TrainConfig,
    facts: Mapping[str, Any],
    *,
    clock: Clock,
    sha256: str,
    docs: int,
    n_bytes: int,
    sources: dict[str, Any],
    stop_reason: str,
    extra_files: tuple[str, ...] = (),
    from_counts_method: str | None = None,
) -> TrainReport:
    """The one place a :class:`TrainReport` is made; ``facts`` are the backend's (vocab_size, merges)."""
    return TrainReport(
        backend=config.backend,
        tokenizer=str(config.output),
        sha256=sha256,
        vocab_size=int(facts["vocab_size"]),
        merges=facts.get("merges"),
        docs=docs,
        bytes=n_bytes,
        sources=sources,
        stop_reason=stop_reason,
        wall_s=round(time.monotonic() - clock.wall, 3),
        cpu_s=round(cpu_seconds() - clock.cpu, 3),
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        config=to_plain(config),
        versions=library_versions(),
        extra_files=extra_files,
        from_counts_method=from_counts_method,
        threads_change_result=config.backend in THREADS_CHANGE_RESULT,
    )
