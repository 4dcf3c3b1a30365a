"""HF ``tokenizers`` backends: byte-level BPE (GPT style), Unigram, WordPiece and WordLevel.

The pipeline of a trained tokenizer.json (normalizer, pre-tokenizer, model, decoder) is built here, so
the file encodes exactly as it was trained. Pre-tokenization for hf-bpe: optional digit rule, then the
preset regex (``Split(Regex(...), "isolated")``: a plain ``str`` pattern would be matched literally and
never split), then ``ByteLevel(use_regex=False)`` mapping bytes to the GPT-2 alphabet.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tokcli.pretok.hf import bpe_pre_tokenizer, digit_step, hf_normalizer
from tokcli.train.options import TrainConfig
from tokcli.train.pipe import PIPE_PATH

DEFAULT_UNK = {"hf-unigram": "<unk>", "hf-wordpiece": "[UNK]", "hf-wordlevel": "[UNK]"}


def build_tokenizer(config: TrainConfig) -> tuple[Any, Any]:
    """An untrained ``tokenizers.Tokenizer`` with its pipeline, and the matching trainer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    specials = list(config.special_tokens)
    common: dict[str, Any] = {"vocab_size": config.vocab_size, "show_progress": False}
    trainer: Any
    if config.backend == "hf-bpe":
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = bpe_pre_tokenizer(config.preset, config.digits)
        tokenizer.decoder = decoders.ByteLevel()
        tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
        trainer = trainers.BpeTrainer(
            **common,
            min_frequency=config.min_frequency,
            special_tokens=specials,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            **_optional(max_token_length=config.max_token_length, limit_alphabet=config.limit_alphabet),
        )
    else:
        unk = DEFAULT_UNK[config.backend]
        specials = specials if unk in specials else [unk, *specials]
        digit_steps = digit_step(config.digits)
        if config.backend == "hf-unigram":
            tokenizer = Tokenizer(models.Unigram())
            base: Any = pre_tokenizers.Metaspace()
            tokenizer.decoder = decoders.Metaspace()
            trainer = trainers.UnigramTrainer(
                **common,
                special_tokens=specials,
                unk_token=unk,
                **_optional(max_piece_length=config.max_token_length),
            )
        elif config.backend == "hf-wordpiece":
            tokenizer = Tokenizer(models.WordPiece(unk_token=unk))
            base = pre_tokenizers.BertPreTokenizer()
            tokenizer.decoder = decoders.WordPiece()
            trainer = trainers.WordPieceTrainer(
                **common,
                min_frequency=config.min_frequency,
                special_tokens=specials,
                **_optional(limit_alphabet=config.limit_alphabet),
            )
        else:
            tokenizer = Tokenizer(models.WordLevel(unk_token=unk))
            base = pre_tokenizers.Whitespace()
            trainer = trainers.WordLevelTrainer(**common, min_frequency=config.min_frequency, special_tokens=specials)
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence([*digit_steps, base]) if digit_steps else base
    normalizer = hf_normalizer(config.normalizer)
    if normalizer is not None:
        tokenizer.normalizer = normalizer
    return tokenizer, trainer


