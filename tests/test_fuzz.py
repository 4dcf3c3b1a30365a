"""Property tests: any bad input gives a TokcliError (a one-line message, exit 1), never a traceback."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tokcli.cli.options import CORPUS_RENAMES  # noqa: F401  (imports the CLI layer like a real run)
from tokcli.config import resolve_config
from tokcli.corpus import Corpus, CorpusConfig
from tokcli.errors import TokcliError
from tokcli.train.options import TrainConfig

DATA = Path(__file__).parent / "data"
VALID_JSONL = (DATA / "parallel" / "udhr" / "eng.jsonl").read_bytes()[:2000]
# 60 examples per property in the normal suite; FUZZ_EXAMPLES=2000 for a longer campaign.
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None)

corrupted = st.one_of(
    st.binary(max_size=400),
    st.builds(
        lambda data, cut, junk: data[:cut] + junk + data[cut:],
        st.just(VALID_JSONL),
        st.integers(min_value=0, max_value=len(VALID_JSONL)),
        st.binary(min_size=1, max_size=20),
    ),
    st.builds(lambda cut: VALID_JSONL[:cut], st.integers(min_value=0, max_value=len(VALID_JSONL))),
)


def _read_all(config: CorpusConfig) -> None:
    for _ in Corpus(config).documents():
        pass


@FUZZ
@given(data=corrupted, suffix=st.sampled_from([".jsonl", ".txt", ".jsonl.gz", ".csv", ".parquet"]))
def test_corpus_reader_never_crashes(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        payload = gzip.compress(data)[: max(1, len(data) // 2)] if suffix.endswith(".gz") and data else data
        path.write_bytes(payload)
        with contextlib.suppress(TokcliError):
            _read_all(CorpusConfig(inputs=(str(path),)))


@FUZZ
@given(text=st.text(max_size=300))
def test_config_loader_never_crashes(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        path.write_text(text, encoding="utf-8")
        with contextlib.suppress(TokcliError):
            resolve_config({"train": TrainConfig, "corpus": CorpusConfig}, config_path=path, env={})


@FUZZ
@given(
    section=st.sampled_from(["train", "corpus"]),
    key=st.sampled_from(["vocab_size", "max_bytes", "inputs", "mix", "special_tokens", "preset", "seed", "sample"]),
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=5,
    ),
)
def test_config_values_are_type_checked(section: str, key: str, value: object) -> None:
    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.yaml"
        path.write_text(yaml.safe_dump({section: {key: value}}), encoding="utf-8")
        with contextlib.suppress(TokcliError):
            resolve_config({"train": TrainConfig, "corpus": CorpusConfig}, config_path=path, env={})


@FUZZ
@given(
    data=st.binary(max_size=600),
    name=st.sampled_from(["tokenizer.json", "m.model", "r.tiktoken", "tekken.json", "x.bin"]),
)
def test_tokenizer_loaders_never_crash(data: bytes, name: str) -> None:
    from tokcli.loading import load_tokenizer

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        with contextlib.suppress(TokcliError):
            load_tokenizer(str(path), pattern="gpt2")


@FUZZ
@given(cut=st.integers(min_value=0, max_value=10_000))
def test_truncated_tokenizer_files_never_crash(cut: int) -> None:
    from tokcli.loading import load_tokenizer

    for source in sorted((DATA / "tokenizers").iterdir()):
        data = source.read_bytes()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / source.name
            path.write_bytes(data[: cut % max(len(data), 1)])
            try:
                tok = load_tokenizer(str(path), pattern="gpt2")
                tok.encode("hello world")
            except TokcliError:
                pass


@FUZZ
@given(
    data=corrupted,
    suffix=st.sampled_from([".jsonl", ".txt", ".json"]),
    doc_sep=st.sampled_from(["line", "blank", "file"]),
    limit=st.integers(min_value=1, max_value=600),
)
def test_line_guard_only_refuses_never_changes(data: bytes, suffix: str, doc_sep: str, limit: int) -> None:
    """With a small --max-line-bytes a read either gives exactly the unlimited read's documents or
    stops with a TokcliError; never a crash, never other documents."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(data)
        config = CorpusConfig(inputs=(str(path),), doc_sep=doc_sep)  # type: ignore[arg-type]
        try:
            unlimited = [d.text for d in Corpus(config).documents()]
        except TokcliError:
            unlimited = None
        try:
            limited = [d.text for d in Corpus(dataclasses.replace(config, max_line_bytes=limit)).documents()]
        except TokcliError:
            return
        assert limited == unlimited
