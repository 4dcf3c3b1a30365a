"""Registers every subcommand on the app (one module per command)."""

from tokcli.cli import compare, count, encode, infer_mixture, train  # noqa: F401  (encode also registers decode)
