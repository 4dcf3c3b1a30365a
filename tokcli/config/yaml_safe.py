"""YAML as tokcli reads it: ``yaml.SafeLoader`` (plain data, no Python tags) with two more refusals.

- **Duplicate keys.** YAML 1.2 forbids them, but PyYAML keeps the last one silently, so a second
  ``train:`` section would drop the first. They are an error naming the key and both lines; so are
  ``vocab_size`` and ``vocab-size`` in one mapping, which tokcli reads as one key.
- **Alias bombs.** Anchors and aliases (``&a``/``*a``) let a few hundred bytes describe a structure of
  billions of nodes ("billion laughs"); PyYAML shares the objects, but anything that walks the result
  (checking, printing the config) expands it. A document may use at most :data:`MAX_ALIASES` aliases and
  expand to at most :data:`MAX_NODES` nodes.
"""

from __future__ import annotations

from typing import Any

MAX_ALIASES = 100
MAX_NODES = 100_000


class ConfigYamlError(ValueError):
    """What is wrong, and the 1-based line it is on (or None)."""

    def __init__(self, problem: str, line: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


def _loader_class() -> type:
    import yaml

    class Loader(yaml.SafeLoader):
        aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
                if self.aliases > MAX_ALIASES:
                    mark = self.peek_event().start_mark
                    raise ConfigYamlError(f"more than {MAX_ALIASES} aliases (*name)", mark.line + 1)
            return super().compose_node(parent, index)

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True) if key_node.tag != "tag:yaml.org,2002:merge" else None
                if key is None:
                    continue
                if isinstance(key, str):
                    key = key.replace("-", "_")
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: SafeLoader's own error follows
                    continue
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise ConfigYamlError(f"duplicate key {key!r} (lines {first} and {line})", line)
                seen[key] = line
            return super().construct_mapping(node, deep=deep)

    return Loader


def load(text: str) -> Any:
    """Parse one YAML document (``yaml.YAMLError`` or :class:`ConfigYamlError` on bad input)."""
    loader = _loader_class()(text)  # a yaml.SafeLoader: plain data only
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    _check_size(data)
    return data


def _check_size(data: Any) -> None:
    """Refuse a document that expands to more than :data:`MAX_NODES` nodes (shared objects counted at
    every place they appear, as a walk over the result meets them)."""
    budget = MAX_NODES
    stack = [data]
    while stack:
        item = stack.pop()
        budget -= 1
        if budget < 0:
            raise ConfigYamlError(f"the document expands to more than {MAX_NODES} values (nested aliases?)")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
