"""YAML with line numbers, for user files whose errors must say "file:line" (profiles, waivers).

`load_yaml` parses with PyYAML's safe loader (libyaml's C parser when PyYAML has it: the profile loads
in ~5 ms instead of ~60); every mapping and list it returns remembers the line it
started on and the lines of its keys / items, so a validator can point at the offending entry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, SequenceNode

from auditor.parsers.base import SafeLoader


class YamlSourceError(ValueError):
    """Invalid YAML; the message is one line: `source:line: problem`."""


class MarkedDict(dict[Any, Any]):
    """A mapping from a YAML file, with the 1-based line of the mapping and of each key."""

    line: int | None = None
    key_lines: dict[Any, int]

    def __init__(self) -> None:
        super().__init__()
        self.key_lines = {}


class MarkedList(list[Any]):
    """A sequence from a YAML file, with the 1-based line of the sequence and of each item."""

    line: int | None = None
    item_lines: list[int]

    def __init__(self) -> None:
        super().__init__()
        self.item_lines = []


class _LineLoader(SafeLoader):  # type: ignore[valid-type,misc]
    pass


_MERGE = "tag:yaml.org,2002:merge"


def _reject_duplicate_keys(loader: _LineLoader, node: MappingNode) -> None:
    """A key written twice in one mapping is an error: PyYAML keeps the last one silently, so a second
    `expires:` in a waiver or a second `enabled:` in a profile rule would quietly replace the first.
    Keys brought in by a merge (`<<: *base`) may be overridden, as YAML intends."""
    first: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
            continue
        key = loader.construct_object(key_node)
        try:
            if key in first:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {_key_shown(key)} (first on line {first[key]})", key_node.start_mark)
            first[key] = key_node.start_mark.line + 1
        except TypeError:  # unhashable: construct_mapping rejects it
            continue


def _key_shown(key: Any) -> str:
    return repr(key[:40]) if isinstance(key, str) else repr(key) if isinstance(key, bool | int | float) else "(a key)"


def _construct_map(loader: _LineLoader, node: MappingNode) -> Iterator[MarkedDict]:
    data = MarkedDict()
    data.line = node.start_mark.line + 1
    yield data
    _reject_duplicate_keys(loader, node)
    data.update(loader.construct_mapping(node))
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        with contextlib.suppress(TypeError):  # an unhashable key was already rejected by construct_mapping
            data.key_lines[key] = key_node.start_mark.line + 1


def _construct_seq(loader: _LineLoader, node: SequenceNode) -> Iterator[MarkedList]:
    data = MarkedList()
    data.line = node.start_mark.line + 1
    yield data
    data.extend(loader.construct_sequence(node))
    data.item_lines = [child.start_mark.line + 1 for child in node.value]


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    """A date-like scalar PyYAML cannot turn into a date (2025-02-30) stays a string for the validator."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML text; errors become YamlSourceError("source:line: invalid YAML: problem")."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise YamlSourceError(f"{where}: invalid YAML: {problem}") from None
    except RecursionError:  # PyYAML without libyaml has no nesting limit of its own
        raise YamlSourceError(f"{source}: invalid YAML: nested too deeply") from None


def line_of(container: Any, key: Any = None) -> int | None:
    """The line of `container` (a MarkedDict/MarkedList), or of one key / item index in it."""
    if key is not None:
        if isinstance(container, MarkedDict):
            found = container.key_lines.get(key)
            if found is not None:
                return found
        lines = container.item_lines if isinstance(container, MarkedList) else []
        if isinstance(key, int) and 0 <= key < len(lines):
            return lines[key]
    return getattr(container, "line", None)


def where(source: str, container: Any, key: Any = None) -> str:
    """`source:line` for an error message (just `source` when the line is unknown)."""
    line = line_of(container, key)
    return f"{source}:{line}" if line else source
