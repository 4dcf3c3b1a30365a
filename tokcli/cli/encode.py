"""``tokcli encode`` and ``tokcli decode``: text to token ids and back, with any tokenizer file."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import typer

from tokcli.cli.application import app, examples
from tokcli.cli.console import counted, is_tty, progress_bar
from tokcli.cli.options import CORPUS_RENAMES, ResolvedConfig, config_command
from tokcli.corpus import CorpusConfig
from tokcli.encode.options import DecodeConfig, EncodeConfig, resolve_format
from tokcli.errors import InputError
from tokcli.outputs import RunConfig, corpus_inputs, locked_outputs
from tokcli.parallel.options import ScaleConfig

ENCODE_SECTIONS = {"encode": EncodeConfig, "corpus": CorpusConfig, "run": RunConfig, "scale": ScaleConfig}
DECODE_SECTIONS = {"decode": DecodeConfig}
log = logging.getLogger("tokcli")


def _require_tokenizer(spec: str) -> None:
    if not spec:
        raise typer.BadParameter("give the tokenizer file", param_hint="'-t/--tokenizer'")


@app.command(
    "encode",
    epilog=examples(
        "echo 'Hello world' | tokcli encode -t tests/data/tokenizers/bpe-bytelevel.json",
        (
            "tokcli encode -t tests/data/tokenizers/bpe-bytelevel.json tests/data/austen.txt -f bin -o "
            "austen.bin --eos 0"
        ),
        "tokcli encode -t tests/data/tokenizers/spm-bpe-bytefallback.model tests/data/parallel/udhr -f count",
    ),
)
@config_command(
    ENCODE_SECTIONS,
    positional="corpus.inputs",
    rename={**CORPUS_RENAMES, "encode.engine": "--tokenizer-engine"},
    short={"encode.tokenizer": "-t", "encode.output": "-o", "encode.format": "-f"},
)
def encode_command(config: ResolvedConfig) -> None:
    """Encode documents (stdin by default) to token ids, tokens, counts or binary shards.

    Plain text: one document per line, one output line per document. JSON lines, Parquet and other
    corpus formats: one output record per document (jsonl passes the id field through). npy/bin
    write one flat id array plus OUTPUT.index.json with document offsets (nanoGPT-style shards).
    Special tokens are NOT added unless --add-special-tokens is given. Ids equal those of the
    tokenizer's own library (tokenizers, sentencepiece or tiktoken). -o DIR/ (a folder) writes one
    tokens-NNNNN.bin + .idx shard per input split with --engine local|ray and --workers N, and a
    manifest.json last; --resume finishes an interrupted run.
    """
    from tokcli.corpus import Corpus
    from tokcli.encode import encode_documents
    from tokcli.encode.run import corpus_documents
    from tokcli.loading import load_tokenizer

    settings: EncodeConfig = config["encode"]
    corpus_config: CorpusConfig = config["corpus"]
    _require_tokenizer(settings.tokenizer)
    from tokcli.encode.shards import is_shard_output

    if is_shard_output(settings.output):
        _encode_shards(config)
        return
    if settings.resume:
        raise typer.BadParameter("--resume needs a shard folder: -o DIR/", param_hint="'--resume'")
    to_terminal = settings.output in (None, "", "-") and is_tty(sys.stdout)
    fmt = resolve_format(settings.format, to_terminal=to_terminal, output=settings.output)
    settings = dataclasses.replace(settings, format=fmt)
    if not corpus_config.inputs and not corpus_config.mix:
        corpus_config = dataclasses.replace(corpus_config, inputs=("-",))
    # One output line per input line: empty lines are documents too (they encode to nothing).
    corpus_config = dataclasses.replace(corpus_config, keep_empty=True)
    tokenizer = load_tokenizer(settings.tokenizer, pattern=settings.pattern, engine=settings.engine)
    for note in tokenizer.info.notes:
        log.debug("%s: %s", tokenizer.name, note)
    corpus = Corpus(corpus_config)
    inputs = corpus_inputs(corpus_config) | {"--tokenizer": [settings.tokenizer]}
    with (
        locked_outputs([settings.output], config["run"], labels=["-o"], inputs=inputs),
        progress_bar("encoding", unit="docs") as update,
    ):
        result = encode_documents(
            tokenizer,
            corpus_documents(corpus, settings),
            settings,
            progress=lambda p: update(p.docs, description=f"encoding: {p.docs:,} docs, {p.tokens:,} tokens"),
            if_changed=config["run"].if_changed,
        )
    if settings.format == "count":
        log.info("total: %s in %s", counted(result.tokens, "token"), counted(result.docs, "document"))
    elif result.output is not None:
        extra = f" (+ index {result.index})" if result.index else ""
        # the ids in the file: a binary file also holds the --eos id after every document
        written = result.tokens + (result.docs if result.index and result.eos_id is not None else 0)
        what = f"{counted(written, 'id' if result.index else 'token')} of {counted(result.docs, 'document')}"
        log.info("wrote %s to %s%s", what, result.output, extra)
    if corpus.stats.stop_reason == "source_exhausted":
        log.warning("mixture source %s ran out; stopped early", corpus.stats.exhausted_source)


def _encode_shards(config: ResolvedConfig) -> None:
    from tokcli.cli.count import folder_lock
    from tokcli.encode.shards import encode_shards

    settings: EncodeConfig = config["encode"]
    with (
        folder_lock(settings.output, config["run"]),
        progress_bar("encoding", unit="splits") as update,
    ):
        result = encode_shards(
            settings,
            config["corpus"],
            config["scale"],
            progress=lambda done, total: update(done, description=f"encoding: {done}/{total} splits"),
        )
    log.info(
        "wrote %s of %s to %s in %s (%d encoded now, %s engine, %s, %.1f s)",
        counted(result.tokens, "token"),
        counted(result.docs, "document"),
        counted(result.splits, "shard"),
        result.output,
        result.encoded,
        result.engine,
        counted(result.workers, "worker"),
        result.wall_s,
    )


@app.command(
    "decode",
    epilog=examples(
        "echo '40 309 76 79 283 302 497' | tokcli decode -t tests/data/tokenizers/bpe-bytelevel.json",
        (
            "tokcli encode -t tests/data/tokenizers/bpe-bytelevel.json tests/data/austen.txt | tokcli decode "
            "-t tests/data/tokenizers/bpe-bytelevel.json | head -n 1"
        ),
    ),
)
@config_command(DECODE_SECTIONS, short={"decode.tokenizer": "-t", "decode.output": "-o", "decode.format": "-f"})
def decode_command(
    config: ResolvedConfig,
    inputs: list[str] | None = typer.Argument(
        None, metavar="INPUT", help="files of ids (encode's ids, jsonl, bin or npy output); '-' or none: stdin"
    ),
) -> None:
    """Decode token ids (one document per line) back to text."""
    from tokcli.encode import decode_lines, write_decoded
    from tokcli.encode.binary import is_binary_output
    from tokcli.encode.decode import decode_binary
    from tokcli.encode.run import open_text_output
    from tokcli.loading import load_tokenizer

    settings: DecodeConfig = config["decode"]
    _require_tokenizer(settings.tokenizer)
    tokenizer = load_tokenizer(settings.tokenizer, pattern=settings.pattern)

    def documents() -> Iterator[object]:
        for item in inputs or ["-"]:
            if item == "-":
                if sys.stdin.isatty():
                    raise InputError(
                        "decode reads ids from stdin, which is a terminal", hint="pipe ids in or give a file"
                    )
                yield from decode_lines(
                    tokenizer, sys.stdin, input_format=settings.input_format, batch_size=settings.batch_size
                )
                continue
            if is_binary_output(item):  # encode -f bin/npy: the flat ids and their index
                yield from decode_binary(tokenizer, item, batch_size=settings.batch_size)
                continue
            try:
                handle = open(item, encoding="utf-8")  # noqa: SIM115 - closed by the with below
            except OSError as exc:
                raise InputError(f"{item}: {exc.strerror}", hint="check the path") from None
            with handle:
                yield from decode_lines(
                    tokenizer, handle, input_format=settings.input_format, source=item, batch_size=settings.batch_size
                )

    with contextlib.ExitStack() as stack:
        if settings.output in (None, "", "-"):
            stream = sys.stdout
        else:
            stream = stack.enter_context(open_text_output(Path(settings.output)))
        write_decoded(documents(), stream, fmt=settings.format)  # type: ignore[arg-type]
