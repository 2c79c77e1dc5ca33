"""The advisory data file: schema (checked at load), the bundled copy, the updated copy, and writing.

Which file an audit uses (never fetched during an audit):
1. `$JITSI_AUDIT_ADVISORIES` when set: that file, and an error if it is unusable;
2. the file `jitsi-audit advisories --update` wrote (`$XDG_DATA_HOME/jitsi-audit/advisories.json`)
   when it is valid and not older than the bundled data; an invalid one is ignored with a warning;
3. the bundled `auditor/advisories/advisories.json`.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from auditor import json_input
from auditor.advisories.debversion import DebVersion, VersionError
from auditor.advisories.versions import COMPONENT_SCHEMES, Release, Scheme, StableMap, jvb_key, parse_bound
from auditor.user_files import read_user_file

DATA_FORMAT = "jitsi-audit-advisories/1"
ENV_VAR = "JITSI_AUDIT_ADVISORIES"
MAX_DATA_BYTES = 4 * 1024 * 1024

ID_RE = re.compile(
    r"^(?:JSA-\d{4}-\d{4}|CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|PROSODY-[0-9a-z]+(?:-[0-9A-Z]+)*)$"
)
_DATE_RE = re.compile(r"^\d{4}-\d{2}(?:-\d{2})?$")
_VERSION_RE = re.compile(r"^\d{4}\.\d{2}\.\d{2}(?:\.\d+)?$")

Severity = Literal["low", "medium", "high", "critical", "unrated"]
SEVERITY_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3, "critical": 4, "unrated": 3}
Component = Literal[
    "jitsi-meet",
    "jicofo",
    "jitsi-videobridge",
    "jigasi",
    "jibri",
    "prosody",
    "docker-jitsi-meet",
    "jitsi-meet-electron",
    "jitsi-desktop",
]
# Packages of a component that carry affected code; an advisory may narrow them with `packages`.
COMPONENT_PACKAGES: dict[str, tuple[str, ...]] = {
    "jitsi-meet": ("jitsi-meet", "jitsi-meet-web", "jitsi-meet-web-config", "jitsi-meet-prosody", "jitsi-meet-tokens"),
    "jicofo": ("jicofo",),
    "jitsi-videobridge": ("jitsi-videobridge2", "jitsi-videobridge"),
    "jigasi": ("jigasi",),
    "jibri": ("jibri",),
    "prosody": ("prosody", "prosody-0.12", "prosody-13.0", "prosody-trunk"),
}
DOCKER_IMAGES = ("web", "prosody", "jicofo", "jvb", "jigasi", "jibri")
CLIENT_COMPONENTS = {"jitsi-meet-electron", "jitsi-desktop"}


class AdvisoryDataError(ValueError):
    """The data file is unreadable or invalid; the message is one line."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Range(_Model):
    introduced: str | None = None  # first affected version (inclusive); None: all earlier ones
    below: str | None = None  # first unaffected version; None: no fixed version yet

    @model_validator(mode="after")
    def _some_bound(self) -> Self:
        if self.introduced is None and self.below is None:
            raise ValueError("a range needs `introduced` or `below`")
        return self


