"""The Ray engine gives the local engine's bytes; private clusters are cleaned up. Skipped without Ray.

All in-process tests share one private local cluster (a session fixture, ~6 s to start); the
subprocess tests start their own, as a real run does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokcli.corpus import CorpusConfig
from tokcli.counts.count import CountConfig, run_count
from tokcli.counts.store import counts_sha256
from tokcli.errors import UsageError
from tokcli.parallel.options import ScaleConfig
from tokcli.parallel.plan import plan_splits

ray = pytest.importorskip("ray")

ROOT = Path(__file__).parents[1]
DATA = ROOT / "tests" / "data"
BPE = str(DATA / "tokenizers" / "bpe-bytelevel.json")
CORPUS = (str(DATA / "austen.txt"), str(DATA / "code"), str(DATA / "parallel" / "udhr"))


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    temp = tempfile.mkdtemp(prefix=f"tokcli-ray-test-{os.getuid()}-", dir="/tmp")
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=128 * 1024 * 1024,
        _temp_dir=temp,
        logging_level="WARNING",
        log_to_driver=False,
    )
    try:
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


def test_count_on_ray_equals_local_at_1_2_and_8_splits(ray_cluster: None, tmp_path: Path) -> None:
    corpus = CorpusConfig(inputs=CORPUS)
    whole = sum(s.size for s in plan_splits(corpus, 10**12))
    local = run_count(CountConfig(output=str(tmp_path / "local"), by="source"), corpus, ScaleConfig())
    expected = counts_sha256(local.output)
    for n in (1, 2, 8):
        size = -(-whole // n)
        out = tmp_path / f"ray{n}"
        result = run_count(
            CountConfig(output=str(out), by="source"), corpus, ScaleConfig(engine="ray", split_size=size)
        )
        assert result.engine == "ray" and result.manifest["splits"] >= n
        assert counts_sha256(out) == expected
        assert [(out / p["file"]).read_bytes() for p in result.manifest["parts"]] == [
            (local.output / p["file"]).read_bytes() for p in local.manifest["parts"]
        ]


def test_encode_shards_on_ray_equal_local(ray_cluster: None, tmp_path: Path) -> None:
    from tokcli.encode.options import EncodeConfig
    from tokcli.encode.shards import encode_shards

    corpus = CorpusConfig(inputs=CORPUS)
    outputs = []
    for engine, workers in [("local", 1), ("ray", 2)]:
        out = tmp_path / engine
        config = EncodeConfig(tokenizer=BPE, output=f"{out}/", eos="0")
        result = encode_shards(config, corpus, ScaleConfig(engine=engine, workers=workers, split_size=30_000))
        assert result.engine == engine and result.splits >= 5
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]


def test_worker_errors_come_back_as_one_line_errors(ray_cluster: None, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": broken\n', encoding="utf-8")
    from tokcli.errors import InputError

    with pytest.raises(InputError, match=r"bad.jsonl:2: malformed JSON"):
        run_count(CountConfig(output=str(tmp_path / "c")), CorpusConfig(inputs=(str(bad),)), ScaleConfig(engine="ray"))
    assert not (tmp_path / "c").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tokcli")]


def _ray_processes(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes().decode("utf-8", "replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _tokcli(*argv: str, ray_address: str | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ADDRESS", None)
    if ray_address is not None:
        env["RAY_ADDRESS"] = ray_address
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        [sys.executable, "-m", "tokcli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def test_cli_private_cluster_keeps_stdout_clean_and_leaves_nothing(tmp_path: Path) -> None:
    temp = Path(tempfile.mkdtemp(prefix="tokcli-ray-cli-", dir="/tmp"))  # explicit: to find this run's processes
    argv = ["count", *CORPUS, "-o", str(tmp_path / "c"), "--engine", "ray", "--workers", "2"]
    proc = _tokcli(*argv, "--ray-temp-dir", str(temp))
    stdout, stderr = proc.communicate(timeout=120)
    shutil.rmtree(temp, ignore_errors=True)
    assert proc.returncode == 0, stderr
    assert json.loads(stdout)["engine"] == "ray"
    deadline = time.monotonic() + 10
    while _ray_processes(str(temp)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _ray_processes(str(temp)) == []


def test_concurrent_runs_never_share_a_cluster(ray_cluster: None, tmp_path: Path) -> None:
    """Two runs at once, with RAY_ADDRESS naming a live cluster (someone else's on a shared server): each
    starts its own private cluster and neither joins the named one."""
    shared = ray.get_runtime_context().gcs_address
    first = _tokcli("count", *CORPUS, "-o", str(tmp_path / "a"), "--engine", "ray", ray_address=shared)
    second = _tokcli("count", *CORPUS, "-o", str(tmp_path / "b"), "--engine", "ray", ray_address=shared)
    overlapped = first.poll() is None  # the second started while the first was still running (Ray starts in ~4 s)
    outputs = [proc.communicate(timeout=120) for proc in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, [err for _, err in outputs]
    addresses = [json.loads(out)["ray_address"] for out, _ in outputs]
    assert overlapped
    assert addresses[0] != addresses[1] and shared not in addresses
    assert counts_sha256(tmp_path / "a") == counts_sha256(tmp_path / "b")


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_ray_encode_leaves_no_output_and_no_processes(tmp_path: Path, how: signal.Signals) -> None:
    big = tmp_path / "big.txt"
    big.write_text((DATA / "austen.txt").read_text(encoding="utf-8") * 300, encoding="utf-8")
    temp = Path(tempfile.mkdtemp(prefix="tokcli-ray-int-", dir="/tmp"))
    out = tmp_path / "shards"
    argv = ["encode", "-t", BPE, str(big), "-o", f"{out}/", "--split-size", "1MB", "--engine", "ray"]
    proc = _tokcli(*argv, "--workers", "2", "--tokenizer-engine", "tokenizers", "--ray-temp-dir", str(temp))
    deadline = time.monotonic() + 60
    while not list(out.glob("tokens-*.done")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(out.glob("tokens-*.done")), "the run never started writing shards"
    proc.send_signal(how)
    proc.communicate(timeout=60)
    if how == signal.SIGINT:
        assert proc.returncode == 130
    assert not (out / "manifest.json").exists()
    deadline = time.monotonic() + 10
    while _ray_processes(str(temp)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _ray_processes(str(temp)) == []
    shutil.rmtree(temp, ignore_errors=True)
    # Resume finishes the run with shards identical to an uninterrupted local run.
    resumed = _tokcli(*argv[:-2], "--resume", "--workers", "2")
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    reference = tmp_path / "ref"
    ok = _tokcli("encode", "-t", BPE, str(big), "-o", f"{reference}/", "--split-size", "1MB")
    assert ok.communicate(timeout=120) and ok.returncode == 0
    names = sorted(p.name for p in reference.iterdir())
    assert names == sorted(p.name for p in out.iterdir())
    assert all((out / n).read_bytes() == (reference / n).read_bytes() for n in names)


def test_missing_ray_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    from tokcli.parallel.ray_engine import import_ray

    with pytest.raises(UsageError, match=r"pip install 'tokcli\[ray\]'"):
        import_ray()
