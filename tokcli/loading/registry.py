"""``-t/--tokenizer SPEC``: find the file, detect its format, load it behind one interface.

SPEC is ``PATH`` or ``NAME=PATH`` (a display name). PATH may be a ``tokenizer.json``, a folder holding
one (or a ``tokenizer.model``/``*.model``, ``tekken.json`` or ``*.tiktoken``), a sentencepiece
``.model``, a tiktoken ranks file or a ``tekken.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tokcli.errors import ConfigError, TokenizerError
from tokcli.files import sha256_file
from tokcli.loading.base import LoadedTokenizer

Format = Literal["hf", "spm", "tiktoken", "tekken"]
_FOLDER_NAMES = ("tokenizer.json", "tekken.json", "tokenizer.model")
_FOLDER_GLOBS = ("*.model", "*.tiktoken")


@dataclass(frozen=True)
class TokenizerSpec:
    """A parsed ``[NAME=]PATH``."""

    name: str
    path: Path

    @classmethod
    def parse(cls, spec: str) -> TokenizerSpec:
        if not spec:
            raise ConfigError("empty tokenizer spec", hint="give a path, or NAME=PATH")
        name, sep, rest = spec.partition("=")
        # A path that exists wins over NAME=PATH, so a file name with '=' still works.
        if sep and name and rest and not Path(spec).exists() and "/" not in name:
            return cls(name=name, path=Path(rest))
        path = Path(spec)
        return cls(name=_default_name(path), path=path)


def _default_name(path: Path) -> str:
    if path.name in _FOLDER_NAMES and path.parent.name:
        return path.parent.name
    return path.stem if path.suffix in (".json", ".model", ".tiktoken") else path.name


def resolve_file(path: Path) -> Path:
    """The tokenizer file for ``path`` (itself, or the one file a folder holds)."""
    if path.is_dir():
        for name in _FOLDER_NAMES:
            if (path / name).is_file():
                return path / name
        for pattern in _FOLDER_GLOBS:
            found = sorted(path.glob(pattern))
            if len(found) == 1:
                return found[0]
        raise TokenizerError(
            f"{path}: folder holds no tokenizer file",
            hint="expected tokenizer.json, tekken.json, a .model or a .tiktoken file",
        )
    if not path.exists():
        raise TokenizerError(f"{path}: no such tokenizer file", hint="check the path given with -t/--tokenizer")
    return path


def detect_format(path: Path) -> Format:
    """Format from the file name, then from the first bytes."""
    suffix = path.suffix.lower()
    if suffix == ".model":
        return "spm"
    if suffix == ".tiktoken":
        return "tiktoken"
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise TokenizerError(f"cannot read tokenizer {path}: {exc.strerror}") from exc
    if head.lstrip()[:1] == b"{":
        return "tekken" if path.name == "tekken.json" else "hf"
    if suffix == ".json":
        return "hf"  # not an object: the JSON parser will name the problem
    first = head.split(b"\n", 1)[0].split()
    if len(first) == 2 and first[1].isdigit():
        return "tiktoken"
    if head[:1] == b"\n":  # ModelProto starts with field 1 (pieces), length-delimited: tag 0x0a
        return "spm"
    raise TokenizerError(
        f"{path}: unknown tokenizer format",
        hint="expected tokenizer.json, tekken.json, a sentencepiece .model or a .tiktoken ranks file",
    )


def load_json(path: Path) -> Any:
    """Parse a JSON tokenizer file; corrupt JSON is a one-line error with line and column."""
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise TokenizerError(f"{path}: not UTF-8 text (byte {exc.start})", hint="check the file") from None
    except OSError as exc:
        raise TokenizerError(f"cannot read tokenizer {path}: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TokenizerError(
            f"{path}:{exc.lineno}:{exc.colno}: corrupt JSON: {exc.msg}", hint="the file is damaged or truncated"
        ) from None


def _is_tekken(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("vocab"), list) and isinstance(data.get("config"), dict)


def load_tokenizer(
    spec: str | Path, *, pattern: str | None = None, engine: Literal["auto", "tokenizers"] = "auto"
) -> LoadedTokenizer:
    """Load ``spec`` (``[NAME=]PATH``).

    ``pattern`` (a preset name of tokcli.pretok.presets or a regex) is the pre-tokenization regex of a ranks
    file, required unless the file is a well-known one (recognised by SHA-256); for ``tekken.json`` it
    overrides ``config.pattern``. ``engine="tokenizers"`` turns off the tiktoken engine for byte-level
    BPE tokenizer.json files (used to check parity).
    """
    parsed = TokenizerSpec.parse(str(spec))
    path = resolve_file(parsed.path)
    kind = detect_format(path)
    sha = sha256_file(path)
    if kind == "spm":
        from tokcli.loading.spm import SpmTokenizer

        return SpmTokenizer(path, parsed.name, sha)
    if kind == "tiktoken":
        from tokcli.loading.tiktoken_ import load_ranks_file

        return load_ranks_file(path, parsed.name, sha, pattern)
    data = load_json(path)
    if _is_tekken(data):
        from tokcli.loading.tiktoken_ import load_tekken

        return load_tekken(path, data, parsed.name, sha, pattern)
    if not isinstance(data, dict) or "model" not in data:
        raise TokenizerError(
            f"{path}: JSON is neither a tokenizer.json (no 'model' key) nor a tekken.json",
            hint="give an HF tokenizer.json, a tekken.json, a .model or a .tiktoken file",
        )
    from tokcli.loading.hf import HFTokenizer

    return HFTokenizer(path, data, parsed.name, sha, engine=engine)
