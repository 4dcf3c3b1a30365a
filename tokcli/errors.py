"""One exception hierarchy for everything a user can get wrong, with the exit code each maps to.

The CLI prints ``tokcli: error: <message>`` on one line and exits with ``exit_code``. Messages name
the file, line or config key at fault and say how to fix it.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes (pinned by tests; documented in docs/exit-codes.md)."""

    OK = 0
    ERROR = 1  # bad data, bad config, failed run
    USAGE = 2  # bad command line
    LOCKED = 75  # another run holds the output lock (EX_TEMPFAIL: try again later)
    INTERRUPTED = 130  # SIGINT / SIGTERM


class TokcliError(Exception):
    """Base class: a user-facing error with a one-line message."""

    exit_code: int = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class ConfigError(TokcliError):
    """A bad YAML file, config key, environment variable or option value."""


class InputError(TokcliError):
    """Input data that cannot be read: missing file, malformed record, bad encoding, empty corpus."""


class OutputError(TokcliError):
    """An output that cannot be written (unwritable folder, disk full)."""


class TokenizerError(TokcliError):
    """A tokenizer file that cannot be loaded or used."""


class UsageError(TokcliError):
    """A command line that cannot work as given (conflicting or missing options)."""

    exit_code = ExitCode.USAGE


class LockHeldError(TokcliError):
    """Another tokcli process holds the lock on the output path."""

    exit_code = ExitCode.LOCKED


class Interrupted(TokcliError):
    """SIGINT or SIGTERM arrived; outputs in progress were discarded."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, message: str = "interrupted; no partial output was written") -> None:
        super().__init__(message)
