"""constraints/lowest.txt pins every direct dependency at exactly the lower bound pyproject.toml declares,
so the lowest-versions job of .ci/run tests the ranges that pyproject.toml promises."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOWEST = ROOT / "constraints" / "lowest.txt"
TRANSITIVE = "# Transitive caps"  # the comment that opens the second section
_REQUIREMENT = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def release(version: str) -> tuple[int, ...] | str:
    """A plain release number as PEP 440 compares it (``0.20`` == ``0.20.0``); any other text as is."""
    if not re.fullmatch(r"[0-9]+(?:\.[0-9]+)*", version):
        return version
    parts = [int(part) for part in version.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def parse(requirement: str) -> tuple[str, list[str]]:
    """A PEP 508 requirement without URL -> (normalized name, its version specifiers)."""
    match = _REQUIREMENT.fullmatch(requirement.strip())
    assert match, f"not a requirement: {requirement!r}"
    return normalize(match[1]), [spec.strip() for spec in match[2].split(",") if spec.strip()]


def project() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]  # type: ignore[no-any-return]


def lower_bounds() -> dict[str, str | None]:
    """Each direct dependency (project.dependencies and the test extra) -> its `>=` bound (None: none)."""
    bounds: dict[str, str | None] = {}
    for requirement in [*project()["dependencies"], *project()["optional-dependencies"]["test"]]:
        name, specs = parse(requirement)
        found = [spec[2:].strip() for spec in specs if spec.startswith(">=")]
        assert len(found) <= 1, requirement
        bound = found[0] if found else None
        assert bounds.get(name, bound) == bound, f"two different lower bounds for {name}"
        bounds[name] = bound
    return bounds


def sections() -> tuple[list[str], list[str]]:
    """The requirement lines of lowest.txt before and after the transitive section's comment."""
    direct: list[str] = []
    transitive: list[str] = []
    current = direct
    for line in LOWEST.read_text(encoding="utf-8").splitlines():
        if line.startswith(TRANSITIVE):
            current = transitive
        if line.strip() and not line.lstrip().startswith("#"):
            current.append(line)
    return direct, transitive


def test_direct_pins_are_exactly_the_lower_bounds() -> None:
    direct, _ = sections()
    pins: dict[str, str] = {}
    for line in direct:
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line.strip())
        assert match, f"not a `name==version` line: {line!r}"
        assert normalize(match[1]) not in pins, f"pinned twice: {line!r}"
        pins[normalize(match[1])] = release(match[2])
    expected = {name: release(bound) for name, bound in lower_bounds().items() if bound is not None}
    assert pins == expected


def test_every_runtime_dependency_has_a_lower_bound() -> None:
    bounds = lower_bounds()
    assert [r for r in project()["dependencies"] if bounds[parse(r)[0]] is None] == []


def test_transitive_caps_are_not_direct_dependencies_and_say_why() -> None:
    _, transitive = sections()
    direct = set(lower_bounds())
    for line in transitive:
        requirement, _, reason = line.partition("#")
        name, specs = parse(requirement)
        assert specs, f"not a requirement with a version: {line!r}"
        assert name not in direct, f"a direct dependency belongs in the first section: {line!r}"
        assert reason.strip(), f"a transitive cap needs its reason as a comment: {line!r}"
