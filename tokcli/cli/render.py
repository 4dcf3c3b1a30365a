"""One renderer for every command's tabular results: ``--format auto|table|json|jsonl|tsv|csv|markdown``.

``auto`` is a rich table when stdout is a terminal and JSON lines otherwise, so pipes get data.
JSON output has sorted keys and is byte-identical for identical results.
"""

from __future__ import annotations

import csv
import io
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TextIO

import orjson

from tokcli.cli.console import is_tty

OutputFormat = Literal["auto", "table", "json", "jsonl", "tsv", "csv", "markdown"]
FORMATS: tuple[str, ...] = ("auto", "table", "json", "jsonl", "tsv", "csv", "markdown")
_JSON_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def dumps_json(obj: Any, *, indent: bool = False) -> bytes:
    """Deterministic JSON (sorted keys); NaN/inf become null as JSON has no spelling for them."""
    return orjson.dumps(obj, option=_JSON_OPTS | (orjson.OPT_INDENT_2 if indent else 0))


def resolve_format(fmt: str, out: TextIO) -> str:
    if fmt not in FORMATS:
        from tokcli.errors import UsageError

        raise UsageError(f"unknown --format {fmt!r}", hint="choose one of: " + ", ".join(FORMATS))
    if fmt == "auto":
        return "table" if is_tty(out) else "jsonl"
    return fmt


def _columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        return list(columns)
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def format_cell(value: Any) -> str:
    """Human text for one cell: floats to 4 significant decimals, None as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e6 else f"{value:.4f}".rstrip("0").rstrip(".")
    if isinstance(value, list | tuple | dict):
        return dumps_json(value).decode()
    return str(value)


def render(
    rows: Sequence[Mapping[str, Any]],
    fmt: str = "auto",
    *,
    out: TextIO | None = None,
    columns: Sequence[str] | None = None,
    title: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> None:
    """Write ``rows`` to ``out`` (stdout) in ``fmt``. ``meta`` is included in ``json`` output only."""
    out = out or sys.stdout
    fmt = resolve_format(fmt, out)
    cols = _columns(rows, columns)
    if fmt == "json":
        doc: Any = {"meta": dict(meta), "rows": list(rows)} if meta is not None else list(rows)
        out.write(dumps_json(doc, indent=True).decode() + "\n")
    elif fmt == "jsonl":
        for row in rows:
            out.write(dumps_json(row).decode() + "\n")
    elif fmt in ("tsv", "csv"):
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
        writer.writerow(cols)
        for row in rows:
            writer.writerow([_plain_cell(row.get(c)) for c in cols])
        out.write(buffer.getvalue())
    elif fmt == "markdown":
        out.write("| " + " | ".join(cols) + " |\n")
        out.write("|" + "|".join("---" for _ in cols) + "|\n")
        for row in rows:
            cells = [format_cell(row.get(c)).replace("|", "\\|") for c in cols]
            out.write("| " + " | ".join(cells) + " |\n")
        out.write("\n")  # a blank line ends the table: two tables in a row stay two tables
    else:
        _render_table(rows, cols, out, title)
    out.flush()


def _plain_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple | dict):
        return dumps_json(value).decode()
    return str(value)


def _render_table(rows: Sequence[Mapping[str, Any]], cols: list[str], out: TextIO, title: str | None) -> None:
    """A rich table. On a terminal it fits the terminal's width: columns that do not fit go to further
    tables that repeat the leading label columns; a cell is never cut. In a file or pipe every column
    is in one table, as wide as it needs."""
    from rich.console import Console

    cells = {c: [format_cell(r.get(c)) for r in rows] for c in cols}
    if not is_tty(out):
        Console(file=out, soft_wrap=False, width=max(80, sum(_width(c, cells[c]) for c in cols) + 1)).print(
            _table(rows, cols, cells, title)
        )
        return
    console = Console(file=out, soft_wrap=False)
    for number, group in enumerate(column_groups(cols, cells, console.width)):
        if number:
            console.print()
        console.print(_table(rows, group, cells, title if number == 0 else None))


def _width(col: str, cells: Sequence[str]) -> int:
    """Characters a column takes in a rich table: its widest cell or header, padding and a border."""
    return max([len(col), *map(len, cells)]) + 3


def column_groups(cols: list[str], cells: Mapping[str, Sequence[str]], width: int) -> list[list[str]]:
    """``cols`` in groups that each fit ``width`` characters, every group led by the label columns (the
    leading columns of text, e.g. tokenizer and corpus); a column wider than the screen gets a group of
    its own rather than being cut."""
    labels: list[str] = []
    for col in cols:
        if any(_is_number(v) for v in cells[col]) or len(labels) == 2:
            break
        labels.append(col)
    base = sum(_width(c, cells[c]) for c in labels) + 1
    groups: list[list[str]] = []
    current: list[str] = []
    used = base
    for col in cols[len(labels) :]:
        need = _width(col, cells[col])
        if current and used + need > width:
            groups.append(current)
            current, used = [], base
        current.append(col)
        used += need
    if current or not groups:
        groups.append(current)
    return [labels + group for group in groups]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _table(
    rows: Sequence[Mapping[str, Any]], cols: list[str], cells: Mapping[str, Sequence[str]], title: str | None
) -> Any:
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for col in cols:
        numeric = any(isinstance(r.get(col), int | float) and not isinstance(r.get(col), bool) for r in rows)
        table.add_column(col, justify="right" if numeric else "left", no_wrap=True, overflow="ignore")
    for i in range(len(rows)):
        table.add_row(*(cells[c][i] for c in cols))
    return table


def format_option(what: str = "") -> Any:
    """The ``--format/-f`` option every tabular command shares."""
    import typer

    return typer.Option(
        "auto",
        "--format",
        "-f",
        metavar="FORMAT",
        show_default=False,
        help=f"auto|table|json|jsonl|tsv|csv|markdown (auto: a table on a terminal, JSON lines otherwise){what}",
    )
