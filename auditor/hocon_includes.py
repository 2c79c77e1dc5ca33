"""jicofo.conf / jvb.conf / jibri.conf with what they include, read from the snapshot only.

The HOCON parser never follows an `include` (a target's file must not make the auditor read its own files
or URLs); it records each statement, its line and the object it stands in. Here each daemon's main file is
chosen and its includes are merged in as the daemon would (Typesafe config, which jicofo, the videobridge
and jibri load with -Dconfig.file), looking only at items of the snapshot:

- The main file of a role is the one the daemon loads by name (jicofo.conf, jvb.conf, jibri.conf); a file
  that another HOCON file of the snapshot includes is part of that configuration, not a configuration of
  its own: it is kept in `Deployment.parsed` (its secrets, its parse error) but inactive. Among several
  main files (two directories) the first in path order is the one judged, as before.
- `include "x.conf"` and `include file("x.conf")` are relative to the including file's directory. An
  absolute path is the snapshot item of that name (a live host's /etc/jitsi/...). docker-jitsi-meet's
  containers mount CONFIG/<service> at /config and (images since stable-11146, 086d047f) copy it into
  /run/<service>/config beside the rendered files: in a CONFIG tree, /config/NAME and /run/<service>/config/NAME
  are NAME beside the main file (jibri copies only the directory's own files: no sub-directory there).
- A name without an extension is NAME.conf or NAME.json (Typesafe tries both; NAME.properties is not read
  here and makes the configuration unclear when it is in the snapshot).
- An optional include that is not in the snapshot is ignored, as HOCON ignores it, when the collector read
  its directory (another file of that directory is in the snapshot); otherwise, a `required(...)` one
  missing, one unreadable, unparsable or over the bounds, a url()/classpath() one, an include cycle, or
  an include inside a list: the main file is unusable with the reason (its checks say unclear).
- Merging follows HOCON: objects merge key by key, any other value replaces; the included keys stand at
  the include statement (keys written after it override them, an include at the end overrides what comes
  before), inside the object where the statement stands. Substitutions are resolved per file by the
  parser (never from the environment); one naming a key of another file stays its `${...}` text.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from auditor.discovery import DiscoveredFile, Role
from auditor.parsers.base import ConfigParseError
from auditor.parsers.hocon import MAX_BYTES, HoconDoc, HoconInclude
from auditor.snapshot import ItemStatus, Snapshot

HOCON_ROLES: tuple[Role, ...] = (Role.JICOFO_CONF, Role.JVB_CONF, Role.JIBRI_CONF)
DAEMON_FILE = {Role.JICOFO_CONF: "jicofo.conf", Role.JVB_CONF: "jvb.conf", Role.JIBRI_CONF: "jibri.conf"}
_SERVICE = {Role.JICOFO_CONF: "jicofo", Role.JVB_CONF: "jvb", Role.JIBRI_CONF: "jibri"}
# docker-jitsi-meet's override inputs, which its rendered file includes: never a configuration by themselves.
# Rootless images (stable-11146+) render jicofo.conf inside the container, so a CONFIG volume may hold only
# custom-jicofo.conf: judged alone, its few keys read as the whole configuration.
OVERLAY_FILES = {Role.JICOFO_CONF: ("custom-jicofo.conf",), Role.JVB_CONF: ("custom-jvb.conf",),
                 Role.JIBRI_CONF: ("custom-jibri.conf", "xmpp.conf")}

MAX_INCLUDE_DEPTH = 8  # Typesafe config stops at 50 ("you probably have a cycle"); real files use 1 or 2
MAX_INCLUDES = 32  # include statements followed for one main file, all levels together
MAX_TREE_BYTES = 4 * MAX_BYTES  # the included files' text for one main file, all together

Key = tuple[str, ...]
Origin = tuple[str, int | None]


class IncludeError(Exception):
    """Why the configuration with its includes is not known; `line`: the main file's include statement."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(slots=True)
class Layer:
    """A file with what it includes merged in: the data, where each key path is set in this file's order
    (the line, or the line of the include statement that brought it), and where it was written."""

    data: dict[str, Any]
    pos: dict[Key, int]
    origin: dict[Key, Origin]
    unresolved: set[str] = field(default_factory=set)


ParseFn = Any  # (DiscoveredFile) -> HoconDoc | str: a parsed document or why there is none


