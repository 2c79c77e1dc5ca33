"""docker-jitsi-meet image references: from compose files (with `.env` interpolation) or `.env` alone.

`jitsi/web:${JITSI_IMAGE_VERSION:-unstable}` is resolved with the `.env` beside the compose file, as
`docker compose` does; a value that only the shell could supply (a key listed without `=`), a floating
tag (`latest`, `unstable`, `stable`) or no tag at all leaves the version unknown.
"""

from __future__ import annotations

import posixpath
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from auditor.advisories.data import DOCKER_IMAGES
from auditor.advisories.versions import docker_stable
from auditor.deployment import Deployment, ParsedFile
from auditor.discovery import Role
from auditor.parsers.base import ConfigParseError
from auditor.parsers.compose import parse_compose
from auditor.parsers.dotenv import EnvValue
from auditor.snapshot import ItemStatus

FLOATING_TAGS = {"latest", "unstable", "stable", "nightly"}
IMAGE_VAR = "JITSI_IMAGE_VERSION"
DEFAULT_IMAGES = ("web", "prosody", "jicofo", "jvb")  # docker-compose.yml's services
_RELEASE_TAG_RE = re.compile(r"^stable-\d+(?:-\d+)?$")
_VAR_RE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*)|(\$))")
# Compose files are kept as text by build_deployment (outside its parse budget) and sibling *.yml files
# (jibri.yml, jigasi.yml) are not discovered at all: the images are read from at most MAX_COMPOSE_FILES
# of them, in path order, within COMPOSE_CPU_BUDGET seconds of CPU (docker-jitsi-meet ships a handful,
# each parsed in milliseconds; 300 files of 3 000 services took 100 s). Files past either bound are
# counted in DockerEvidence.unread, and the advisory checks cannot pass on the images of the others.
MAX_COMPOSE_FILES = 64
COMPOSE_CPU_BUDGET = 8.0
_UNREADABLE = (ItemStatus.PERMISSION_DENIED, ItemStatus.TOO_LARGE, ItemStatus.ERROR)  # collected, not read
_IMAGE_LINE_RE = re.compile(r"^[ \t]*(?:-[ \t]*)?image[ \t]*:")  # one blank run: two were quadratic


@dataclass(frozen=True, slots=True)
class ImageRef:
    name: str  # repository without registry, tag or digest: "jitsi/web"
    tag: str | None  # None: no tag, or not resolvable
    digest: str | None
    written: str  # as in the file
    path: str
    line: int | None
    problem: str | None = None  # why the tag cannot be resolved

    @property
    def jitsi_image(self) -> str | None:
        """`web`, `prosody`, ... for docker-jitsi-meet images, else None."""
        owner, _, short = self.name.rpartition("/")
        return short if owner == "jitsi" and short in DOCKER_IMAGES else None

    @property
    def release_tag(self) -> str | None:
        return self.tag if self.tag is not None and _RELEASE_TAG_RE.match(self.tag) else None

    @property
    def reference(self) -> str:
        text = self.name + (f":{self.tag}" if self.tag else "")
        return text + (f"@{self.digest}" if self.digest else "")

    @property
    def version_problem(self) -> str | None:
        """Why this image's release is unknown (None: a `stable-N[-k]` tag)."""
        if self.release_tag is not None:
            return None
        if self.problem:
            return self.problem
        if self.tag is None:
            return "no tag (docker pulls 'latest')" if self.digest is None else "pinned by digest only"
        if self.tag in FLOATING_TAGS:
            return f"tag {self.tag!r} follows a moving channel, not a release"
        return f"tag {self.tag!r} is not a stable-N release tag"


def parse_image(reference: str) -> tuple[str, str | None, str | None]:
    """`[registry/]repo[:tag][@digest]` → (repo, tag, digest); docker.io and its library/ dropped."""
    ref, _, digest = reference.strip().partition("@")
    head, sep, last = ref.rpartition("/")
    tag = None
    if ":" in last:
        last, tag = last.split(":", 1)
    parts = ([*head.split("/")] if sep else []) + [last]
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if len(parts) == 2 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts).lower(), tag or None, digest or None