def _optional(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def train_hf(config: TrainConfig, batches: Iterable[list[str]], *, feed: str = "pipe") -> tuple[str, dict[str, Any]]:
    """Train from batches of documents; the tokenizer.json text and facts for the report.

    ``feed="pipe"`` (where the platform has ``/dev/fd`` and the run may use 2 threads or more) streams the
    documents to the Rust file reader (:func:`train_through_pipe`); ``"iterator"`` hands them to
    ``train_from_iterator`` (with ``--threads 1``: one thread in all). Both give the same file (tested).
    """
    import json

    from tokcli.errors import ConfigError, TokcliError

    tokenizer, trainer = build_tokenizer(config)
    try:
        threads = training_threads(config)
        if feed == "pipe" and PIPE_PATH is not None and threads > 1:  # the pipe needs a second thread
            serial = config.backend == "hf-bpe" and serial_merges_pay(threads)
            train_through_pipe(tokenizer, trainer, batches, serial_merges=serial)
        else:
            tokenizer.train_from_iterator(batches, trainer=trainer)
    except (TokcliError, MemoryError):
        raise
    except Exception as exc:  # the Rust trainers raise plain Exceptions, e.g. for a too small vocabulary
        raise ConfigError(
            f"tokenizers could not train {config.backend}: {exc}", hint="check --vocab-size and the corpus"
        ) from None
    text = tokenizer.to_str(pretty=True)
    model = json.loads(text)["model"]
    facts = {"vocab_size": tokenizer.get_vocab_size(with_added_tokens=True)}
    if "merges" in model:
        facts["merges"] = len(model["merges"])
    return text, facts


# -- feeding the Rust trainer through a pipe ----------------------------------------------------------
#
# ``train_from_iterator`` pulls documents from Python under rayon's ``par_bridge`` lock: while one
# worker runs the Python iterator (holding the GIL and the lock) the others wait, so reading the corpus
# and counting pre-tokens take turns instead of overlapping. ``Tokenizer.train(files)`` reads lines in
# Rust with no GIL. Here the documents are written, one per line, to an OS pipe that the Rust trainer
# reads as a file (:mod:`tokcli.train.pipe`), so the Python reader and the Rust counters run at the same
# time, and nothing is written to disk.
#
# The Rust file reader keeps each line's ``\n``, which would change the pre-tokens (a trailing newline
# joins the last word or white space under most presets). So during training the normalizer first
# removes that newline and then restores the document exactly: a document's own newlines are written
# as ESC + "n" and its own ESC characters as ESC + "0" (ESC = U+0000), and the training-time normalizer
# undoes this before the real normalizer runs. Each document therefore reaches the pre-tokenizer
# exactly as ``train_from_iterator`` would pass it, and the trainer counts the same words. The real
# normalizer is put back afterwards.

ESC = "\x00"
_ESCAPED_ESC, _ESCAPED_NEWLINE = ESC + "0", ESC + "n"


def escape_document(text: str) -> str:
    """``text`` on one line: ESC -> ESC 0, then newline -> ESC n (undone by :func:`unescape_normalizer`)."""
    if ESC in text:
        text = text.replace(ESC, _ESCAPED_ESC)
    return text.replace("\n", _ESCAPED_NEWLINE)


def unescape_normalizer(real: Any) -> Any:
    """Training-time normalizer for escaped lines: drop the line's newline, unescape, then ``real``."""
    from tokenizers import normalizers

    steps = [
        normalizers.Replace("\n", ""),
        normalizers.Replace(_ESCAPED_NEWLINE, "\n"),
        normalizers.Replace(_ESCAPED_ESC, ESC),
    ]
    if real is not None:
        steps.append(real)
    return normalizers.Sequence(steps)


def encode_batch(batch: list[str]) -> bytes:
    """One batch as UTF-8 lines, documents escaped only when they hold a newline or ESC."""
    joined = "\n".join(batch)
    if joined.count("\n") != len(batch) - 1 or ESC in joined:
        joined = "\n".join(map(escape_document, batch))
    return encode_utf8(joined + "\n")


def encode_utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        from tokcli.errors import InputError

        raise InputError(
            f"a document holds an unpaired surrogate ({exc.object[exc.start : exc.end]!r}), which is not text",
            hint="fix the input, or read it with --errors replace",
        ) from None


def train_through_pipe(
    tokenizer: Any, trainer: Any, batches: Iterable[list[str]], *, serial_merges: bool = False
) -> None:
    """``tokenizer.train`` on the documents of ``batches`` streamed through a pipe (see above).

    ``serial_merges``: once the whole corpus is written, tokenizers' own switch (``TOKENIZERS_PARALLELISM``)
    is turned off for the rest of the call, so the BPE merge loop runs in one thread (see
    :func:`serial_merges_pay`); counting has already started in parallel and stays so. The merges are the
    same either way (tested).
    """
    from tokcli.train import pipe  # the submodule (its PIPE_PATH may be patched in tests)

    real_normalizer = tokenizer.normalizer
    tokenizer.normalizer = unescape_normalizer(real_normalizer)
    with parallelism_switch(serial_merges) as to_serial:
        pipe.train_through_pipe(
            lambda path: tokenizer.train([path], trainer=trainer), map(encode_batch, batches), on_input_end=to_serial
        )
    tokenizer.normalizer = real_normalizer


# tokenizers decides at each parallel step (each BPE merge among them) whether to use its rayon pool by
# reading TOKENIZERS_PARALLELISM, so the merge loop can be made serial while a training runs. On 2 CPUs
# the merge loop was faster in one thread than in two (50 MB, vocab 32,000: 2.9-3.0 s vs 3.3-4.1 s): most of the
# ~32,000 steps touch few words, and a fork-join per step costs more than it saves. Measured only up to
# 2 CPUs, so only used there.
PARALLELISM = "TOKENIZERS_PARALLELISM"
_OFF = ("", "off", "false", "f", "no", "n", "0")  # what tokenizers reads as "off"
SERIAL_MERGES_MAX_THREADS = 2


def serial_merges_pay(threads: int) -> bool:
    """Whether to run the BPE merge loop serially when training with ``threads`` threads."""
    return threads <= SERIAL_MERGES_MAX_THREADS


def training_threads(config: TrainConfig) -> int:
    """Threads a training may use: the CPUs available, capped by ``--threads`` and ``TOKCLI_THREADS``."""
    from tokcli.resources import cpu_budget

    budget = cpu_budget()
    return min(budget, config.threads) if config.threads else budget


@contextlib.contextmanager
def parallelism_switch(enabled: bool) -> Iterator[Callable[[], None] | None]:
    """Yield a function that turns tokenizers' parallelism off (None when not enabled or already off).

    The variable is changed with libc's ``setenv``, not ``os.environ``: the Rust thread reads it while
    it is changed, and glibc never frees a value it replaces (``os.environ`` would free the old string
    as soon as it is replaced). It is created before the training thread starts, so the change replaces
    a pointer in place; the previous state is restored when the call ends.
    """
    previous = os.environ.get(PARALLELISM)
    if not enabled or (previous is not None and previous.strip().lower() in _OFF):
        yield None
        return
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        setenv, unsetenv = libc.setenv, libc.unsetenv
    except (OSError, AttributeError):
        yield None
        return
    name = PARALLELISM.encode()
    setenv(name, (previous if previous is not None else "true").encode(), 1)
    try:
        yield lambda: setenv(name, b"false", 1)
    finally:
        if previous is None:
            unsetenv(name)
        else:
            setenv(name, previous.encode(), 1)
