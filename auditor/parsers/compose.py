"""docker-compose.yml: PyYAML's safe loader, bounded, reduced to what an audit asks of a service.

Before anything is built, the event stream (which PyYAML produces without recursion) is checked:
nesting depth, and the size the document would have with every alias expanded, so an
anchors-and-aliases "billion laughs" file is refused instead of being walked. The node tree is then
kept for line numbers and for the original text of scalars: YAML 1.1 reads `22:22` as the integer
1342, so ports and environment values are taken as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml

from auditor.parsers.base import (
    DEFAULT_MAX_BYTES,
    MAX_DEPTH,
    ConfigParseError,
    SafeLoader,
    deadline,
    prepare_text,
    without_quoted_input,
)

MAX_EXPANDED_NODES = 100_000
MAX_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class ComposePort:
    host_ip: str | None
    published: str | None
    target: str
    protocol: str  # "tcp" unless written
    raw: str


@dataclass(frozen=True, slots=True)
class ComposeService:
    name: str
    image: str | None
    ports: list[ComposePort]
    environment: dict[str, str | None]  # None: listed without a value (passed through from the host)
    volumes: list[str]
    line: int
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class ComposeFile:
    path: str
    services: dict[str, ComposeService]
    data: dict[str, Any] = field(default_factory=dict, repr=False)


def parse_compose(
    text: str, path: str, *, max_bytes: int = DEFAULT_MAX_BYTES, max_seconds: float = MAX_SECONDS
) -> ComposeFile:
    text = prepare_text(text, path, max_bytes)
    with deadline(max_seconds, path):
        try:
            _check_events(text, path)
            loader = SafeLoader(text)
            try:
                node = loader.get_single_node()
                data = _plain(loader.construct_document(node), path, 0) if node is not None else None
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            # a problem can quote input (a tag, an alias): not beyond a character or two
            problem = without_quoted_input(str(exc.problem or exc.context))
            raise ConfigParseError(path, f"YAML: {problem}", line) from None
        except yaml.YAMLError as exc:
            raise ConfigParseError(path, f"YAML: {without_quoted_input(str(exc)) or 'error'}") from None
        except RecursionError:
            raise ConfigParseError(path, "YAML nested too deeply") from None
        if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
            raise ConfigParseError(path, "not a compose file (the document is not a mapping)")
        return ComposeFile(path, _services(node, data), data)


def _check_events(text: str, path: str) -> None:
    """Depth and alias-expanded size, from the event stream (no recursion, nothing built)."""
    depth, expanded = 0, 0
    sizes: dict[str, int] = {}
    starts: list[tuple[str | None, int]] = []  # (anchor, expanded count at the start) per open collection
    for event in yaml.parse(text, Loader=SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else None
                raise ConfigParseError(path, f"YAML nested deeper than {MAX_DEPTH}", line)
            starts.append((event.anchor, expanded))
            expanded += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, at_start = starts.pop()
            if anchor is not None:
                sizes[anchor] = expanded - at_start
        elif isinstance(event, yaml.ScalarEvent):
            expanded += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            expanded += sizes.get(event.anchor or "", 1)
        if expanded > MAX_EXPANDED_NODES:
            line = event.start_mark.line + 1 if event.start_mark else None
            message = f"YAML expands to more than {MAX_EXPANDED_NODES} nodes (aliases?)"
            raise ConfigParseError(path, message, line)


def _plain(value: Any, path: str, depth: int) -> Any:
    """Constructed YAML → JSON-like values (dates become ISO text, other keys text)."""
    if depth > MAX_DEPTH:
        raise ConfigParseError(path, f"YAML nested deeper than {MAX_DEPTH}")
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: _plain(v, path, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v, path, depth + 1) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _get(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    found = None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            found = v
    return found


def _scalar(node: yaml.Node) -> str | None:
    if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
        return None
    return str(node.value)


def _services(root: yaml.MappingNode, data: dict[str, Any]) -> dict[str, ComposeService]:
    services_node = _get(root, "services")
    if isinstance(services_node, yaml.MappingNode):
        entries = services_node.value
    elif services_node is None:  # compose file format 1: services at the top level
        entries = [(k, v) for k, v in root.value if isinstance(v, yaml.MappingNode) and _get(v, "image")]
    else:
        return {}
    services_data: dict[str, Any] = data["services"] if isinstance(data.get("services"), dict) else data
    out: dict[str, ComposeService] = {}
    for key_node, svc in entries:
        name = _scalar(key_node)
        if name is None or not isinstance(svc, yaml.MappingNode):
            continue
        raw = services_data.get(name)
        image = _get(svc, "image")
        out[name] = ComposeService(
            name=name,
            image=_scalar(image) if image is not None else None,
            ports=_ports(_get(svc, "ports")),
            environment=_environment(_get(svc, "environment")),
            volumes=_volumes(_get(svc, "volumes")),
            line=key_node.start_mark.line + 1,
            raw=raw if isinstance(raw, dict) else {},
        )
    return out


def _ports(node: yaml.Node | None) -> list[ComposePort]:
    if not isinstance(node, yaml.SequenceNode):
        return []
    ports = []
    for item in node.value:
        if isinstance(item, yaml.ScalarNode):
            ports.append(_short_port(str(item.value)))
        elif isinstance(item, yaml.MappingNode):
            fields = {str(k.value): _scalar(v) for k, v in item.value if isinstance(k, yaml.ScalarNode)}
            target = fields.get("target") or ""
            published = fields.get("published")
            raw = ":".join(p for p in (fields.get("host_ip"), published, target) if p)
            protocol = fields.get("protocol") or "tcp"
            ports.append(ComposePort(fields.get("host_ip"), published, target, protocol, raw))
    return ports


def _split_outside(text: str, sep: str) -> list[str]:
    """Split on `sep` outside `${…}` and `[…]` (IPv6 addresses, interpolations with defaults)."""
    parts, current, depth = [], "", 0
    for c in text:
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth = max(0, depth - 1)
        if c == sep and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += c
    parts.append(current)
    return parts


def _short_port(raw: str) -> ComposePort:
    spec, protocol = raw, "tcp"
    if "/" in spec and not spec.endswith("}"):
        spec, protocol = spec.rsplit("/", 1)
    parts = _split_outside(spec, ":")
    if len(parts) == 1:
        return ComposePort(None, None, parts[0], protocol, raw)
    if len(parts) == 2:
        return ComposePort(None, parts[0], parts[1], protocol, raw)
    host_ip = ":".join(parts[:-2]).strip("[]")
    return ComposePort(host_ip, parts[-2], parts[-1], protocol, raw)


def _environment(node: yaml.Node | None) -> dict[str, str | None]:
    env: dict[str, str | None] = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                env[str(k.value)] = _scalar(v)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):
                key, sep, value = str(item.value).partition("=")
                env[key] = value if sep else None
    return env


def _volumes(node: yaml.Node | None) -> list[str]:
    if not isinstance(node, yaml.SequenceNode):
        return []
    out = []
    for item in node.value:
        if isinstance(item, yaml.ScalarNode):
            out.append(str(item.value))
        elif isinstance(item, yaml.MappingNode):
            fields = {str(k.value): _scalar(v) for k, v in item.value if isinstance(k, yaml.ScalarNode)}
            spec = ":".join(p for p in (fields.get("source"), fields.get("target")) if p)
            out.append(spec + (":ro" if fields.get("read_only") in ("true", "True") else ""))
    return out
