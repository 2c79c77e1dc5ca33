"""The configuration prosody actually runs with: the main file plus what its `Include`s pull in.

Prosody executes an included file at the point of the `Include`, each included file starting in the
global section; a later assignment to the same host and option wins, whichever file it is in. The
per-file parses keep the line of each option's last assignment, which is enough to replay that order:
within a file, an option set before an `Include` line is overridden by the included files, one set
after it overrides them. Include patterns are matched against the files provided (never the disk).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from auditor.parsers._paths import PathIndex, has_magic, resolve
from auditor.parsers.base import ConfigParseError, Location
from auditor.parsers.prosody import ProsodyConfig

# prosody 0.12 / 13 core/modulemanager.lua
AUTOLOAD_MODULES = frozenset({"presence", "message", "iq", "offline", "c2s", "s2s", "s2s_auth_certs"})
COMPONENT_INHERITABLE_MODULES = frozenset(
    {"tls", "saslauth", "dialback", "iq", "s2s", "s2s_bidi", "smacks", "server_contact_info"}
)
MAX_INCLUDE_DEPTH = 16

OptionValue = tuple[Any, Location]


@dataclass(frozen=True, slots=True)
class EffectiveSection:
    kind: Literal["VirtualHost", "Component"]
    name: str
    component_type: str | None
    location: Location  # where it is first declared
    options: dict[str, OptionValue]  # its own options, all files merged in load order


@dataclass(frozen=True, slots=True)
class ProsodyInclude:
    pattern: str  # as written
    resolved: str  # absolute pattern on the target
    location: Location
    matched: list[str]  # parsed files it pulls in, in load order
    unparsed: list[str] = field(default_factory=list)  # files it names that could not be parsed

    @property
    def missing(self) -> bool:
        """A plain (non-glob) Include naming a file that was not provided: prosody refuses to start."""
        return not self.matched and not self.unparsed and not has_magic(self.pattern)


@dataclass(frozen=True, slots=True)
class EffectiveProsody:
    main_path: str | None
    files: list[str]  # in load order
    global_options: dict[str, OptionValue]
    sections: dict[str, EffectiveSection]
    hosts: list[str]  # VirtualHost names in declaration order
    components: dict[str, str | None]  # Component name -> module (None: external component)
    includes: list[ProsodyInclude] = field(default_factory=list)
    run_scripts: list[tuple[str, Location]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # enabled_modules per host, computed on first use (the checks ask ~80 times per audit)
    _modules: dict[str | None, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def missing_includes(self) -> list[ProsodyInclude]:
        return [i for i in self.includes if i.missing]

    @property
    def unparsed_includes(self) -> list[str]:
        """Included files that exist but did not parse: this view lacks what they set."""
        return [path for i in self.includes for path in i.unparsed]

    @property
    def complete(self) -> bool:
        return not self.missing_includes and not self.unparsed_includes

    def get(self, host: str | None, key: str) -> OptionValue | None:
        """The option as `host` sees it (its own, else the global one), with where it was set."""
        if host is not None:
            section = self.sections.get(host.lower())
            if section is not None and key in section.options:
                return section.options[key]
        return self.global_options.get(key)

    def enabled_modules(self, host: str | None) -> set[str]:
        """Modules loaded on `host` (None: global), as prosody's modulemanager computes them."""
        known = self._modules.get(host)
        if known is None:
            known = self._modules[host] = frozenset(self._enabled_modules(host))
        return set(known)

    def _enabled_modules(self, host: str | None) -> set[str]:
        global_modules = (AUTOLOAD_MODULES | _names(self.global_options.get("modules_enabled"))) - _names(
            self.global_options.get("modules_disabled")
        )
        section = self.sections.get(host.lower()) if host is not None else None
        if section is None:
            return set(global_modules)
        if section.kind == "Component":
            global_modules &= COMPONENT_INHERITABLE_MODULES
        own_enabled = _names(section.options.get("modules_enabled"))
        own_disabled = _names(section.options.get("modules_disabled"))
        modules = set((global_modules | own_enabled) - own_disabled)
        if section.kind == "Component":
            modules.add(section.component_type or "component")
        return modules

    def module_enabled(self, host: str | None, module: str) -> bool:
        self.enabled_modules(host)
        return module.removeprefix("mod_") in self._modules[host]

    def section_location(self, name: str) -> Location | None:
        section = self.sections.get(name.lower())
        return section.location if section is not None else None

    def component_location(self, name: str) -> Location:
        return self.section_location(name) or Location(self.main_path or "")

    def path_of(self, host: str | None) -> str:
        """The file that declares `host` (the main file for the global section)."""
        loc = self.section_location(host) if host is not None else None
        if loc is not None:
            return loc.path
        return self.main_path or (self.files[0] if self.files else "")


def _names(entry: OptionValue | None) -> frozenset[str]:
    if entry is None:
        return frozenset()
    value = entry[0]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else [value]
    return frozenset(v.removeprefix("mod_") for v in items if isinstance(v, str))


