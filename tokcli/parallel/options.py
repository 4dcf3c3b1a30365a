"""Options shared by the commands that run on several processes or a Ray cluster (YAML section ``scale``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tokcli.errors import ConfigError

ENGINES = ("local", "ray")
DEFAULT_SPLIT_SIZE = 64_000_000


@dataclass(frozen=True)
class ScaleConfig:
    """Where the work runs. Results never depend on ``engine``, ``workers`` or completion order."""

    engine: str = field(
        default="local",
        metadata={"help": "local: a process pool on this machine; ray: tasks on a Ray cluster [local|ray]"},
    )
    workers: int = field(
        default=0,
        metadata={
            "help": "parallel tasks (0: all CPUs of this machine or cluster; a local count starts at most one "
            "worker per 4MB of input)"
        },
    )
    split_size: int | None = field(
        default=None,
        metadata={
            "help": "bytes of input per split (text/JSONL byte ranges; Parquet splits by row group); default: "
            "64MB for encode (one shard each), for count 1/32 of the input between 1MB and 64MB",
            "unit": "bytes",
        },
    )
    ray_address: str | None = field(
        default=None,
        metadata={"help": "Ray cluster to join, e.g. ray://head:10001 or auto (default: a private local cluster)"},
    )
    ray_temp_dir: str | None = field(
        default=None,
        metadata={"help": "Ray session folder (default: a private folder under /tmp)", "path": True, "output": True},
    )
    object_store_memory: int | None = field(
        default=None,
        metadata={"help": "object store size of a private Ray cluster (default 512MB)", "unit": "bytes"},
    )

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            hint = "choose --engine local or --engine ray"
            if self.engine in ("auto", "tokenizers"):
                hint = f"--engine now picks where work runs (local|ray); use --tokenizer-engine {self.engine}"
            raise ConfigError(f"scale.engine {self.engine!r} is not local or ray", hint=hint)
        if self.workers < 0:
            raise ConfigError(
                f"scale.workers must be 0 (all CPUs) or more, not {self.workers}", hint="e.g. --workers 8"
            )
        if self.split_size is not None and self.split_size < 1:
            raise ConfigError("scale.split_size must be at least 1 byte", hint="e.g. --split-size 64MB")
        if self.object_store_memory is not None and self.object_store_memory < 78_643_200:
            raise ConfigError(
                "scale.object_store_memory must be at least 75MiB (Ray's minimum)",
                hint="e.g. --object-store-memory 1GB",
            )