class Resolver:
    """Resolves the includes of one main file. `load(path, role)` parses a snapshot item (through the
    target's parse budget) or returns why it cannot; `parsed` are the documents already parsed."""

    def __init__(self, snapshot: Snapshot, role: Role, main: HoconDoc, load: ParseFn) -> None:
        self.snapshot = snapshot
        self.role = role
        self.main = main
        self._load = load
        self.count = 0
        self.bytes = 0
        self.read: list[str] = []  # snapshot items read as includes, in order
        self._dirs: set[str] | None = None

    # -- where an include statement points ---------------------------------------------------------
    def target_paths(self, inc: HoconInclude, including: str) -> list[str]:
        """Snapshot keys the statement may name, in Typesafe's order of preference."""
        if inc.kind in ("url", "classpath", "package"):
            raise IncludeError(f"{inc.kind}() includes are not in the evidence (the daemon reads them itself)", None)
        target = inc.target
        if not target or "\x00" in target:
            raise IncludeError("empty include target", None)
        if target.startswith("/"):
            path = posixpath.normpath(target)
            mapped = self._container_path(path)
            bases = [path] if mapped is None or self._exists(path) else [mapped]
        else:
            bases = [posixpath.normpath(posixpath.join(posixpath.dirname(including), target))]
        base = bases[0]
        if posixpath.splitext(posixpath.basename(base))[1]:
            return [base]
        return [base + ".conf", base + ".json", base + ".properties"]

    def _container_path(self, path: str) -> str | None:
        """docker-jitsi-meet's container paths of the CONFIG volume, as the file beside the main file when
        the main file is in a CONFIG tree (CONFIG/<service>/ as collected from the host or through the containers
        transport, or the rendered /run/<service>/config), not in a Debian host's /etc/jitsi/."""
        service = _SERVICE[self.role]
        main_dir = posixpath.dirname(self.main.path)
        if posixpath.basename(main_dir) != service or main_dir.startswith("/etc/jitsi/"):
            return None
        for prefix in ("/config/", f"/run/{service}/config/"):
            if path.startswith(prefix):
                rest = path[len(prefix) :]
                if service == "jibri" and prefix != "/config/" and "/" in rest:
                    return None  # jibri copies /config's own files only (find -maxdepth 1)
                return posixpath.join(main_dir, rest)
        return None

    def _exists(self, path: str) -> bool:
        item = self.snapshot.get(path)
        return item is not None and item.kind == "file" and item.status is not ItemStatus.MISSING

    def _dir_collected(self, path: str) -> bool:
        if self._dirs is None:
            self._dirs = {posixpath.dirname(i.key) for i in self.snapshot.files() if i.status is not ItemStatus.MISSING}
        return posixpath.dirname(path) in self._dirs

    # -- reading --------------------------------------------------------------------------------------
    def included_doc(self, inc: HoconInclude, including: str) -> tuple[str, HoconDoc] | None:
        """The included file's path and document; None for an optional include that is not there."""
        self.count += 1
        if self.count > MAX_INCLUDES:
            raise IncludeError(f"more than {MAX_INCLUDES} include statements (the auditor's bound)", None)
        candidates = self.target_paths(inc, including)
        found = [p for p in candidates if self._exists(p)]
        if not found:
            shown = _short(candidates[0] if len(candidates) == 1 else candidates[0][:-5]) + (
                "" if len(candidates) == 1 else " (as .conf or .json)")
            if inc.required:
                raise IncludeError(f"required include {shown} is not in the evidence", None)
            if not self._dir_collected(candidates[0]):
                raise IncludeError(f"{shown} is not in the evidence (its directory was not collected)", None)
            return None  # HOCON ignores an optional include that does not exist
        path = found[0]
        if path.endswith(".properties"):
            raise IncludeError(f"{_short(path)}: a .properties include is not read by the auditor", None)
        if len(found) > 1 and not found[1].endswith(".properties"):
            raise IncludeError(f"{_short(found[0])} and {_short(found[1])} are both included (not supported)", None)
        if any(p.endswith(".properties") for p in found[1:]):
            raise IncludeError(f"{_short(found[-1])}: a .properties include is not read by the auditor", None)
        item = self.snapshot.get(path)
        if item is None or not item.ok:
            if item is None:  # _exists said it was there
                raise IncludeError(f"{_short(path)}: not in the evidence", None)
            raise IncludeError(f"{path}: {item.error or item.status.value}", None)
        self.bytes += len(item.content or b"")
        if self.bytes > MAX_TREE_BYTES:
            raise IncludeError(f"the included files exceed {MAX_TREE_BYTES // 1024} KiB together (the auditor's bound)",
                               None)
        got = self._load(DiscoveredFile(self.role, item, False, "include"))
        if isinstance(got, str):
            raise IncludeError(got, None)
        self.read.append(path)
        return path, got

    # -- merging --------------------------------------------------------------------------------------
    def layer(self, doc: HoconDoc, stack: tuple[str, ...] = ()) -> Layer:
        stack = (*stack, doc.path)
        result = Layer(copy.deepcopy(doc.data), dict(doc.key_lines),
                       {k: (doc.path, line) for k, line in doc.key_lines.items()}, set(doc.unresolved))
        for inc in sorted(doc.includes, key=lambda i: i.line):
            try:
                self._merge_include(result, doc, inc, stack)
            except IncludeError as exc:
                if len(stack) == 1 and exc.line is None:  # the main file's own statement: name its line
                    raise IncludeError(f'include "{_short(inc.target)}" (line {inc.line}): {exc.message}',
                                       inc.line) from None
                if exc.line is None:
                    raise IncludeError(f'{doc.path}, line {inc.line}: include "{_short(inc.target)}": {exc.message}',
                                       None) from None
                raise
        return result

    def _merge_include(self, result: Layer, doc: HoconDoc, inc: HoconInclude, stack: tuple[str, ...]) -> None:
        if inc.scope is None:
            raise IncludeError("an include inside a list or a value is not understood", None)
        if len(stack) >= MAX_INCLUDE_DEPTH + 1:
            raise IncludeError(f"includes nested deeper than {MAX_INCLUDE_DEPTH} files (the auditor's bound)", None)
        got = self.included_doc(inc, doc.path)
        if got is None:
            return
        path, included = got
        if path in stack:
            chain = " -> ".join([*stack, path])
            raise IncludeError(f"include cycle: {chain} (Typesafe config fails on one)", None)
        sub = self.layer(included, stack)
        result.unresolved |= sub.unresolved
        node: Any = result.data
        for depth, segment in enumerate(inc.scope):
            child = node.get(segment)
            if not isinstance(child, dict):
                last = _last(result.pos, inc.scope[: depth + 1])
                if child is not None and last is not None and last > inc.line:
                    return  # replaced by a later non-object value: what the include brought is gone
                child = node[segment] = {}
            node = child
        _merge(node, sub, inc.scope, (), inc.line, result)