class Advisory(_Model):
    id: str
    aliases: tuple[str, ...] = ()  # other identifiers of the same issue
    related: tuple[str, ...] = ()  # e.g. the upstream library CVE (log4j's CVE-2021-44228)
    component: Component
    scope: Literal["server", "client"] = "server"
    status: Literal["published", "disputed", "withdrawn"] = "published"
    packages: tuple[str, ...] | None = None  # Debian packages carrying the flaw (default: the component's)
    images: tuple[str, ...] | None = None  # docker-jitsi-meet images carrying it (default: by package)
    title: str
    severity: Severity
    severity_source: str
    published: str | None = None
    affected: tuple[Range, ...]
    fixed: str | None = None  # the version to upgrade to, as the advisory writes it
    distro_fixed: tuple[str, ...] = ()  # distribution builds carrying a backported fix (prosody)
    condition: str | None = None  # when the flaw applies (a module, a feature, a setting)
    confirmed: bool = True  # False: the range is not confirmed from a primary source
    note: str | None = None
    link: str
    references: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not ID_RE.match(value):
            raise ValueError("id must be JSA-YYYY-NNNN, CVE-YYYY-N+, GHSA-xxxx-xxxx-xxxx or PROSODY-<advisory>")
        return value

    @field_validator("aliases", "related")
    @classmethod
    def _ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not ID_RE.match(item):
                raise ValueError(f"{item!r} is not an advisory id")
        return value

    @field_validator("link", "references")
    @classmethod
    def _https(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        for url in (value,) if isinstance(value, str) else value:
            if not url.startswith("https://") or any(c.isspace() for c in url):
                raise ValueError(f"{url!r} must be an https URL")
        return value

    @field_validator("published")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        if value is not None and not _DATE_RE.match(value):
            raise ValueError("published must be YYYY-MM-DD or YYYY-MM")
        return value

    @field_validator("title", "severity_source")
    @classmethod
    def _text(cls, value: str) -> str:
        if not value.strip() or len(value) > 200 or "\n" in value:
            raise ValueError("must be one line of 1-200 characters")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        scheme = COMPONENT_SCHEMES[self.component]
        for r in self.affected:
            for bound in (r.introduced, r.below):
                if bound is not None:
                    parse_bound(scheme, bound)  # ValueError names the malformed bound
        if self.scope == "server" and self.component in CLIENT_COMPONENTS:
            raise ValueError(f"{self.component} is a client: scope must be 'client'")
        if self.status == "published" and self.scope == "server" and not self.affected and self.confirmed:
            raise ValueError("a confirmed server advisory needs at least one affected range")
        if self.packages is not None:
            allowed = COMPONENT_PACKAGES.get(self.component, ())
            unknown = [p for p in self.packages if p not in allowed]
            if unknown or not self.packages:
                raise ValueError(f"packages {unknown or '[]'} are not packages of {self.component}")
        if self.images is not None:
            unknown = [i for i in self.images if i not in DOCKER_IMAGES]
            if unknown or not self.images:
                raise ValueError(f"images {unknown or '[]'} are not docker-jitsi-meet images")
        if self.distro_fixed:
            if self.component != "prosody":
                raise ValueError("distro_fixed is only meaningful for prosody")
            for v in self.distro_fixed:
                try:
                    DebVersion.parse(v)
                except VersionError as exc:
                    raise ValueError(str(exc)) from None
        if self.id in self.aliases:
            raise ValueError("an advisory cannot alias itself")
        return self

    @property
    def matchable(self) -> bool:
        return self.scope == "server" and self.status == "published"

    @property
    def all_ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]

    def range_text(self) -> str:
        parts = []
        for r in self.affected:
            if r.introduced and r.below:
                parts.append(f"{r.introduced} to before {r.below}")
            elif r.below:
                parts.append(f"< {r.below}")
            else:
                parts.append(f">= {r.introduced}")
        return ", ".join(parts) or "unknown"


class StableRelease(_Model):
    stable: int
    date: str
    web: str | None = None  # "1.0.<build>"
    jicofo: str | None = None  # "1.0-<build>"
    jvb: str | None = None  # "2.x-<n>-g<hash>"

    @model_validator(mode="after")
    def _formats(self) -> Self:
        if not _DATE_RE.match(self.date):
            raise ValueError("date must be YYYY-MM-DD")
        if self.web is not None and not re.fullmatch(r"1\.0\.\d+", self.web):
            raise ValueError(f"web {self.web!r} must be 1.0.<build>")
        if self.jicofo is not None and not re.fullmatch(r"1\.0-\d+", self.jicofo):
            raise ValueError(f"jicofo {self.jicofo!r} must be 1.0-<build>")
        if self.jvb is not None and jvb_key(self.jvb) is None:
            raise ValueError(f"jvb {self.jvb!r} must be 2.x-<n>-g<hash>")
        return self


