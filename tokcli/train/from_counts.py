"""``tokcli train --from-counts DIR``: exact training from the pre-token counts of ``tokcli count``.

The result is the file ``tokcli train`` writes from the raw corpus, byte for byte (tested):

* hf-bpe: HF's Python API has no entry point for counts (huggingface/tokenizers#760). Two routes
  (``--from-counts-method``), both exact:

  - ``repeat``: the trainer is fed every unique byte-level pre-token ``count`` times, separated by
    spaces, with a whitespace-split pre-tokenizer, no normalizer and the byte-level alphabet, so it sees
    exactly the word counts it would have computed itself; then the real normalizer and pre-tokenizer
    are put back. The trainer still parses the repeated words, so the cost grows with the number of
    words (fine up to ~10 GB of text).
  - ``merge-loop``: HF's merge loop re-implemented over the unique words (:mod:`tokcli.train.merge_loop`);
    its cost grows with the number of distinct words, not with the corpus. The model it gives is put
    into the same pipeline.

  ``auto`` (the default) takes ``repeat`` below :data:`REPEAT_MAX_BYTES` of counted text, else
  ``merge-loop``.
* spm-bpe: sentencepiece reads ``word<TAB>count`` lines (``input_format=tsv``); with words counted by
  the same normalisation rule it produces the same pieces and scores. The input file name and format
  it records in the model's TrainerSpec are removed, so the .model equals one trained on the corpus.

The counts must have been made with the pre-tokenizer the training options imply (``--preset``,
``--digits`` and ``--normalizer`` for hf-bpe; the normalisation rule for spm-bpe); otherwise the run
stops with the ``tokcli count`` options that would fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tokcli.errors import ConfigError, InputError, OutputError
from tokcli.files import atomic_write, sha256_file
from tokcli.spm_model import TRAINER_SPEC, drop_fields, rewrite_field
from tokcli.train.options import TrainConfig, validate
from tokcli.train.report import Clock, TrainReport, build_report, limit_threads, source_shares

CHUNK_CHARS = 1 << 20  # characters per string handed to the HF trainer
REPEAT_MAX_BYTES = 10 * 1000**3  # auto: above this much counted text, the merge loop instead of repeated words


def from_counts_method(config: TrainConfig, manifest: dict[str, Any]) -> str | None:
    """The hf-bpe route ``config`` takes on counts described by ``manifest`` (None for spm-bpe)."""
    if config.backend != "hf-bpe":
        return None
    method = config.from_counts_method or "auto"
    if method != "auto":
        return method
    return "repeat" if int(manifest.get("bytes", 0)) < REPEAT_MAX_BYTES else "merge-loop"


def expected_pretok(config: TrainConfig) -> dict[str, Any]:
    """The manifest ``pretok`` entry that counts for ``config`` must carry."""
    if config.backend == "spm-bpe":
        from tokcli.train.spm import spm_rule

        return {"kind": "spm", "rule": spm_rule(config.normalizer)}
    return {
        "kind": "hf-bpe",
        "preset": config.preset or "gpt2",
        "digits": config.digits,
        "normalizer": [n for n in config.normalizer if n != "none"],
    }


def _count_flags(pretok: dict[str, Any]) -> str:
    if pretok["kind"] == "spm":
        return f"--pretok spm:{pretok['rule']}"
    flags = f"--pretok {pretok['preset']}"
    if pretok["digits"] != "none":
        flags += f" --digits {pretok['digits']}"
    for name in pretok["normalizer"]:
        flags += f" --normalizer {name}"
    return flags


def check_counts(config: TrainConfig, folder: str, manifest: dict[str, Any]) -> None:
    want = expected_pretok(config)
    have = manifest.get("pretok")
    if have != want:
        shown = _count_flags(have) if isinstance(have, dict) and have.get("kind") in ("spm", "hf-bpe") else str(have)
        raise ConfigError(
            f"{folder}/manifest.json: the counts were made with {shown}, but this {config.backend} training "
            f"pre-tokenizes with {_count_flags(want)}",
            hint=f"recount with 'tokcli count {_count_flags(want)}', or change the training options to match",
        )


def _repeated_words(rows: Iterable[tuple[str, bytes, int]], byte_level: bool) -> Iterator[str]:
    """Each word ``count`` times, space-separated, in strings of about CHUNK_CHARS characters."""
    from tokcli.bpe.byte_level import bytes_to_unicode

    table = bytes_to_unicode()
    buffer: list[str] = []
    size = 0
    for _, word, count in rows:
        text = "".join(table[b] for b in word) if byte_level else word.decode("utf-8")
        unit = text + " "
        while count > 0:
            k = min(count, max(1, CHUNK_CHARS // len(unit)))
            buffer.append(unit * k)
            size += len(unit) * k
            count -= k
            if size >= CHUNK_CHARS:
                yield "".join(buffer)
                buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def _train_hf_from_counts(
    config: TrainConfig, folder: str, manifest: dict[str, Any], method: str
) -> tuple[str, dict[str, Any]]:
    import json

    from tokenizers import pre_tokenizers

    from tokcli.counts.store import iter_counts
    from tokcli.errors import TokcliError
    from tokcli.train.hf import build_tokenizer

    tokenizer, trainer = build_tokenizer(config)
    rows = iter_counts(folder, manifest)
    byte_level = manifest["words_encoding"] == "bytes"
    if method == "merge-loop":
        _merge_loop(tokenizer, config, rows, byte_level)
    else:
        real_pre, real_normalizer = tokenizer.pre_tokenizer, tokenizer.normalizer
        tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        tokenizer.normalizer = None
        try:
            tokenizer.train_from_iterator(_repeated_words(rows, byte_level), trainer=trainer)
        except (TokcliError, MemoryError):
            raise
        except Exception as exc:  # the Rust trainer raises plain Exceptions
            raise ConfigError(
                f"tokenizers could not train hf-bpe: {exc}", hint="check --vocab-size and the counts"
            ) from None
        tokenizer.pre_tokenizer = real_pre
        if real_normalizer is not None:
            tokenizer.normalizer = real_normalizer
    text = tokenizer.to_str(pretty=True)
    model = json.loads(text)["model"]
    return text, {"vocab_size": tokenizer.get_vocab_size(with_added_tokens=True), "merges": len(model["merges"])}


def _merge_loop(tokenizer: Any, config: TrainConfig, rows: Iterable[tuple[str, bytes, int]], byte_level: bool) -> None:
    """Give ``tokenizer`` the BPE model HF's trainer would make from the counted words (route 2)."""
    from tokenizers import models

    from tokcli.bpe.byte_level import bytes_to_unicode
    from tokcli.train.merge_loop import train_bpe

    table = bytes_to_unicode()
    spell = str.maketrans({chr(b): c for b, c in table.items()})  # latin-1 text of a word -> its byte-level text
    words = (
        (word.decode("latin-1").translate(spell) if byte_level else word.decode("utf-8"), count)
        for _, word, count in rows
    )
    model = train_bpe(
        words,
        vocab_size=config.vocab_size,
        min_frequency=config.min_frequency,
        special_tokens=config.special_tokens,
        initial_alphabet=table.values(),
        limit_alphabet=config.limit_alphabet,
        max_token_length=config.max_token_length,
    )
    tokenizer.model = models.BPE(vocab=model.vocab, merges=model.merges)
    if config.special_tokens:
        tokenizer.add_special_tokens(list(config.special_tokens))


