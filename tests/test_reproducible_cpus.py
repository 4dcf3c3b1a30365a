"""The same ``tokcli train`` command gives the same files on machines with 1, 2 or 16 CPUs.

Each machine is a subprocess that sees N CPUs: ``os.sched_getaffinity`` and ``os.cpu_count`` answer N,
``RAYON_NUM_THREADS=N`` sizes the Rust pool as on such a machine, and for N = 1 the process is also
really pinned to one CPU. Every backend the README calls reproducible is trained there through the real
CLI, and the files (``.vocab`` too for spm) must be byte-identical across N. spm-unigram's pieces depend
on sentencepiece's num_threads, so this fails whenever num_threads follows the CPU count; the others
fail if the .model records the thread count it ran with.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
UDHR = DATA / "parallel" / "udhr"
LATIN = ("eng", "fra", "deu_1996")  # all of tests/data has too many characters (1302) for 1000 spm pieces
CORPUS = [str(DATA / "austen.txt"), str(DATA / "code"), *(str(UDHR / f"{code}.jsonl") for code in LATIN)]
CPU_COUNTS = (1, 2, 16)

# Runs every command of the JSON list argv[2] through tokcli's real entry point on an "N-CPU machine"
# (N = argv[1]); prints the exit codes as JSON, the commands' stderr goes to this process's stderr.
WRAPPER = """
import json, os, sys
n = int(sys.argv[1])
if n == 1 and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
os.sched_getaffinity = lambda pid: set(range(n))
os.cpu_count = lambda: n
from tokcli.cli.app import main
codes = []
for argv in json.loads(sys.argv[2]):
    codes.append(int(main(argv)))
print(json.dumps(codes))
"""

# name -> (commands before the training, training arguments, output file name)
CASES: dict[str, tuple[list[list[str]], list[str], str]] = {
    "hf-bpe": ([], [*CORPUS, "--vocab-size", "1000"], "bpe.json"),
    "hf-bpe-superword": ([], [*CORPUS, "--vocab-size", "1000", "--superword-transition", "700"], "super.json"),
    "hf-wordlevel": ([], [*CORPUS, "--backend", "hf-wordlevel", "--vocab-size", "1000"], "wordlevel.json"),
    "spm-bpe": ([], [*CORPUS, "--backend", "spm-bpe", "--vocab-size", "1000"], "bpe.model"),
    "spm-unigram": ([], [*CORPUS, "--backend", "spm-unigram", "--vocab-size", "1000"], "unigram.model"),
    "spm-char": ([], [*CORPUS, "--backend", "spm-char", "--vocab-size", "300"], "char.model"),
    "spm-word": ([], [*CORPUS, "--backend", "spm-word", "--vocab-size", "1000"], "word.model"),
    "hf-bpe-from-counts": (
        [["count", *CORPUS, "--pretok", "gpt2", "-o", "{dir}/counts-gpt2"]],
        ["--from-counts", "{dir}/counts-gpt2", "--vocab-size", "1000"],
        "counts-bpe.json",
    ),
    "hf-bpe-from-counts-merge-loop": (
        [],  # the counts of the case above
        ["--from-counts", "{dir}/counts-gpt2", "--from-counts-method", "merge-loop", "--vocab-size", "1000"],
        "counts-merge-loop.json",
    ),
    "spm-bpe-from-counts": (
        [["count", *CORPUS, "--pretok", "spm:nmt_nfkc", "-o", "{dir}/counts-spm"]],
        ["--from-counts", "{dir}/counts-spm", "--backend", "spm-bpe", "--vocab-size", "1000"],
        "counts-bpe.model",
    ),
}


def machine_env(cpus: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKCLI_") and not k.startswith("RAYON_")}
    env.pop("TOKENIZERS_PARALLELISM", None)  # as on a real machine: tokenizers' pool on (conftest turns it off)
    env["RAYON_NUM_THREADS"] = str(cpus)
    return env


def run_machine(cpus: int, folder: Path) -> None:
    """Run every case's commands in one subprocess that sees ``cpus`` CPUs, writing into ``folder``."""
    folder.mkdir()
    commands: list[list[str]] = []
    for before, train, output in CASES.values():
        commands += [[arg.format(dir=folder) for arg in argv] for argv in before]
        commands.append(["-q", "train", *(arg.format(dir=folder) for arg in train), "-o", str(folder / output)])
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(cpus), json.dumps(commands)],
        env=machine_env(cpus), cwd=folder, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    codes = json.loads(done.stdout.strip().splitlines()[-1])
    failed = [" ".join(argv) for argv, code in zip(commands, codes, strict=True) if code != 0]
    assert not failed, f"{failed} failed on {cpus} CPUs:\n{done.stderr}"


