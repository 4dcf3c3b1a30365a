"""Scale-out: split planning, a local process-pool engine and an optional Ray engine, and the commands
built on them (``tokcli count``, ``train --from-counts``, sharded ``encode``). Results are identical
whatever the engine, the number of workers or the order in which tasks finish."""

from tokcli.scale.options import ScaleConfig

__all__ = ["ScaleConfig"]