def _write_tsv(path: Path, folder: str, manifest: dict[str, Any]) -> None:
    """``word<TAB>count`` per distinct word (sources summed; the leading ``▁`` dropped: sentencepiece
    adds it back when it normalises the word)."""
    from tokcli.counts.store import iter_counts

    totals: dict[bytes, int] = {}
    for _, word, count in iter_counts(folder, manifest):
        totals[word] = totals.get(word, 0) + count
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        for word, count in sorted(totals.items()):
            text = word.decode("utf-8").removeprefix("\u2581")
            if text and "\t" not in text and "\n" not in text:
                handle.write(f"{text}\t{count}\n")


def strip_tsv_input(model: bytes) -> bytes:
    """The .model bytes without TrainerSpec.input (1) and input_format (7), as a corpus-trained model has."""
    return rewrite_field(model, TRAINER_SPEC, lambda spec: drop_fields(spec, {1, 7}))


def train_from_counts(config: TrainConfig, *, if_changed: bool = False) -> TrainReport:
    """Train ``config.backend`` from ``config.from_counts`` and write ``config.output``; a TrainReport."""
    from tokcli.counts.store import read_manifest

    validate(config)
    assert config.output is not None and config.from_counts is not None
    output = Path(config.output)
    if not output.parent.is_dir():
        raise OutputError(f"cannot write {output}: folder {output.parent} does not exist", hint="create it first")
    folder = config.from_counts
    manifest = read_manifest(folder)
    check_counts(config, folder, manifest)
    if not manifest.get("distinct"):
        raise InputError(f"{folder}: the counts are empty", hint="count a non-empty corpus")
    method = from_counts_method(config, manifest)
    limit_threads(config.threads)
    clock = Clock()
    extra: tuple[str, ...] = ()
    if config.backend == "spm-bpe":
        from tokcli.train.spm import run_spm_trainer

        def tsv_input(scratch: Path) -> dict[str, Any]:
            _write_tsv(scratch / "counts.tsv", folder, manifest)
            return {"input": "counts.tsv", "input_format": "tsv"}

        facts = run_spm_trainer(config, output, tsv_input, fix_model=strip_tsv_input)
        extra = (facts.pop("vocab_file"),)
    else:
        text, facts = _train_hf_from_counts(config, folder, manifest, method or "repeat")
        with atomic_write(output, "w", if_changed=if_changed) as handle:
            handle.write(text)
    counts = {name: (entry["docs"], entry["bytes"]) for name, entry in manifest.get("sources", {}).items()}
    return build_report(
        config,
        facts,
        clock=clock,
        sha256=sha256_file(output),
        docs=int(manifest.get("docs", 0)),
        n_bytes=int(manifest.get("bytes", 0)),
        sources=source_shares(counts, int(manifest.get("bytes", 0))),
        stop_reason="end",
        extra_files=extra,
        from_counts_method=method,
    )
