"""What tokcli sends to sentencepiece: the non-blank lines of the documents (tokcli.train.spm.batch_sentences for
the sentence_iterator feed, batch_lines_bytes for the pipe), checked against the per-document definition on
documents full of line boundaries and blanks."""

from __future__ import annotations

import os

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tokcli.errors import InputError
from tokcli.train.spm import batch_lines_bytes, batch_sentences

FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "400")), deadline=None)
# every str.splitlines boundary, whitespace that str.strip removes, and ordinary text
MARKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029 \t\xa0\u3000\x1f"
documents = st.lists(
    st.one_of(
        st.text(alphabet=st.sampled_from(MARKS + "ab€😀"), max_size=12),
        st.text(max_size=12),
        st.sampled_from(["plain text", "été", "x" * 40]),
    ),
    max_size=12,
)


def reference(batch: list[str]) -> list[str]:
    return [line for document in batch for line in document.splitlines() if line.strip()]


@FUZZ
@given(documents)
@example(["a", " "])
@example(["a", ""])
@example(["a\u2028b", "c"])
@example(["a\r", "b"])
@example(["a\n\n", "b"])
def test_lines_are_the_non_blank_lines_of_each_document(batch: list[str]) -> None:
    lines = reference(batch)
    assert batch_sentences(batch)[0] == lines
    assert batch_lines_bytes(batch) == (("\n".join(lines) + "\n").encode() if lines else b"")


def test_common_case_and_an_unpaired_surrogate() -> None:
    assert batch_lines_bytes(["one", "two 😀", " three "]) == "one\ntwo 😀\n three \n".encode()
    with pytest.raises(InputError, match="unpaired surrogate"):
        batch_lines_bytes(["ok", "bad \ud800"])