class DockerProsodyFloor(_Model):
    """From this docker-jitsi-meet tag on, the prosody image ships at least this Prosody."""

    tag: str
    prosody: str
    source: str

    @model_validator(mode="after")
    def _formats(self) -> Self:
        parse_bound(Scheme.DOCKER, self.tag)
        parse_bound(Scheme.DEBIAN, self.prosody)
        return self


class AdvisoryData(_Model):
    format: Literal["jitsi-audit-advisories/1"]
    version: str
    updated: str
    coverage: str
    sources: tuple[str, ...]
    stable_releases: tuple[StableRelease, ...]
    docker_prosody_floors: tuple[DockerProsodyFloor, ...] = ()
    advisories: tuple[Advisory, ...]

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION_RE.match(value):
            raise ValueError("version must be YYYY.MM.DD or YYYY.MM.DD.N")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not _DATE_RE.match(self.updated):
            raise ValueError("updated must be YYYY-MM-DD")
        ids: set[str] = set()
        for adv in self.advisories:
            for i in adv.all_ids:
                if i in ids:
                    raise ValueError(f"advisory id {i} appears twice")
                ids.add(i)
        stables = [r.stable for r in self.stable_releases]
        if stables != sorted(set(stables)):
            raise ValueError("stable_releases must be sorted by stable number without duplicates")
        webs = [int(r.web.rsplit(".", 1)[1]) for r in self.stable_releases if r.web]
        jicofos = [DebVersion.upstream_only(r.jicofo) for r in self.stable_releases if r.jicofo]
        jvbs = [k for r in self.stable_releases if r.jvb and (k := jvb_key(r.jvb)) is not None]
        for field, decreasing in (
            ("web", any(b < a for a, b in itertools.pairwise(webs))),
            ("jicofo", any(b < a for a, b in itertools.pairwise(jicofos))),
            ("jvb", any(b < a for a, b in itertools.pairwise(jvbs))),
        ):
            if decreasing:  # the translation between schemes assumes monotonic builds
                raise ValueError(f"{field} versions must not decrease along the stable releases")
        return self

    @property
    def version_tuple(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.version.split("."))

    def stable_map(self) -> StableMap:
        return StableMap(
            [
                Release(r.stable, r.date, int(r.web.rsplit(".", 1)[1]) if r.web else None, r.jicofo, r.jvb)
                for r in self.stable_releases
            ]
        )

    def get(self, advisory_id: str) -> Advisory | None:
        for adv in self.advisories:
            if advisory_id in adv.all_ids:
                return adv
        return None


# -- loading -----------------------------------------------------------------------------------


def parse_data(text: str, source: str) -> AdvisoryData:
    """Validate advisory data; AdvisoryDataError with a one-line reason naming `source`."""
    if len(text.encode("utf-8", "replace")) > MAX_DATA_BYTES:
        raise AdvisoryDataError(f"{source}: larger than {MAX_DATA_BYTES} bytes")
    try:
        raw = json_input.loads(text)
    except json.JSONDecodeError as exc:
        raise AdvisoryDataError(f"{source}: not JSON (line {exc.lineno}: {exc.msg})") from None
    except ValueError as exc:
        raise AdvisoryDataError(f"{source}: not JSON ({exc})") from None
    return validate_data(raw, source)


def validate_data(raw: Any, source: str) -> AdvisoryData:
    if not isinstance(raw, dict):
        raise AdvisoryDataError(f"{source}: the document must be a JSON object")
    if raw.get("format") != DATA_FORMAT:
        raise AdvisoryDataError(f"{source}: format must be {DATA_FORMAT!r} (got {raw.get('format')!r})")
    try:  # JSON mode: strict types, lists accepted for tuples
        return AdvisoryData.model_validate_json(json.dumps(raw))
    except ValidationError as exc:
        raise AdvisoryDataError(f"{source}: {_first_error(exc, raw)}") from None


def _first_error(exc: ValidationError, raw: Any) -> str:
    errors = exc.errors(include_url=False)
    err = errors[0]
    where = _where(err.get("loc", ()), raw)
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{where}: {msg}{more}".replace("\n", " ")


