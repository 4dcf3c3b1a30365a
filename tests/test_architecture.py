"""The package's layering (docs/architecture.md), read from the code's own imports: no import cycle, no
arrow from a lower layer to a higher one, no import between two command cores, and heavy libraries
imported lazily by the core.

Every ``import`` counts, also those inside functions: a lazy import still ties two modules together.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tokcli"

# Top to bottom. A unit is a sub-package or a top-level module of tokcli; a unit may import units of lower
# layers only, or units of its own layer where the layer says so. Command cores never import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__main__",),
    ("cli", "api"),  # the command line, and the library's public API (re-exported by tokcli/__init__.py)
    ("train", "encode", "compare", "mixture"),  # one command's core each
    ("counts",),  # the count command's core and the counts store, read by train and mixture
    ("parallel",),  # engines and split planning
    ("corpus",),
    ("loading",),  # tokenizer files
    ("pretok",),
    ("bpe", "spm_model"),
    ("config", "outputs", "plot", "metrics"),
    ("files", "locks", "resources"),
    ("cache", "version", "errors", "interrupts"),  # ground: no tokcli imports
)
SAME_LAYER_ALLOWED: set[tuple[str, str]] = set()
# The package's face (tokcli/__init__.py, the public API) sits above everything; nothing inside imports it.
FACE = "tokcli"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


@functools.cache
def imports() -> dict[str, set[str]]:
    """Module -> the tokcli modules it imports (``from a import b`` names the submodule a.b when it is one)."""
    known = modules()
    out: dict[str, set[str]] = {}
    for name, path in known.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in known)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = {f"{node.module}.{a.name}" for a in node.names} & known.keys()
                found |= subs
                if len(subs) < len(node.names) and node.module in known:
                    found.add(node.module)
        found.discard(name)
        out[name] = found
    return out


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else FACE


def layer_of(name: str) -> int:
    for depth, units in enumerate(LAYERS):
        if name in units:
            return depth
    raise AssertionError(f"tokcli/{name} is in no layer of tests/test_architecture.py: add it to LAYERS")


def test_every_unit_has_a_layer() -> None:
    for module in modules():
        if unit(module) != FACE:
            layer_of(unit(module))


def test_no_import_cycles() -> None:
    graph = imports()
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_arrows_only_go_down() -> None:
    wrong = []
    for module, targets in imports().items():
        source = unit(module)
        for target in targets:
            dest = unit(target)
            if dest == source:
                continue
            if dest == FACE:
                wrong.append(f"{module} -> {target} (the public API is for users; import the module itself)")
                continue
            if source == FACE:
                continue
            up, down = layer_of(source), layer_of(dest)
            if down < up or (down == up and (source, dest) not in SAME_LAYER_ALLOWED):
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_command_cores_never_import_each_other() -> None:
    cores = set(LAYERS[2])
    crossing = [
        f"{module} -> {target}"
        for module, targets in imports().items()
        for target in targets
        if unit(module) in cores and unit(target) in cores and unit(module) != unit(target)
    ]
    assert crossing == []


HEAVY = ("typer", "rich", "datasets", "tokenizers", "sentencepiece", "scipy", "highspy", "pyarrow", "tiktoken")


def test_the_core_never_imports_the_cli_libraries_and_imports_heavy_ones_lazily() -> None:
    """typer and rich only under cli/; the heavy libraries only inside functions (``tokcli --help`` stays
    instant; tests/test_cli_lazy.py checks the same at run time)."""
    wrong = []
    for module, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module.split(".")[0]]
            else:
                continue
            for name in names:
                if name in ("typer", "rich") and unit(module) != "cli":
                    wrong.append(f"{module} imports {name}")
                elif name in HEAVY[2:] and id(node) in top_level:
                    wrong.append(f"{module} imports {name} at module level")
    assert wrong == []
