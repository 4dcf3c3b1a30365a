"""sentencepiece backends: BPE, Unigram, char and word models, trained from an iterator.

sentencepiece writes ``PREFIX.model`` and ``PREFIX.vocab`` itself, so it trains into a temporary folder
next to the output; both files are then moved into place with ``os.replace`` (same file system, atomic).
Its C++ logging is silenced (``minloglevel``) so stdout stays data-only.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from tokcli.errors import OutputError, TokcliError
from tokcli.spm_model import (
    MAX_SENTENCE_LENGTH,
    NUM_THREADS,
    TRAINER_SPEC,
    drop_fields,
    rewrite_field,
    set_varint_field,
)
from tokcli.train.options import THREADS_CHANGE_RESULT, TrainConfig

# num_threads of every spm training unless train.threads is given, and the value every .model records:
# sentencepiece's own default (TrainerSpec.num_threads), never the machine's CPU count. spm-unigram's
# pieces and scores depend on it (see THREADS_CHANGE_RESULT), so it must not follow the machine.
SPM_NUM_THREADS = 16
SPM_MAX_THREADS = 1024  # sentencepiece refuses more
# tokcli normalizer chain -> sentencepiece normalization rule
_RULES = {(): "nmt_nfkc", ("none",): "identity", ("nfkc",): "nfkc", ("nfkc", "lowercase"): "nfkc_cf"}


def spm_rule(normalizer: tuple[str, ...]) -> str:
    try:
        return _RULES[normalizer]
    except KeyError:
        from tokcli.errors import ConfigError

        raise ConfigError(
            f"train.normalizer {list(normalizer)} has no sentencepiece equivalent",
            hint="for spm-* use none, nfkc, or nfkc + lowercase",
        ) from None


def spm_num_threads(config: TrainConfig) -> int:
    """sentencepiece's ``num_threads`` for ``config``.

    Where the pieces depend on it (:data:`THREADS_CHANGE_RESULT`: spm-unigram, whose E-step sums each
    thread's share of the sentences in floating point) it is ``train.threads`` when given, else
    :data:`SPM_NUM_THREADS` whatever the machine. Elsewhere it only sets the CPU use: the CPUs available,
    capped by ``--threads``/``TOKCLI_THREADS``; the .model then records SPM_NUM_THREADS
    (:func:`record_fixed_threads`), so the file does not depend on it either.
    """
    if config.backend in THREADS_CHANGE_RESULT:
        return config.threads or SPM_NUM_THREADS
    from tokcli.train.hf import training_threads

    return min(training_threads(config), SPM_MAX_THREADS)


def record_fixed_threads(model: bytes) -> bytes:
    """The .model bytes with TrainerSpec.num_threads set to :data:`SPM_NUM_THREADS` (in place, so the
    bytes are those of a run with that many threads)."""
    return rewrite_field(model, TRAINER_SPEC, lambda spec: set_varint_field(spec, NUM_THREADS, SPM_NUM_THREADS))


def spm_options(config: TrainConfig) -> dict[str, Any]:
    """The sentencepiece trainer options of ``config`` (shared by corpus and counts training)."""
    options: dict[str, Any] = {
        "model_type": config.backend.removeprefix("spm-"),
        "vocab_size": config.vocab_size,
        "character_coverage": 0.9995 if config.character_coverage is None else config.character_coverage,
        "byte_fallback": bool(config.byte_fallback),
        "split_digits": config.digits == "single",
        "normalization_rule_name": spm_rule(config.normalizer),
        "num_threads": spm_num_threads(config),
        "minloglevel": 2,
        "hard_vocab_limit": True,
        "max_sentence_length": MAX_SENTENCE_LENGTH,
    }
    if config.max_token_length is not None:
        options["max_sentencepiece_length"] = config.max_token_length
    if config.special_tokens:
        options["user_defined_symbols"] = list(config.special_tokens)
    if config.backend == "spm-word" or config.backend == "spm-char":
        options.pop("split_digits")
    return options


def train_spm(config: TrainConfig, batches: Iterable[list[str]], output: Path, *, feed: str = "pipe") -> dict[str, Any]:
    """Train and move ``.model``/``.vocab`` next to ``output``; returns facts for the report.

    sentencepiece's unit is a sentence (a line): it silently skips any input longer than
    max_sentence_length bytes, so documents are fed line by line (blank lines dropped). ``feed="pipe"``
    (where the platform has ``/dev/fd`` and the run may use 2 threads or more) streams the lines to
    sentencepiece's own file reader through a pipe (:mod:`tokcli.train.pipe`: no copy on disk, no GIL
    round trip per sentence); ``"iterator"`` hands them to ``sentence_iterator``. Both give the same
    files (tested).
    """
    from tokcli.train.hf import training_threads
    from tokcli.train.pipe import PIPE_PATH

    if feed == "pipe" and PIPE_PATH is not None and training_threads(config) > 1:
        return run_spm_trainer(config, output, lambda scratch: {}, stream=map(batch_lines_bytes, batches))

    def sentences() -> Iterator[str]:
        for batch in batches:
            yield from batch_sentences(batch)[0]

    return run_spm_trainer(config, output, lambda scratch: {"sentence_iterator": sentences()})


# Line boundaries of str.splitlines besides "\n" (sentencepiece's reader splits at "\n" only).
_OTHER_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def batch_sentences(batch: list[str]) -> tuple[list[str], str | None]:
    """The sentences of a batch of documents: the lines of every document (``str.splitlines``) that are
    not blank; and, when they are the documents themselves, the batch joined by newlines (else None).

    The batch is joined once; when no document holds a line boundary and none is blank (the usual
    case: checked with C-level searches) the documents are the answer, else the joined text is split
    once (the joins only add empty lines, which are dropped like blank ones)."""
    text = "\n".join(batch)
    if (
        text.count("\n") == len(batch) - 1
        and all(map(str.strip, batch))  # no blank document (strip returns the document itself when it can)
        and not any(mark in text for mark in _OTHER_BREAKS)
    ):
        return batch, text
    return list(filter(str.strip, text.splitlines())), None


def batch_lines_bytes(batch: list[str]) -> bytes:
    """The sentences of a batch, one per line, as UTF-8."""
    from tokcli.train.hf import encode_utf8

    lines, text = batch_sentences(batch)
    if text is None:
        text = "\n".join(lines)
    return encode_utf8(text + "\n") if lines else b""


def _as_if_not_piped(model: bytes) -> bytes:
    """The .model bytes as the ``sentence_iterator`` run writes them: TrainerSpec.input (1) and
    input_format (7) dropped, model_prefix (2) the relative ``m`` the other runs train with."""
    return rewrite_field(model, TRAINER_SPEC, lambda spec: rewrite_field(drop_fields(spec, {1, 7}), 2, lambda _: b"m"))


def _then(first: Callable[[bytes], bytes] | None, second: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    return second if first is None else lambda data: second(first(data))


def run_spm_trainer(
    config: TrainConfig,
    output: Path,
    source: Callable[[Path], dict[str, Any]],
    fix_model: Callable[[bytes], bytes] | None = None,
    stream: Iterable[bytes] | None = None,
) -> dict[str, Any]:
    """Train in a scratch folder next to ``output`` with the input options ``source(scratch)`` gives,
    optionally rewrite the .model bytes (``fix_model``), then move ``.model``/``.vocab`` into place.

    ``stream``: the input text, as chunks of UTF-8 lines sent through a pipe (``source`` is then unused)."""
    import sentencepiece as spm

    options = spm_options(config)
    vocab_path = output.with_suffix(".vocab")
    scratch = _make_scratch(output)
    try:
        prefix = scratch / "m"
        _train_in(scratch, options, source, stream)
        if stream is not None:
            fix_model = _as_if_not_piped
        if config.backend not in THREADS_CHANGE_RESULT and options["num_threads"] != SPM_NUM_THREADS:
            # num_threads only set the CPU use: the file records the fixed value, as on any machine
            fix_model = _then(fix_model, record_fixed_threads)
        if fix_model is not None:
            model = prefix.with_suffix(".model")
            model.write_bytes(fix_model(model.read_bytes()))
        os.replace(prefix.with_suffix(".vocab"), vocab_path)
        os.replace(prefix.with_suffix(".model"), output)
    finally:
        _remove_scratch(scratch)
    processor = spm.SentencePieceProcessor(model_file=str(output))
    return {"vocab_size": processor.get_piece_size(), "vocab_file": str(vocab_path)}


def _make_scratch(output: Path) -> Path:
    """A new scratch folder next to ``output`` (same file system, so the results move atomically)."""
    try:
        return Path(tempfile.mkdtemp(prefix=".tokcli-spm-", dir=output.parent))
    except OSError as exc:
        raise OutputError(f"cannot write in {output.parent}: {exc.strerror}") from exc


def _train_in(
    scratch: Path,
    options: dict[str, Any],
    source: Callable[[Path], dict[str, Any]],
    stream: Iterable[bytes] | None,
) -> None:
    """Run sentencepiece's trainer into ``scratch/m.model`` and ``m.vocab``; its errors as ConfigError."""
    import sentencepiece as spm

    prefix = scratch / "m"
    # The .model stores model_prefix in its TrainerSpec: a relative prefix (trained from inside the
    # scratch folder) keeps the random folder name out of it, so reruns give byte-identical files.
    previous_cwd = os.getcwd()
    try:
        if stream is not None:
            # The corpus is read while sentencepiece trains, so the working folder stays as it is
            # (relative input paths); the absolute prefix is replaced by "m" in the model (_as_if_not_piped).
            from tokcli.train.pipe import train_through_pipe

            def train(path: str) -> None:
                spm.SentencePieceTrainer.train(input=path, model_prefix=str(prefix), **options)

            train_through_pipe(train, stream)
        else:
            inputs = source(scratch)
            os.chdir(scratch)
            spm.SentencePieceTrainer.train(model_prefix="m", **inputs, **options)
    except TokcliError:
        raise
    except RuntimeError as exc:
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        from tokcli.errors import ConfigError

        raise ConfigError(
            f"sentencepiece could not train: {message}", hint="check --vocab-size and the corpus"
        ) from None
    finally:
        os.chdir(previous_cwd)


def _remove_scratch(scratch: Path) -> None:
    """Remove the scratch folder and whatever is left in it (a failed run's files)."""
    for leftover in scratch.glob("*"):
        with contextlib.suppress(OSError):
            leftover.unlink()
    with contextlib.suppress(OSError):
        os.rmdir(scratch)
