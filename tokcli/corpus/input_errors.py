"""The errors every format reader gives for bad input, each naming the file, line or byte offset and the fix."""

from __future__ import annotations

from typing import Any

from tokcli.errors import InputError


def binary_error(label: str, offset: int | str) -> InputError:
    return InputError(
        f"{label}: looks like a binary file (NUL byte at byte offset {offset}), not UTF-8 text",
        hint="pass a text, JSONL, Parquet or CSV file (UTF-16 text must be converted to UTF-8 first)",
    )


def utf8_error(label: str, offset: int | str, exc: UnicodeDecodeError) -> InputError:
    return InputError(
        f"{label}: invalid UTF-8 at byte offset {offset} ({exc.reason})",
        hint="re-encode the file as UTF-8, or pass --errors replace to substitute U+FFFD",
    )


def long_line_error(label: str, offset: int | str, limit: int, what: str = "the line starting") -> InputError:
    from tokcli.resources import format_size

    return InputError(
        f"{label}: {what} at byte offset {offset} is longer than --max-line-bytes "
        f"({format_size(limit)}), so it was not read into memory",
        hint="if such long documents are intended raise --max-line-bytes (e.g. --max-line-bytes 2GiB); "
        "otherwise split the input into lines (one document per line) or check it is really text",
    )


def _guess_text_field(record: dict[str, Any]) -> str:
    strings = [k for k, v in record.items() if isinstance(v, str)]
    return max(strings, key=lambda k: len(record[k])) if strings else next(iter(record), "text")


def missing_field_error(where: str, field: str, fields: list[str], example: dict[str, Any] | None) -> InputError:
    guess = _guess_text_field(example) if example else (fields[0] if fields else "text")
    listed = ", ".join(repr(f) for f in fields) or "none"
    return InputError(
        f"{where}: no field {field!r} in the record (fields: {listed})",
        hint=f"choose the text field with --text-field, e.g. --text-field {guess}",
    )


def field_type_error(where: str, field: str, value: Any) -> InputError:
    return InputError(
        f"{where}: field {field!r} is a {type(value).__name__}, expected a string",
        hint="choose the field that holds the text with --text-field",
    )
