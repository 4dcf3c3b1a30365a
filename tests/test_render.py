"""The shared --format renderer."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tokcli.cli.render import format_cell, render
from tokcli.errors import UsageError

ROWS = [
    {"tokenizer": "gpt2", "bytes_per_token": 4.25, "tokens": 100},
    {"tokenizer": "a|b", "bytes_per_token": 3.5, "tokens": 120, "note": "x"},
]


def rendered(fmt: str, **kwargs: object) -> str:
    out = io.StringIO()
    render(ROWS, fmt, out=out, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def test_jsonl_is_one_sorted_object_per_line() -> None:
    lines = rendered("jsonl").splitlines()
    assert [json.loads(line) for line in lines] == ROWS
    assert lines[0] == '{"bytes_per_token":4.25,"tokenizer":"gpt2","tokens":100}'


def test_auto_is_jsonl_when_not_a_terminal() -> None:
    assert rendered("auto") == rendered("jsonl")


def test_json_with_meta() -> None:
    doc = json.loads(rendered("json", meta={"special_tokens": False}))
    assert doc == {"meta": {"special_tokens": False}, "rows": ROWS}
    assert json.loads(rendered("json")) == ROWS


@pytest.mark.parametrize(("fmt", "delimiter"), [("tsv", "\t"), ("csv", ",")])
def test_delimited(fmt: str, delimiter: str) -> None:
    parsed = list(csv.reader(io.StringIO(rendered(fmt)), delimiter=delimiter))
    assert parsed[0] == ["tokenizer", "bytes_per_token", "tokens", "note"]
    assert parsed[1] == ["gpt2", "4.25", "100", ""]
    assert parsed[2] == ["a|b", "3.5", "120", "x"]


def test_markdown_escapes_pipes() -> None:
    lines = rendered("markdown").splitlines()
    assert lines[0] == "| tokenizer | bytes_per_token | tokens | note |"
    assert lines[1] == "|---|---|---|---|"
    assert lines[3] == "| a\\|b | 3.5 | 120 | x |"


def test_table_has_every_value() -> None:
    text = rendered("table", title="demo")
    for needle in ("demo", "gpt2", "4.25", "120", "bytes_per_token"):
        assert needle in text
    assert "\x1b[" not in text  # no colour codes when not on a terminal


def test_columns_select_and_order() -> None:
    first = rendered("tsv", columns=["tokens", "tokenizer"]).splitlines()[0]
    assert first == "tokens\ttokenizer"


def test_unknown_format() -> None:
    with pytest.raises(UsageError, match="choose one of"):
        rendered("yaml")


@pytest.mark.parametrize(
    ("value", "text"), [(None, ""), (1.0, "1"), (0.123456, "0.1235"), (1e-5, "1e-05"), (12, "12"), ([1, 2], "[1,2]")]
)
def test_format_cell(value: object, text: str) -> None:
    assert format_cell(value) == text