def interpolate(text: str, env: Mapping[str, str | None]) -> tuple[str | None, str | None]:
    """Compose variable interpolation; (result, None) or (None, why it cannot be resolved).

    `env` maps names from `.env`; a None value means the key is listed without a value (the shell
    supplies it). Unset variables follow compose's `${X:-default}`, `${X-default}`, `${X:+alt}`,
    `${X:?error}` forms; a bare unset `${X}` becomes "" like compose does.
    """
    problem: list[str] = []

    def sub(m: re.Match[str]) -> str:
        if m.group(5):
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        if name in env and env[name] is None:
            problem.append(f"{name} is taken from the shell environment (listed in .env without a value)")
            return ""
        value = env.get(name)
        empty = not value
        if op in (":-", "-"):
            return arg if (value is None or (op == ":-" and empty)) else str(value)
        if op in (":+", "+"):
            return arg if (value is not None and not (op == ":+" and empty)) else ""
        if op in (":?", "?"):
            if value is None or (op == ":?" and empty):
                problem.append(f"{name} is not set (compose would refuse: {arg or 'required'})")
                return ""
            return str(value)
        return value or ""

    result = _VAR_RE.sub(sub, text)
    return (None, problem[0]) if problem else (result, None)


def images_from_compose(
    text: str, path: str, env: Mapping[str, str | None], env_path: str | None = None,
    env_problem: str | None = None,
) -> list[ImageRef]:
    """Every service image of one compose file (ConfigParseError if the file is not valid YAML).
    `env_problem`: why the `.env` beside it is unknown (unreadable, not parsed): then no variable of an
    image is resolved, not even to its compose default, since the `.env` may set it."""
    doc = parse_compose(text, path)
    lines = text.splitlines()
    out: list[ImageRef] = []
    for svc in doc.services.values():
        if svc.image is None:
            continue
        line = _image_line(lines, svc.line)
        if env_problem is not None and "$" in svc.image:
            name, _, _ = parse_image(_VAR_RE.sub("", svc.image))
            out.append(ImageRef(name, None, None, svc.image, path, line, env_problem))
            continue
        resolved, problem = interpolate(svc.image, env)
        if resolved is None:
            name, _, _ = parse_image(_VAR_RE.sub("", svc.image))
            out.append(ImageRef(name, None, None, svc.image, path, line, problem))
            continue
        name, tag, digest = parse_image(resolved)
        note = None
        if "$" in svc.image and IMAGE_VAR in svc.image and IMAGE_VAR not in env:
            where = f" in {env_path}" if env_path else " (no .env beside the compose file)"
            note = f"{IMAGE_VAR} is not set{where}: the compose default {tag!r} applies"
        ref = ImageRef(name, tag, digest, svc.image, path, line, None)
        if note and ref.release_tag is None:
            ref = ImageRef(name, tag, digest, svc.image, path, line, note)
        out.append(ref)
    return out


def _image_line(lines: list[str], service_line: int) -> int | None:
    """The `image:` line of the service whose key is on `service_line`: looked for up to the next line
    as little indented as that key (the next service; a top-level key), so a service written in flow
    style (`web: {image: ...}`) costs one line, not 200, and never takes the next service's line."""
    start = max(service_line - 1, 0)
    head = lines[start] if start < len(lines) else ""
    indent = len(head) - len(head.lstrip(" "))
    for i in range(start, min(len(lines), service_line + 200)):
        line = lines[i]
        if i >= service_line and line.strip():
            if not line[0].isspace():
                break
            if len(line) - len(line.lstrip(" ")) <= indent and not line.lstrip().startswith("#"):
                break
        if _IMAGE_LINE_RE.match(line):
            return i + 1
    return None


def images_from_env(env: Mapping[str, EnvValue], path: str) -> list[ImageRef]:
    """No compose file: the standard images, tagged with `.env`'s JITSI_IMAGE_VERSION if it is set."""
    entry = env.get(IMAGE_VAR)
    if entry is None:
        problem = f"no compose file and no {IMAGE_VAR} in {path}: the image tags are unknown"
        return [ImageRef(f"jitsi/{i}", None, None, "", path, None, problem) for i in DEFAULT_IMAGES]
    if entry.value is None:
        problem = f"{IMAGE_VAR} is taken from the shell environment (listed in .env without a value)"
        return [ImageRef(f"jitsi/{i}", None, None, "", path, entry.line, problem) for i in DEFAULT_IMAGES]
    written = f"{IMAGE_VAR}={entry.value}"
    return [ImageRef(f"jitsi/{i}", entry.value or None, None, written, path, entry.line) for i in DEFAULT_IMAGES]


@dataclass(frozen=True, slots=True)
class DockerEvidence:
    images: list[ImageRef]
    notes: list[str]  # compose files that could not be read, assumptions made
    unread: int = 0  # compose/*.yml files not read: past MAX_COMPOSE_FILES or COMPOSE_CPU_BUDGET
    # Why images may be missing from `images`: compose files or .env that could not be read or parsed,
    # each note naming its file (the advisory checks cannot pass on the images of the others).
    unknown: tuple[str, ...] = ()

    @property
    def detected(self) -> bool:
        return bool(self.images or self.notes)