def _where(loc: tuple[Any, ...], raw: Any) -> str:
    """`advisories[3] (JSA-2021-0001).affected[0].below` from a pydantic error location."""
    out, node = "", raw
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f" ({node['id'][:40]})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "document"


def load_file(path: Path) -> AdvisoryData:
    data = read_user_file(path, "advisory data", AdvisoryDataError, max_bytes=MAX_DATA_BYTES)
    return parse_data(data.decode("utf-8", "replace"), str(path))


def bundled_path() -> Path:
    return Path(str(resources.files("auditor.advisories").joinpath("advisories.json")))


def user_data_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "jitsi-audit" / "advisories.json"


@dataclass(frozen=True, slots=True)
class ActiveData:
    data: AdvisoryData
    source: str  # "bundled", "updated <path>" or "<path> ($JITSI_AUDIT_ADVISORIES)"
    warning: str | None = None

    @property
    def label(self) -> str:
        return f"advisory data {self.data.version} ({self.source})"


_cache: dict[tuple[str, str, float], ActiveData] = {}


def active_data() -> ActiveData:
    """The data the audit uses (see the module docstring); cached per file state."""
    env = os.environ.get(ENV_VAR, "")
    user = user_data_path()
    try:
        mtime = user.stat().st_mtime
    except OSError:
        mtime = -1.0
    key = (env, str(user), mtime)
    if key not in _cache:
        _cache.clear()
        _cache[key] = _choose(env, user, mtime >= 0)
    return _cache[key]


def _choose(env: str, user: Path, user_exists: bool) -> ActiveData:
    if env:
        return ActiveData(load_file(Path(env)), f"{env} (${ENV_VAR})")
    bundled = load_file(bundled_path())
    if not user_exists:
        return ActiveData(bundled, "bundled")
    try:
        updated = load_file(user)
    except AdvisoryDataError as exc:
        return ActiveData(bundled, "bundled", f"ignored the updated data: {exc}")
    if updated.version_tuple < bundled.version_tuple:
        return ActiveData(bundled, "bundled", f"ignored {user}: older ({updated.version}) than the bundled data")
    return ActiveData(updated, f"updated {user}")


# -- writing -----------------------------------------------------------------------------------


def dump_data(data: AdvisoryData) -> str:
    """The file text: one stable release per line, advisories indented (stable diffs)."""
    raw = data.model_dump(mode="json", exclude_defaults=True)
    raw["format"] = DATA_FORMAT
    lines = ["{"]
    keys = list(raw)
    for n, key in enumerate(keys):
        comma = "," if n < len(keys) - 1 else ""
        value = raw[key]
        if key in ("stable_releases", "docker_prosody_floors", "sources") and value:
            items = [json.dumps(v, ensure_ascii=False) for v in value]
            lines.append(f'  "{key}": [')
            lines += [f"    {item}{',' if i < len(items) - 1 else ''}" for i, item in enumerate(items)]
            lines.append(f"  ]{comma}")
        elif key == "advisories":
            body = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            lines.append(f'  "{key}": {body}{comma}')
        else:
            lines.append(f'  "{key}": {json.dumps(value, ensure_ascii=False)}{comma}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_data(data: AdvisoryData, path: Path) -> None:
    """Write validated data atomically (a temporary file renamed over the target)."""
    text = dump_data(data)
    parse_data(text, str(path))  # what is written must load back
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".advisories-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def next_version(current: str, today: date | None = None) -> str:
    """A data version after `current`: today's date, or today's date with a counter."""
    day = (today or date.today()).strftime("%Y.%m.%d")
    parts = current.split(".")
    if ".".join(parts[:3]) == day:
        return f"{day}.{int(parts[3]) + 1 if len(parts) > 3 else 1}"
    if tuple(int(p) for p in day.split(".")) < tuple(int(p) for p in parts[:3]):
        return f"{'.'.join(parts[:3])}.{int(parts[3]) + 1 if len(parts) > 3 else 1}"
    return day
