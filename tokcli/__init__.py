"""tokcli: train, apply, compare and audit tokenizers from the command line."""

from tokcli.version import __version__

__all__ = ["__version__"]