def deployment_images(dep: Deployment) -> DockerEvidence:
    """The docker-jitsi-meet images of a deployment: compose files (and sibling *.yml such as
    jibri.yml/jigasi.yml), resolved with the `.env` of the same directory; `.env` alone otherwise."""
    envs: dict[str, ParsedFile[Any]] = {}
    for p in dep.of(Role.DOCKER_ENV, active_only=False):
        # compose reads the directory's `.env`; another env file there (`.env.bak`, found by its content)
        # only stands in for a missing one
        directory, name = posixpath.split(p.path)
        if directory not in envs or (name == ".env" and posixpath.basename(envs[directory].path) != ".env"):
            envs[directory] = p
    composes = dep.of(Role.DOCKER_COMPOSE, active_only=False)
    notes: list[str] = []
    unknown: list[str] = []
    texts: dict[str, str | None] = {p.path: p.value for p in composes}
    directories = {posixpath.dirname(p) for p in texts}
    for key, item in dep.snapshot.items.items():  # one pass, not one per directory (dirs x items)
        if (
            item.kind == "file"
            and key not in texts
            and key.endswith((".yml", ".yaml"))
            and posixpath.dirname(key) in directories
            and (item.status in _UNREADABLE if not item.ok else "jitsi/" in item.text())
        ):  # an unreadable one may well name jitsi/ images (jibri.yml): kept, as unknown
            texts[key] = item.text() if item.ok else None
    images: list[ImageRef] = []
    started, parsed, unread = time.thread_time(), 0, []
    for path in sorted(texts):
        text = texts[path]
        if text is not None and (parsed >= MAX_COMPOSE_FILES or time.thread_time() - started > COMPOSE_CPU_BUDGET):
            unread.append(path)
            continue
        if text is None:
            unknown.append(f"{path}: {_unreadable(dep, path)}, its images are unknown")
            continue
        env_file = envs.get(posixpath.dirname(path))
        env: dict[str, str | None] = {}
        env_problem = None
        if env_file is not None and env_file.value is not None:
            env = {k: v.value for k, v in env_file.value.items()}
        elif env_file is not None:
            env_problem = f"{env_file.unusable}: the image variables it sets are unknown"
        parsed += 1
        try:
            images += images_from_compose(text, path, env, env_file.path if env_file else None, env_problem)
        except ConfigParseError as exc:
            unknown.append(f"{path}: not readable as compose ({exc}), its images are unknown")
        if env_problem is not None and env_problem not in unknown:
            unknown.append(env_problem)
    if unread:
        why = f"more than {MAX_COMPOSE_FILES} files" if parsed >= MAX_COMPOSE_FILES else (
            f"the {COMPOSE_CPU_BUDGET:g} s of CPU for reading compose files were spent")
        shown = ", ".join(unread[:3]) + (f" and {len(unread) - 3} more" if len(unread) > 3 else "")
        unknown.append(f"{len(unread)} compose files not read ({why}), their images are unknown: {shown}")
    if not texts:
        for env_file in envs.values():
            if env_file.value is not None:
                images += images_from_env(env_file.value, env_file.path)
            else:
                unknown.append(f"{env_file.unusable}: the image tags are unknown")
    notes += unknown
    return DockerEvidence([i for i in images if i.jitsi_image is not None], notes, len(unread), tuple(unknown))


def _unreadable(dep: Deployment, path: str) -> str:
    item = dep.snapshot.get(path)
    if item is None:
        return "unreadable"
    if item.status is ItemStatus.PERMISSION_DENIED:
        return "unreadable (permission denied)"
    return f"unreadable ({item.error or item.status.value})"


def image_releases(dep: Deployment) -> dict[str, frozenset[int | None]]:
    """The stable-N release of each docker-jitsi-meet image the compose project runs, by image (`jibri`:
    {11200}); None for a tag that is no stable release (`unstable`, a digest only, an unresolved one)."""
    return dep.derived("docker.releases", _image_releases)


def _image_releases(dep: Deployment) -> dict[str, frozenset[int | None]]:
    found: dict[str, set[int | None]] = {}
    for ref in dep.derived("docker.images", deployment_images).images:
        if ref.jitsi_image is not None:
            found.setdefault(ref.jitsi_image, set()).add(docker_stable(ref.tag or ""))
    return {image: frozenset(releases) for image, releases in found.items()}
