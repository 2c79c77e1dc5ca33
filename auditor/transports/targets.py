"""Target specs: `meet.example.org`, `user@host`, `host:2222`, `ssh://user@host:2222`, `[::1]:2222`,
`ssh://[2001:db8::1]`, a bare IPv6 address, `local://` (this machine, same collector),
`docker://CONTAINER` and `kubectl://[NAMESPACE/]POD` (a docker-jitsi-meet deployment through one of
its containers or pods, auditor.transports.containers), `ansible://HOST` (a host of the Ansible
inventory, connected through our own transports).

`--root DIR` (an offline directory audit) is not a target spec and is handled by the CLI.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from auditor.collect.stream import quoted

SCHEMES = ("ssh", "local", "docker", "kubectl", "ansible")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$")  # container, pod, namespace, inventory host
_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$"
)
_USER_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,63}\$?$")


class TargetError(ValueError):
    """A target spec that cannot be used; `str()` is one line (CLI: usage error, exit 2)."""


@dataclass(frozen=True, slots=True)
class TargetSpec:
    scheme: str  # "ssh", "local", "docker", "kubectl" or "ansible"
    host: str  # hostname or IP address without brackets; "localhost" for local://; container, pod, host
    user: str | None
    port: int | None
    raw: str
    namespace: str | None = None  # kubectl:// only

    @property
    def display(self) -> str:
        """user@host:port as a human would write it (IPv6 in brackets when a port follows)."""
        if self.scheme == "local":
            return "local://"
        if self.scheme in ("docker", "kubectl", "ansible"):
            return f"{self.scheme}://" + (f"{self.namespace}/" if self.namespace else "") + self.host
        host = f"[{self.host}]" if ":" in self.host and self.port is not None else self.host
        text = f"{self.user}@{host}" if self.user else host
        return f"{text}:{self.port}" if self.port is not None else text


# user:password@ in a target (refused: keys or the agent only) must not be shown either
_USERINFO_PASSWORD = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]{0,30}://)?[^@/\s]{0,256}?):[^@/\s]{0,1024}@")


def redact_target(raw: str) -> str:
    """The target as it may be shown: a password in its user part replaced by ***."""
    return _USERINFO_PASSWORD.sub(lambda m: f"{m.group(1)}:***@", raw, count=1)


def _fail(raw: str, reason: str) -> TargetError:
    return TargetError(f"invalid target {quoted(redact_target(raw), 120)}: {reason}")


def _check_host(raw: str, host: str) -> str:
    if not host:
        raise _fail(raw, "no host name")
    if host.startswith("-"):
        raise _fail(raw, "host name must not start with '-'")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise _fail(raw, f"{quoted(host, 80)} is not a valid IPv6 address") from None
    elif not _HOSTNAME_RE.match(host):
        raise _fail(raw, f"{quoted(host, 80)} is not a valid host name or address")
    return host


def _check_port(raw: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise _fail(raw, f"port {quoted(text, 20)} is not a number between 1 and 65535")
    return int(text)


def _named(raw: str, scheme: str, rest: str) -> TargetSpec:
    """docker://CONTAINER, kubectl://[NAMESPACE/]POD, ansible://HOST: names, never options."""
    namespace = None
    if scheme == "kubectl" and rest.count("/") == 1:
        namespace, rest = rest.split("/")
        if not _NAME_RE.match(namespace):
            raise _fail(raw, f"{quoted(namespace, 60)} is not a valid namespace")
    if not rest:
        raise _fail(raw, f"{scheme}:// needs a {'pod' if scheme == 'kubectl' else 'name'}")
    if not _NAME_RE.match(rest):
        raise _fail(raw, f"{quoted(rest, 60)} is not a valid {scheme} name")
    return TargetSpec(scheme, rest, None, None, raw, namespace)


def parse_target(raw: str) -> TargetSpec:
    """Parse one target spec; raise TargetError with a one-line reason when it is unusable."""
    if not raw or raw != raw.strip() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in raw):
        raise _fail(raw, "empty or contains whitespace/control characters")
    scheme = "ssh"
    rest = raw
    if "://" in raw:
        scheme, rest = raw.split("://", 1)
        scheme = scheme.lower()
        if scheme not in SCHEMES:
            raise _fail(raw, f"unsupported scheme {quoted(scheme, 20)} (use {', '.join(SCHEMES)})")
        if rest.endswith("/"):
            rest = rest[:-1]
        if scheme in ("docker", "kubectl", "ansible"):
            return _named(raw, scheme, rest)
        if "/" in rest or "?" in rest or "#" in rest:
            raise _fail(raw, "paths, queries and fragments are not supported")
        if scheme == "local":
            if rest not in ("", "localhost"):
                raise _fail(raw, "local:// takes no host")
            return TargetSpec("local", "localhost", None, None, raw)
    elif "/" in raw:
        raise _fail(raw, "looks like a path (use --root DIR for a directory)")
    user: str | None = None
    if "@" in rest:
        user, rest = rest.rsplit("@", 1)
        if ":" in user:
            raise _fail(raw, "passwords in the target are not supported (use keys or the ssh agent)")
        if not _USER_RE.match(user):
            raise _fail(raw, f"{quoted(user, 40)} is not a valid user name")
    port: int | None = None
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            raise _fail(raw, "missing ']' after an IPv6 address")
        host, after = rest[1:close], rest[close + 1 :]
        if after:
            if not after.startswith(":"):
                raise _fail(raw, "unexpected text after ']'")
            port = _check_port(raw, after[1:])
        if ":" not in host:
            raise _fail(raw, "brackets are for IPv6 addresses")
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
        port = _check_port(raw, port_text)
    else:
        host = rest  # a host name, or a bare IPv6 address (several colons, no port)
    return TargetSpec(scheme, _check_host(raw, host), user, port, raw)
