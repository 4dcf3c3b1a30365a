"""The shared config loader: precedence, type checks, unknown keys, YAML errors, path resolution."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokcli.config import parse_size, read_yaml, resolve_config
from tokcli.corpus import CorpusConfig, MixSource
from tokcli.errors import ConfigError


@dataclass(frozen=True)
class Toy:
    vocab_size: int = 1000
    ratio: float = 0.5
    name: str = "toy"
    lower: bool = False
    mode: Literal["fast", "slow"] = "fast"
    tags: tuple[str, ...] = ()
    limit: int | None = None
    budget: int | None = field(default=None, metadata={"unit": "bytes"})
    seed: int = 0


SECTIONS = {"toy": Toy, "corpus": CorpusConfig}


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_nothing_given() -> None:
    cfg = resolve_config(SECTIONS, env={})
    assert cfg["toy"] == Toy()
    assert cfg["corpus"] == CorpusConfig()


def test_precedence_flag_over_env_over_yaml_over_default(tmp_path: Path) -> None:
    path = write(tmp_path, "toy:\n  vocab_size: 2000\n  ratio: 0.25\n  name: from-yaml\n")
    env = {"TOKCLI_TOY_VOCAB_SIZE": "3000", "TOKCLI_TOY_RATIO": "0.75"}
    cfg = resolve_config(SECTIONS, config_path=path, env=env, cli={"toy": {"vocab_size": 4000}})
    toy = cfg["toy"]
    assert toy.vocab_size == 4000  # flag beats env and YAML
    assert toy.ratio == 0.75  # env beats YAML
    assert toy.name == "from-yaml"  # YAML beats default
    assert toy.mode == "fast"  # default


def test_env_shorthand_applies_to_every_section_with_the_key() -> None:
    cfg = resolve_config(SECTIONS, env={"TOKCLI_SEED": "7"})
    assert cfg["toy"].seed == 7
    assert cfg["corpus"].seed == 7
    specific = resolve_config(SECTIONS, env={"TOKCLI_SEED": "7", "TOKCLI_CORPUS_SEED": "9"})
    assert specific["corpus"].seed == 9 and specific["toy"].seed == 7


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("0", False), ("YES", True), ("off", False)],
)
def test_env_booleans(text: str, expected: bool) -> None:
    assert resolve_config(SECTIONS, env={"TOKCLI_TOY_LOWER": text})["toy"].lower is expected


def test_env_lists_comma_separated_or_yaml_list() -> None:
    assert resolve_config(SECTIONS, env={"TOKCLI_TOY_TAGS": "a, b,c"})["toy"].tags == ("a", "b", "c")
    assert resolve_config(SECTIONS, env={"TOKCLI_TOY_TAGS": "[x, 'y,z']"})["toy"].tags == ("x", "y,z")


def test_unknown_key_has_path_and_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path, "toy:\n  vocab_sise: 10\n")
    with pytest.raises(ConfigError) as info:
        resolve_config(SECTIONS, config_path=path, env={})
    message = str(info.value)
    assert "toy.vocab_sise" in message
    assert "did you mean 'vocab_size'" in message
    assert str(path) in message


def test_unknown_section_suggests_the_close_one(tmp_path: Path) -> None:
    path = write(tmp_path, "corpsu:\n  max_docs: 3\n")
    with pytest.raises(ConfigError, match=r"unknown config section 'corpsu'.*did you mean 'corpus'"):
        resolve_config(SECTIONS, config_path=path, env={})


def test_flat_key_at_top_level_says_which_section(tmp_path: Path) -> None:
    path = write(tmp_path, "vocab_size: 10\n")
    with pytest.raises(ConfigError, match=r"put it under the 'toy:' section"):
        resolve_config(SECTIONS, config_path=path, env={})


def test_sections_of_other_commands_are_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "toy:\n  vocab_size: 5\ncompare:\n  whatever: 1\n")
    assert resolve_config(SECTIONS, config_path=path, env={})["toy"].vocab_size == 5


def test_hyphenated_keys_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "toy:\n  vocab-size: 12\n")
    assert resolve_config(SECTIONS, config_path=path, env={})["toy"].vocab_size == 12


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        ("toy:\n  vocab_size: lots\n", "toy.vocab_size"),
        ("toy:\n  vocab_size: true\n", "expected an integer"),
        ("toy:\n  ratio: [1]\n", "toy.ratio"),
        ("toy:\n  name: 5\n", "expected a string"),
        ("toy:\n  lower: maybe\n", "toy.lower"),
        ("toy:\n  mode: fsat\n", "did you mean 'fast'"),
        ("toy:\n  budget: 12 parsecs\n", "a size such as 50MB"),
        ("toy: 3\n", "must be a mapping"),
        ("corpus:\n  mix: [{name: a, weight: 1}]\n", "corpus.mix"),
    ],
)
def test_type_errors_name_the_key(tmp_path: Path, yaml_text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        resolve_config(SECTIONS, config_path=write(tmp_path, yaml_text), env={})


def test_env_type_error_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"TOKCLI_TOY_LIMIT"):
        resolve_config(SECTIONS, env={"TOKCLI_TOY_LIMIT": "many"})


def test_null_for_optional_and_sizes(tmp_path: Path) -> None:
    path = write(tmp_path, "toy:\n  limit: null\n  budget: 1.5GB\ncorpus:\n  max_bytes: 2KiB\n")
    cfg = resolve_config(SECTIONS, config_path=path, env={})
    assert cfg["toy"].limit is None
    assert cfg["toy"].budget == 1_500_000_000
    assert cfg["corpus"].max_bytes == 2048


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("123", 123), ("50MB", 50_000_000), ("50mb", 50_000_000), ("1GiB", 1 << 30), ("2k", 2000), ("7 B", 7)],
)
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@given(st.integers(min_value=0, max_value=10**15))
def test_parse_size_round_trips_plain_integers(n: int) -> None:
    assert parse_size(str(n)) == n


def test_invalid_yaml_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "toy:\n  vocab_size: 3\n  name: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        read_yaml(path)
    assert f"{path}:" in str(info.value)
    assert "invalid YAML" in str(info.value)


def test_yaml_python_tags_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "toy: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        read_yaml(path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        resolve_config(SECTIONS, config_path=tmp_path / "nope.yaml", env={})


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        read_yaml(write(tmp_path, "- a\n- b\n"))


def test_paths_in_yaml_are_relative_to_the_file(tmp_path: Path) -> None:
    sub = tmp_path / "conf"
    sub.mkdir()
    path = write(sub, "corpus:\n  inputs: [data/a.txt, /abs/b.txt, '-', 'hf:wikitext']\n  mix: ['web=1:w.jsonl']\n")
    cfg = resolve_config(SECTIONS, config_path=path, env={})["corpus"]
    assert cfg.inputs == (str(sub.resolve() / "data/a.txt"), "/abs/b.txt", "-", "hf:wikitext")
    assert cfg.mix == (MixSource("web", 1.0, (str(sub.resolve() / "w.jsonl"),)),)


def test_flag_paths_stay_as_given() -> None:
    cfg = resolve_config(SECTIONS, cli={"corpus": {"inputs": ["rel/a.txt"]}}, env={})
    assert cfg["corpus"].inputs == ("rel/a.txt",)


def test_mix_from_mapping_and_string(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "corpus:\n  mix:\n    - {name: code, weight: 0.3, paths: [c.jsonl]}\n    - 'web=0.7:w1.jsonl,w2.jsonl'\n",
    )
    mix = resolve_config(SECTIONS, config_path=path, env={})["corpus"].mix
    assert [m.name for m in mix] == ["code", "web"]
    assert mix[1].weight == 0.7 and len(mix[1].paths) == 2


@pytest.mark.parametrize("spec", ["web", "web=:x", "web=abc:x", "=1:x", "web=0:x", "web=-1:x", "web=1:"])
def test_bad_mix_specs(spec: str) -> None:
    with pytest.raises(ConfigError, match=r"NAME=WEIGHT:PATH|positive"):
        MixSource.from_string(spec)


def test_tokenizer_specs_in_yaml_resolve_their_path_part(tmp_path: Path) -> None:
    from tokcli.compare.options import CompareConfig

    path = write(tmp_path, "compare:\n  tokenizers: [gpt=tok/a.json, tok/b.model, /abs/c.json]\n")
    specs = resolve_config({"compare": CompareConfig}, config_path=path, env={})["compare"].tokenizers
    base = tmp_path.resolve()
    assert specs == (f"gpt={base / 'tok/a.json'}", str(base / "tok/b.model"), "/abs/c.json")
