"""Safe loading: a config file cannot make tokcli write outside its own folder or the working directory;
no code is ever loaded from data (no pickle of user files, no trust_remote_code, YAML safe_load only);
hub datasets fail fast offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rel_support import BPE, DATA, ROOT, run_tokcli

from tokcli.cli.compare import SECTIONS as COMPARE
from tokcli.cli.count import SECTIONS as COUNT
from tokcli.cli.encode import DECODE_SECTIONS, ENCODE_SECTIONS
from tokcli.cli.infer_mixture import SECTIONS as INFER_MIXTURE
from tokcli.cli.train import SECTIONS as TRAIN
from tokcli.config import resolve_config
from tokcli.errors import ConfigError

OUTPUT_KEYS = [
    (TRAIN, "train", "output"),
    (TRAIN, "train", "report"),
    (ENCODE_SECTIONS, "encode", "output"),
    (DECODE_SECTIONS, "decode", "output"),
    (COMPARE, "compare", "plot"),
    (COUNT, "count", "output"),
    (INFER_MIXTURE, "infer_mixture", "cache_dir"),
    (ENCODE_SECTIONS, "scale", "ray_temp_dir"),
]


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp/project/configs/c.yaml, run from tmp/elsewhere (neither folder holds the other)."""
    (tmp_path / "project" / "configs").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    return tmp_path / "project" / "configs"


def load(sections: dict[str, type], folder: Path, section: str, key: str, value: str) -> object:
    config = folder / "c.yaml"
    config.write_text(f"{section}:\n  {key}: '{value}'\n", encoding="utf-8")
    return getattr(resolve_config(sections, config_path=config, env={})[section], key)


@pytest.mark.parametrize(("sections", "section", "key"), OUTPUT_KEYS, ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("value", ["../../../.bashrc", "sub/../../../x.json", "/etc/cron.d/x", "~/.profile"])
def test_config_outputs_may_not_escape(
    layout: Path, sections: dict[str, type], section: str, key: str, value: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load(sections, layout, section, key, value)
    message = str(info.value)
    assert f"config key '{section}.{key}'" in message and "c.yaml" in message
    assert "outside the config file's folder" in message
    assert f"on the command line or in TOKCLI_{section.upper()}_{key.upper()}" in message
    assert "\n" not in message


@pytest.mark.parametrize(("sections", "section", "key"), OUTPUT_KEYS, ids=lambda v: v if isinstance(v, str) else "")
def test_a_symlinked_folder_inside_the_config_folder_does_not_let_an_output_escape(
    layout: Path, tmp_path: Path, sections: dict[str, type], section: str, key: str
) -> None:
    """Checked by real path: ``configs/out -> /elsewhere`` makes ``out/x.json`` a file outside."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (layout / "out").symlink_to(outside)
    with pytest.raises(ConfigError, match="outside the config file's folder"):
        load(sections, layout, section, key, "out/x.json")
    (layout / "inner").mkdir()
    (layout / "in").symlink_to(layout / "inner")  # a symlink that stays inside is fine
    assert load(sections, layout, section, key, "in/x.json") == str(layout / "in/x.json")


@pytest.mark.parametrize(("sections", "section", "key"), OUTPUT_KEYS, ids=lambda v: v if isinstance(v, str) else "")
def test_config_outputs_inside_the_config_folder_or_cwd_are_fine(
    layout: Path, sections: dict[str, type], section: str, key: str
) -> None:
    assert load(sections, layout, section, key, "out/x.json") == str(layout / "out/x.json")
    assert load(sections, layout, section, key, str(layout / "abs.json")) == str(layout / "abs.json")
    cwd = Path.cwd()
    assert load(sections, layout, section, key, str(cwd / "here.json")) == str(cwd / "here.json")


def test_shipped_configs_pattern_writes_below_the_working_directory(
    layout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """configs/*.yaml name ``../out/...``: fine when run from the project folder, as documented."""
    monkeypatch.chdir(layout.parent)
    assert load(TRAIN, layout, "train", "output", "../out/t.json") == str(layout / "../out/t.json")


def test_the_same_output_from_the_command_line_or_environment_is_allowed(layout: Path, tmp_path: Path) -> None:
    config = layout / "c.yaml"
    config.write_text("train:\n  vocab_size: 300\n", encoding="utf-8")
    outside = str(tmp_path / "outside.json")
    cli = resolve_config(TRAIN, cli={"train": {"output": outside}}, config_path=config, env={})
    env = resolve_config(TRAIN, config_path=config, env={"TOKCLI_TRAIN_OUTPUT": outside})
    assert cli["train"].output == env["train"].output == outside


def test_cli_run_with_an_escaping_config_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    config = tmp_path / "cfg" / "evil.yaml"
    config.write_text(f"corpus:\n  inputs: ['{DATA / 'austen.txt'}']\ntrain:\n  output: ../../x.json\n", "utf-8")
    proc = run_tokcli(["train", "--config", str(config), "--vocab-size", "300"])
    assert proc.returncode == 1
    assert proc.stderr.startswith("tokcli: error: config key 'train.output' (from ") and proc.stderr.count("\n") == 1
    assert not (tmp_path.parent / "x.json").exists()


SOURCES = sorted((ROOT / "tokcli").rglob("*.py"))
FORBIDDEN = {
    r"trust_remote_code": "never run code from the hub",
    r"yaml\.(load|unsafe_load|full_load)\(": "YAML is parsed with safe_load only",
    r"allow_pickle\s*=\s*True": "numpy files are loaded without pickle",
    r"torch\.load|joblib|marshal\.load|shelve": "no code-carrying formats",
    r"\beval\(|\bexec\(": "no evaluation of strings",
}


def test_no_code_is_loaded_from_data() -> None:
    assert len(SOURCES) > 30
    found = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for pattern, why in FORBIDDEN.items():
            if re.search(pattern, text):
                found.append(f"{path.relative_to(ROOT)}: {pattern} ({why})")
    assert found == []


def test_no_pickle_at_all() -> None:
    """Nothing tokcli reads is unpickled: ``tokcli count`` spills its partial counts between map and
    reduce as Arrow IPC files (data only), inside the run's private staging folder."""
    users = [p.relative_to(ROOT).as_posix() for p in SOURCES if "pickle." in p.read_text(encoding="utf-8")]
    assert users == []
    counts = ROOT / "tokcli" / "counts"
    parts, driver = (counts / "parts.py").read_text(encoding="utf-8"), (counts / "count.py").read_text(encoding="utf-8")
    assert "pa.ipc.open_file(" in parts and "mkdtemp" in driver


def test_hub_dataset_fails_fast_offline() -> None:
    proc = run_tokcli(["encode", "-t", str(BPE), "hf:some/dataset"], timeout=60)
    assert proc.returncode == 1
    assert proc.stderr.startswith("tokcli: error: hf:some/dataset:") and proc.stderr.count("\n") == 1
