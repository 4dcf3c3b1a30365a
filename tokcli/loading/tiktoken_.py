"""tiktoken ranks files (``.tiktoken``) and tiktoken-style JSON vocabularies (Mistral ``tekken.json``).

A ranks file holds one ``BASE64_TOKEN RANK`` line per mergeable token (tiktoken ``load_tiktoken_bpe``)
and nothing else: the pre-tokenization regex and the special tokens come from the well-known files'
definitions (matched by SHA-256) or from the user (``--pattern``).

``tekken.json`` (mistral_common ``tokens/tokenizers/tekken.py``): ``config.pattern`` is the regex;
``vocab[i]`` has ``rank == i`` and base64 ``token_bytes``; only the first
``default_vocab_size - default_num_special_tokens`` entries are used; the ``default_num_special_tokens``
special ids come first, so a token's id is its rank plus that number. Special tokens are never parsed
from text.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokcli.bpe.ranks import rebuild_merges, split_bytes
from tokcli.errors import ConfigError, TokenizerError
from tokcli.loading.base import LoadedTokenizer, TokenizerInfo
from tokcli.pretok.presets import KNOWN_RANKS_FILES, PRESETS

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from tiktoken import Encoding

    from tokcli.loading.base import IdArrays

# A special token for encodings that have none (see TiktokenEngine.encode_batch_array): noncharacters.
_NEVER_IN_TEXT = "\U0010fffe\U0010ffff<|tokcli: never in text|>"

# Special tokens of the well-known encodings (tiktoken_ext/openai_public.py).
KNOWN_SPECIAL_TOKENS: dict[str, dict[str, int]] = {
    "r50k_base": {"<|endoftext|>": 50256},
    "p50k_base": {"<|endoftext|>": 50256},
    "cl100k_base": {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    },
    "o200k_base": {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
}


def resolve_pattern(pattern: str, *, key: str = "pattern") -> str:
    """A preset name (tiktoken spelling of tokcli.pretok.presets) or a raw regex, returned as a regex."""
    if pattern in PRESETS:
        return PRESETS[pattern].tiktoken
    if pattern.replace("_", "").replace("-", "").isalnum():  # looks like a name, not a regex
        choices = ", ".join(sorted(PRESETS))
        raise ConfigError(f"unknown {key} preset {pattern!r}", hint=f"choose one of: {choices}, or give a regex")
    return pattern


def read_ranks_file(path: Path) -> dict[bytes, int]:
    """Parse a ranks file; a TokenizerError names the first malformed line."""
    ranks: dict[bytes, int] = {}
    seen: set[int] = set()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TokenizerError(f"cannot read tokenizer {path}: {exc.strerror}") from exc
    for lineno, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            if len(fields) != 2:
                raise ValueError
            token, rank = base64.b64decode(fields[0], validate=True), int(fields[1])
        except (ValueError, binascii.Error):
            shown = line[:60].decode("utf-8", "replace")
            raise TokenizerError(
                f"{path}:{lineno}: malformed ranks line {shown!r}",
                hint="each line must be a base64 token, a space and an integer rank",
            ) from None
        if token in ranks or rank in seen:
            raise TokenizerError(f"{path}:{lineno}: duplicate token or rank {rank}", hint="the file is corrupt")
        ranks[token] = rank
        seen.add(rank)
    if not ranks:
        raise TokenizerError(f"{path}: empty ranks file", hint="check the file")
    return ranks


def check_ranks(ranks: Mapping[bytes, int], where: str) -> None:
    """tiktoken needs every single byte to be a token (it aborts on an unknown byte otherwise)."""
    missing = [b for b in range(256) if bytes([b]) not in ranks]
    if missing:
        raise TokenizerError(
            f"{where}: {len(missing)} single bytes have no rank (first: 0x{missing[0]:02x})",
            hint="a byte-level BPE vocabulary must hold all 256 bytes",
        )


def build_encoding(
    name: str, pattern: str, ranks: dict[bytes, int], special_tokens: dict[str, int], where: str
) -> Encoding:
    import tiktoken

    try:
        return tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=special_tokens)
    except ValueError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{where}: bad pre-tokenization pattern: {first}", hint="fix the regex") from None


class TiktokenEngine:
    """Batch encoding/decoding with a tiktoken Encoding (shared by ranks files and fast HF BPE)."""

    def __init__(self, encoding: Encoding, *, parse_specials: bool) -> None:
        self.encoding = encoding
        self.parse_specials = parse_specials
        self._core: Any = None

    def encode_batch(self, texts: Sequence[str], threads: int) -> list[list[int]]:
        texts = list(texts)
        if threads <= 1:  # tiktoken's *_batch always start a thread pool, even of one thread
            if self.parse_specials:
                return [self.encoding.encode(t, allowed_special="all") for t in texts]
            return [self.encoding.encode_ordinary(t) for t in texts]
        if self.parse_specials:
            return self.encoding.encode_batch(texts, num_threads=threads, allowed_special="all")
        return self.encoding.encode_ordinary_batch(texts, num_threads=threads)

    def encode_batch_array(self, texts: Sequence[str], threads: int) -> IdArrays | None:
        """The ids of ``encode_batch`` as one array of every text's ids in order, and the number per
        text, without Python lists (tiktoken's buffer output); None with a tiktoken too old to give it.

        The buffer comes from tiktoken's ``encode``, which looks for special tokens first: with no
        special token at all its search pattern is empty and matches at every character, so an
        encoding without any gets one that never occurs in text (not allowed, it would be encoded as
        ordinary text like anything else: the ids are those of ``encode_ordinary``).
        """
        import numpy as np

        core = self._array_core()
        if core is None:
            return None
        allowed = self.encoding.special_tokens_set if self.parse_specials else set()

        def encode(text: str) -> npt.NDArray[np.uint32]:
            try:
                buffer = core.encode_to_tiktoken_buffer(text, allowed)
            except UnicodeEncodeError:  # lone surrogates: as tiktoken's encode and encode_ordinary do
                text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
                buffer = core.encode_to_tiktoken_buffer(text, allowed)
            return np.frombuffer(buffer, dtype=np.uint32)

        texts = list(texts)
        if threads <= 1 or len(texts) < 2:
            arrays = [encode(t) for t in texts]
        else:
            # A few runs of texts of about equal length per thread, not one task per text as
            # tiktoken's *_batch (a Python future and two GIL hand-overs per text).
            from concurrent.futures import ThreadPoolExecutor

            sizes = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)))
            parts = min(len(texts), 4 * threads)
            cuts = np.searchsorted(sizes, sizes[-1] * np.arange(1, parts) / parts).tolist()
            runs = [texts[a:b] for a, b in zip([0, *cuts], [*cuts, len(texts)], strict=True) if b > a]
            with ThreadPoolExecutor(threads) as pool:
                arrays = [a for run in pool.map(lambda run: [encode(t) for t in run], runs) for a in run]
        counts = np.fromiter(map(len, arrays), dtype=np.int64, count=len(arrays))
        ids = np.concatenate(arrays, dtype=np.int64) if arrays else np.zeros(0, dtype=np.int64)
        return ids, counts

    def _array_core(self) -> Any:
        """The tiktoken CoreBPE that gives buffers (see :meth:`encode_batch_array`), built once."""
        if self._core is None:
            core = self.encoding._core_bpe
            if not hasattr(core, "encode_to_tiktoken_buffer"):
                return None
            if not self.encoding.special_tokens_set:
                import tiktoken

                special = {_NEVER_IN_TEXT: self.encoding.max_token_value + 1}
                core = tiktoken.Encoding(
                    self.encoding.name,
                    pat_str=self.encoding._pat_str,
                    mergeable_ranks=self.encoding._mergeable_ranks,
                    special_tokens=special,
                )._core_bpe
            self._core = core
        return self._core

    def decode_bytes(self, ids: Sequence[int]) -> bytes:
        return self.encoding.decode_bytes(list(ids))


class TiktokenTokenizer(LoadedTokenizer):
    """A ranks file or tekken vocabulary, encoded by tiktoken (the reference library)."""

    def __init__(
        self,
        info: TokenizerInfo,
        encoding: Encoding,
        ranks: dict[bytes, int],
        special_tokens: dict[str, int],
        *,
        bos_id: int | None = None,
    ) -> None:
        self.info = info
        self._engine = TiktokenEngine(encoding, parse_specials=False)
        self._ranks = ranks
        self._special = special_tokens
        self._bos_id = bos_id
        self._size = max(max(ranks.values()), max(special_tokens.values(), default=-1)) + 1

    @property
    def vocab_size(self) -> int:
        return self._size

    @property
    def pattern(self) -> str:
        """The pre-tokenization regex the ranks are applied under."""
        return str(self._engine.encoding._pat_str)

    def encode_batch(
        self, texts: Sequence[str], *, add_special_tokens: bool = False, threads: int = 1
    ) -> list[list[int]]:
        out = self._engine.encode_batch(texts, threads)
        if add_special_tokens and self._bos_id is not None:
            out = [[self._bos_id, *ids] for ids in out]
        return out

    def encode_batch_array(self, texts: Sequence[str], *, threads: int = 1) -> IdArrays | None:
        return self._engine.encode_batch_array(texts, threads)

    def decode_batch(self, ids: Sequence[Sequence[int]]) -> list[str]:
        table = self.token_bytes_table
        return [b"".join(table[i] for i in seq).decode("utf-8", "replace") for seq in ids]

    def _build_token_bytes(self) -> list[bytes]:
        table = [b""] * self._size
        for token, rank in self._ranks.items():
            table[rank] = token
        for text, token_id in self._special.items():
            table[token_id] = text.encode("utf-8")
        return table

    @property
    def special_tokens(self) -> Mapping[str, int]:
        return dict(self._special)

    def merges(self) -> list[tuple[bytes, bytes]] | None:
        ordered = [token for token, _ in sorted(self._ranks.items(), key=lambda item: item[1])]
        merges, _ = rebuild_merges(ordered, split_bytes)
        return merges

    def token_to_id(self, token: str) -> int | None:
        if token in self._special:
            return self._special[token]
        return self._ranks.get(token.encode("utf-8"))


def load_ranks_file(path: Path, name: str, sha256: str, pattern: str | None) -> TiktokenTokenizer:
    ranks = read_ranks_file(path)
    check_ranks(ranks, str(path))
    known = KNOWN_RANKS_FILES.get(sha256)
    notes: list[str] = []
    special: dict[str, int] = {}
    if known is not None:
        encoding_name, preset = known
        special = dict(KNOWN_SPECIAL_TOKENS.get(encoding_name, {}))
        notes.append(f"recognised as {encoding_name} by SHA-256")
        if pattern is None:
            pattern = preset
    if pattern is None:
        raise ConfigError(
            f"{path}: a tiktoken ranks file has no pre-tokenization pattern",
            hint="give one with --pattern (a preset: " + ", ".join(sorted(PRESETS)) + "; or a regex)",
        )
    regex = resolve_pattern(pattern)
    encoding = build_encoding(name, regex, ranks, special, str(path))
    info = TokenizerInfo(name, path, "tiktoken", "bpe", "tiktoken", sha256, tuple(notes))
    return TiktokenTokenizer(info, encoding, ranks, special)


def _tekken_error(path: Path, what: str) -> TokenizerError:
    return TokenizerError(f"{path}: not a valid tekken vocabulary: {what}", hint="check the file")


def load_tekken(path: Path, data: dict[str, Any], name: str, sha256: str, pattern: str | None) -> TiktokenTokenizer:
    config = data.get("config")
    vocab = data.get("vocab")
    if not isinstance(config, dict) or not isinstance(vocab, list):
        raise _tekken_error(path, "expected keys 'config' (object) and 'vocab' (list)")
    specials_raw = data.get("special_tokens") or []
    num_special = int(config.get("default_num_special_tokens", len(specials_raw)))
    vocab_size = int(config.get("default_vocab_size", len(vocab) + num_special))
    inner = vocab_size - num_special
    if inner > len(vocab) or inner < 256:
        raise _tekken_error(path, f"config.default_vocab_size {vocab_size} does not fit {len(vocab)} tokens")
    ranks: dict[bytes, int] = {}
    for index, entry in enumerate(vocab[:inner]):
        try:
            token = base64.b64decode(entry["token_bytes"], validate=True)
            rank = int(entry["rank"])
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise _tekken_error(path, f"vocab[{index}] needs 'rank' and base64 'token_bytes'") from None
        if rank != index:
            raise _tekken_error(path, f"vocab[{index}] has rank {rank}")
        ranks[token] = rank + num_special  # shifting every rank keeps the merge order unchanged
    check_ranks({t: r - num_special for t, r in ranks.items()}, str(path))
    special: dict[str, int] = {}
    for index, entry in enumerate(specials_raw):
        try:
            special[str(entry["token_str"])] = int(entry.get("rank", index))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise _tekken_error(path, f"special_tokens[{index}] needs 'token_str'") from None
    for filler in range(len(special), num_special):  # mistral_common fills unused special ids
        special.setdefault(f"<SPECIAL_{filler}>", filler)
    if pattern is None:
        pattern = config.get("pattern")
        if not isinstance(pattern, str):
            raise _tekken_error(path, "config.pattern is missing")
    else:
        pattern = resolve_pattern(pattern)
    # Special tokens are not matched in text (mistral_common encodes with no special allowed).
    encoding = build_encoding(name, pattern, ranks, {}, str(path))
    info = TokenizerInfo(name, path, "tekken", "bpe", "tiktoken", sha256)
    return TiktokenTokenizer(info, encoding, ranks, special, bos_id=special.get("<s>"))