def build_effective(
    configs: Mapping[str, ProsodyConfig], main_path: str | None, *, unparsed: Iterable[str] = ()
) -> EffectiveProsody:
    """Replay `main_path` and its includes. With no main file (e.g. only conf.d/ was provided), every
    file not pulled in by another is replayed on its own, in path order.

    `unparsed`: paths of files that were collected but did not parse (or could not be read); an
    Include matching them is recorded in `unparsed_includes`, so a caller can tell the view is
    incomplete rather than mistake it for the whole configuration."""
    if main_path is not None and main_path not in configs:
        raise ConfigParseError(main_path, "main prosody configuration not among the parsed files")
    builder = _Builder(configs, [p for p in unparsed if p not in configs])
    if main_path is not None:
        builder.run(main_path, ())
    else:
        for path in sorted(configs):
            if path not in builder.loaded:
                builder.run(path, ())
    sections = builder.sections
    return EffectiveProsody(
        main_path=main_path,
        files=builder.order,
        global_options=builder.global_options,
        sections={name: _freeze(s) for name, s in sections.items()},
        hosts=[n for n, s in sections.items() if s.kind == "VirtualHost"],
        components={n: s.component_type for n, s in sections.items() if s.kind == "Component"},
        includes=builder.includes,
        run_scripts=builder.run_scripts,
        warnings=builder.warnings,
    )


@dataclass
class _Section:
    kind: Literal["VirtualHost", "Component"]
    name: str
    component_type: str | None
    location: Location
    options: dict[str, OptionValue] = field(default_factory=dict)


def _freeze(s: _Section) -> EffectiveSection:
    return EffectiveSection(s.kind, s.name, s.component_type, s.location, dict(s.options))


class _Builder:
    def __init__(self, configs: Mapping[str, ProsodyConfig], unparsed: list[str]) -> None:
        self.configs = configs
        self.candidates = PathIndex([*configs, *unparsed])
        self.loaded: set[str] = set()
        self.order: list[str] = []
        self.global_options: dict[str, OptionValue] = {}
        self.sections: dict[str, _Section] = {}
        self.includes: list[ProsodyInclude] = []
        self.run_scripts: list[tuple[str, Location]] = []
        self.warnings: list[str] = []

    def run(self, path: str, chain: tuple[str, ...]) -> None:
        if path in chain:
            self.warnings.append(f"{path}: Include cycle ({' -> '.join((*chain, path))}), not followed")
            return
        if len(chain) >= MAX_INCLUDE_DEPTH:
            self.warnings.append(f"{path}: Includes nested deeper than {MAX_INCLUDE_DEPTH}, not followed")
            return
        config = self.configs[path]
        self.loaded.add(path)
        self.order.append(path)
        # (line, rank, action): declarations, then assignments, then includes on the same line
        events: list[tuple[int, int, int, Any]] = []
        for seq, section in enumerate(config.sections):
            if section.kind != "global":
                events.append((section.line or 0, 0, seq, ("declare", section)))
            for key, line in section.option_lines.items():
                events.append((line, 1, seq, ("set", section, key)))
        for seq, (pattern, line) in enumerate(config.includes):
            events.append((line, 2, seq, ("include", pattern)))
        for script, line in config.run_scripts:
            self.run_scripts.append((script, Location(path, line)))
        events.sort(key=lambda e: e[:3])
        for line, _, _, action in events:
            if action[0] == "declare":
                self._declare(action[1], Location(path, line))
            elif action[0] == "set":
                section, key = action[1], action[2]
                self._set(section, key, section.options[key], Location(path, line))
            else:
                self._include(action[1], Location(path, line), (*chain, path))

    def _declare(self, section: Any, where: Location) -> None:
        name = section.name
        existing = self.sections.get(name)
        if existing is None:
            self.sections[name] = _Section(section.kind, name, section.component_type, where)
        elif existing.kind != section.kind:
            self.warnings.append(
                f"{where}: {section.kind} {name!r} clashes with the {existing.kind} at {existing.location}"
            )
        elif section.component_type is not None:
            existing.component_type = section.component_type

    def _set(self, section: Any, key: str, value: Any, where: Location) -> None:
        if section.kind == "global":
            target = self.global_options
        else:
            if section.name not in self.sections:
                self._declare(section, where)
            target = self.sections[section.name].options
        if value is None:  # `x = nil` unsets, as prosody's set() does
            target.pop(key, None)
        else:
            target[key] = (value, where)

    def _include(self, pattern: str, where: Location, chain: tuple[str, ...]) -> None:
        resolved = resolve(posixpath.dirname(where.path), pattern)
        found = self.candidates.expand(resolved)
        matched = [p for p in found if p in self.configs]
        broken = [p for p in found if p not in self.configs]
        self.includes.append(ProsodyInclude(pattern, resolved, where, matched, broken))
        for path in matched:
            self.run(path, chain)