@pytest.fixture(scope="module")
def machines(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    root = tmp_path_factory.mktemp("machines")
    folders = {cpus: root / f"cpus{cpus}" for cpus in CPU_COUNTS}
    for cpus, folder in folders.items():
        run_machine(cpus, folder)
    return folders


@pytest.mark.parametrize("case", list(CASES))
def test_same_files_on_1_2_and_16_cpus(machines: dict[int, Path], case: str) -> None:
    output = CASES[case][2]
    names = [output, str(Path(output).with_suffix(".vocab"))] if output.endswith(".model") else [output]
    differ = {}
    for name in names:
        files = {cpus: (folder / name).read_bytes() for cpus, folder in machines.items()}
        assert files[1], name
        differ[name] = [cpus for cpus, data in files.items() if data != files[1]]
    assert not any(differ.values()), f"CPU counts whose file differs from the 1-CPU file: {differ}"


def test_spm_models_record_the_fixed_thread_count(machines: dict[int, Path]) -> None:
    from sentencepiece import sentencepiece_model_pb2

    from tokcli.train.spm import SPM_NUM_THREADS

    for output in (o for _, _, o in CASES.values() if o.endswith(".model")):
        proto = sentencepiece_model_pb2.ModelProto()
        proto.ParseFromString((machines[2] / output).read_bytes())
        assert proto.trainer_spec.num_threads == SPM_NUM_THREADS, output


def _train(tmp_path: Path, name: str, *flags: str) -> tuple[dict[str, object], int]:
    """Train in this process; the report and the num_threads the .model records."""
    from sentencepiece import sentencepiece_model_pb2

    from tokcli.cli.app import main

    output = tmp_path / name
    report = tmp_path / f"{name}.report.json"
    assert main(["-q", "train", *CORPUS, *flags, "-o", str(output), "--report", str(report)]) == 0
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(output.read_bytes())
    return json.loads(report.read_text()), proto.trainer_spec.num_threads


def test_threads_cap_cpu_but_keep_the_file_where_they_do_not_change_the_pieces(tmp_path: Path) -> None:
    flags = ("--backend", "spm-word", "--vocab-size", "1000")
    default, recorded = _train(tmp_path, "default.model", *flags)
    assert default["threads_change_result"] is False and recorded == 16
    one, recorded = _train(tmp_path, "one.model", *flags, "--threads", "1")
    assert one["threads_change_result"] is False and recorded == 16
    assert (tmp_path / "one.model").read_bytes() == (tmp_path / "default.model").read_bytes()
    assert (tmp_path / "one.vocab").read_bytes() == (tmp_path / "default.vocab").read_bytes()


def test_spm_unigram_threads_are_fixed_unless_given_and_the_report_says_they_matter(tmp_path: Path) -> None:
    flags = ("--backend", "spm-unigram", "--vocab-size", "1000")
    default, recorded = _train(tmp_path, "default.model", *flags)
    assert default["threads_change_result"] is True and recorded == 16
    two, recorded = _train(tmp_path, "two.model", *flags, "--threads", "2")
    assert two["threads_change_result"] is True and recorded == 2  # the file says how it was trained
    _, recorded = _train(tmp_path, "sixteen.model", *flags, "--threads", "16")
    assert recorded == 16
    assert (tmp_path / "sixteen.model").read_bytes() == (tmp_path / "default.model").read_bytes()