def _merge(node: dict[str, Any], sub: Layer, scope: Key, rel: Key, line: int, into: Layer) -> None:
    """Merges the included object `sub` at `rel` into `node` (at scope + rel of `into`), as if its keys
    stood at `line` of the including file."""
    source: Any = sub.data
    for segment in rel:
        source = source[segment]
    for key, value in source.items():
        rel_key = (*rel, key)
        full = (*scope, *rel_key)
        if key in node and isinstance(node[key], dict) and isinstance(value, dict):
            _merge(node[key], sub, scope, rel_key, line, into)
            continue
        if key in node:
            last = _last(into.pos, full)
            if last is None:
                raise IncludeError(f"cannot tell whether {_short('.'.join(full))} is set before or after it", None)
            if last == line:
                raise IncludeError(f"{_short('.'.join(full))} is set on the line of the include (order unknown)", None)
            if last > line:  # set after the include statement: it stays
                if isinstance(node[key], dict):  # but a non-object brought by the include wiped what came before
                    _prune(node[key], full, line, into)
                continue
        _drop(into, full)
        node[key] = copy.deepcopy(value)
        for sub_key in _paths(value, rel_key):
            at = (*scope, *sub_key)
            into.pos[at] = line
            into.origin[at] = sub.origin.get(sub_key, (_file_of(sub, sub_key), None))


def _file_of(sub: Layer, key: Key) -> str:
    for cut in range(len(key), -1, -1):
        if (found := sub.origin.get(key[:cut])) is not None:
            return found[0]
    return ""


def _paths(value: Any, prefix: Key) -> Iterable[Key]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))


def _last(pos: dict[Key, int], key: Key) -> int | None:
    """The last line at which `key` or a key below it is set (None when none is located)."""
    n = len(key)
    lines = [line for k, line in pos.items() if k[:n] == key]
    return max(lines) if lines else None


def _drop(into: Layer, key: Key) -> None:
    n = len(key)
    for k in [k for k in into.pos if k[:n] == key]:
        del into.pos[k]
    for k in [k for k in into.origin if k[:n] == key]:
        del into.origin[k]


def _prune(node: dict[str, Any], key: Key, line: int, into: Layer) -> None:
    """Keeps of an object what is set after `line` (an included non-object value replaced the rest)."""
    for k in list(node):
        child = (*key, k)
        last = _last(into.pos, child)
        if last is None or last < line:
            del node[k]
            _drop(into, child)
        elif isinstance(node[k], dict):
            _prune(node[k], child, line, into)


def _short(text: str) -> str:
    """A target's name or key for a message: one line, printable, at most 80 characters."""
    text = "".join(c if c.isprintable() else "?" for c in " ".join(text.split()))
    return text if len(text) <= 80 else text[:77] + "..."


def merged_doc(resolver: Resolver) -> HoconDoc:
    """The main document with its includes merged; raises IncludeError (with the main file's line)."""
    main = resolver.main
    if not main.includes:
        return main
    try:
        layer = resolver.layer(main)
    except (RecursionError, ConfigParseError) as exc:  # bounded above; a backstop, never an exception out
        raise IncludeError(f"includes not resolved ({type(exc).__name__})", None) from None
    return replace(main, data=layer.data, unresolved=sorted(layer.unresolved), origins=layer.origin, own=main)


def include_targets(snapshot: Snapshot, role: Role, doc: HoconDoc) -> list[str]:
    """Snapshot files that `doc`'s own include statements name (none of them read)."""
    resolver = Resolver(snapshot, role, doc, lambda _f: "")
    found: list[str] = []
    for inc in doc.includes[:MAX_INCLUDES]:
        try:
            found += [p for p in resolver.target_paths(inc, doc.path) if resolver._exists(p)]
        except IncludeError:
            continue
    return found

