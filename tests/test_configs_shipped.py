"""Every example config in configs/ loads with the sections of the commands it configures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokcli.cli.compare import SECTIONS as COMPARE
from tokcli.cli.encode import ENCODE_SECTIONS
from tokcli.cli.infer_mixture import SECTIONS as INFER_MIXTURE
from tokcli.cli.train import SECTIONS as TRAIN
from tokcli.config import read_yaml, resolve_config

CONFIGS = sorted((Path(__file__).parents[1] / "configs").glob("*.yaml"))
COMMANDS = {"train": TRAIN, "encode": ENCODE_SECTIONS, "compare": COMPARE, "infer_mixture": INFER_MIXTURE}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_loads(path: Path) -> None:
    sections = [name for name in read_yaml(path) if name in COMMANDS]
    assert sections, f"{path.name} configures no command"
    for command in sections:
        resolved = resolve_config(COMMANDS[command], config_path=path, env={})
        corpus = resolved.sections.get("corpus")
        if corpus is not None:
            for item in corpus.inputs + tuple(p for m in corpus.mix for p in m.paths):
                assert Path(item).exists(), f"{path.name}: {item} does not exist"
        mixture = resolved.sections.get("infer_mixture")
        if mixture is not None:
            for item in (mixture.tokenizer, *(p for c in mixture.categories for p in c.path)):
                assert Path(item).exists(), f"{path.name}: {item} does not exist"


def test_there_are_example_configs() -> None:
    assert len(CONFIGS) >= 4
