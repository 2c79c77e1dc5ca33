"""SSH transport (paramiko): one connection, one exec request, one stream back.

Flow per audit: TCP (directly, through ProxyJump hops as direct-tcpip channels, or through a
ProxyCommand) → SSH handshake → STRICT host-key check against known_hosts (jump hosts too) →
public-key auth (-i files, ~/.ssh/config IdentityFile, agent, default keys; never passwords) →
exactly ONE exec request:
- unprivileged: `/bin/sh -s`, the collector script sent on stdin (works whatever the login shell);
- `--sudo`: `sudo -n /usr/local/libexec/jitsi-audit-collect`, the collector installed by the
  admin with a sudoers rule for exactly that path (install steps: header of remote_collector.sh,
  printed by `jitsi-audit collector --print`). `-n` makes sudo fail at once instead of prompting.
The stream is decoded while it arrives (auditor.collect.stream); stdout and stderr are read
together so neither can stall the other.

Unknown host keys are refused unless `accept_new_host_key` is set (then the key is appended to the
known_hosts file); changed or @revoked keys are always refused. ssh_config options that would
relax this (StrictHostKeyChecking, UserKnownHostsFile) are ignored on purpose.
"""

from __future__ import annotations

import errno
import getpass
import select
import shlex
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.collect import plan
from auditor.collect.stream import StreamDecoder, StreamLimits, one_line, quoted
from auditor.snapshot import HostKey, Snapshot
from auditor.transports._paramiko import enable_match_exec, paramiko
from auditor.transports.errors import AuthError, CollectError, ConnectError, HostKeyError, TransportError
from auditor.transports.known_hosts import KnownHosts, fingerprint, host_token
from auditor.transports.targets import TargetError, TargetSpec, parse_target

DEFAULT_KEY_NAMES = ("id_ed25519", "id_ecdsa", "id_rsa")
MAX_STDERR = 8 * 1024
MAX_JUMPS = 8


@dataclass(frozen=True, slots=True)
class SshOptions:
    known_hosts: Path | None = None  # default ~/.ssh/known_hosts
    accept_new_host_key: bool = False  # trust on first use: append unknown keys to known_hosts
    identity_files: tuple[Path, ...] = ()  # -i
    use_agent: bool = True
    ssh_config: Path | None = None  # default ~/.ssh/config (when it exists)
    use_ssh_config: bool = True
    connect_timeout: float = 15.0  # TCP connect, handshake, auth, each hop
    command_timeout: float = 180.0  # the whole collection
    sudo: bool = False
    sudo_collector: str = plan.SUDO_COLLECTOR_PATH
    limits: StreamLimits = field(default_factory=StreamLimits)
    # called once the collector is on its way (exec request and script sent): the caller's other work
    # may take the CPU from then on without delaying the connection
    on_sent: Callable[[], None] | None = field(default=None, compare=False)

    def known_hosts_path(self) -> Path:
        return self.known_hosts or Path("~/.ssh/known_hosts").expanduser()


@dataclass(frozen=True, slots=True)
class _Endpoint:
    alias: str  # as given (for messages and config lookup)
    hostname: str  # after ssh_config HostName
    port: int
    user: str
    identity_files: tuple[Path, ...]
    identities_only: bool
    host_key_alias: str | None
    proxy_jump: tuple[TargetSpec, ...]
    proxy_command: str | None

    @property
    def label(self) -> str:
        host = f"[{self.hostname}]" if ":" in self.hostname else self.hostname
        return f"{self.user}@{host}:{self.port}"

    @property
    def token(self) -> str:
        return host_token(self.host_key_alias or self.hostname, self.port)


def remote_command(options: SshOptions) -> str:
    """The one command the audit runs on the target."""
    if options.sudo:
        return f"sudo -n {shlex.quote(options.sudo_collector)}"
    return "/bin/sh -s"


# -- configuration ------------------------------------------------------------------------------
def _load_ssh_config(options: SshOptions, host: str) -> paramiko.SSHConfigDict | None:
    if not options.use_ssh_config:
        return None
    path = options.ssh_config or Path("~/.ssh/config").expanduser()
    if options.ssh_config is None and not path.exists():
        return None
    enable_match_exec(path)
    try:
        return paramiko.SSHConfig.from_path(str(path)).lookup(host)
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise ConnectError(
            host, "ssh config", f"cannot use {path} for {host}: {one_line(str(exc), 160)}"
        ) from None


def _resolve(spec: TargetSpec, options: SshOptions, *, follow_jump: bool) -> _Endpoint:
    conf = _load_ssh_config(options, spec.host)
    get: Any = conf.get if conf is not None else (lambda key, default=None: default)
    port_text = str(spec.port) if spec.port is not None else str(get("port", "22"))
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConnectError(spec.host, "ssh config", f"bad Port {quoted(port_text, 20)} for {spec.host}")
    jumps: list[TargetSpec] = []
    jump_text = str(get("proxyjump", "") or "")
    if follow_jump and jump_text and jump_text.lower() != "none":
        for hop in jump_text.split(","):
            try:
                jumps.append(parse_target(hop.strip()))
            except TargetError as exc:
                raise ConnectError(spec.host, "ssh config", f"bad ProxyJump for {spec.host}: {exc}") from None
        if len(jumps) > MAX_JUMPS:
            raise ConnectError(
                spec.host, "ssh config", f"more than {MAX_JUMPS} ProxyJump hops for {spec.host}"
            )
    proxy_command = get("proxycommand")
    if jumps:
        proxy_command = None  # OpenSSH: ProxyJump takes precedence
    return _Endpoint(
        alias=spec.host,
        hostname=str(get("hostname", spec.host)),
        port=int(port_text),
        user=spec.user or str(get("user", "") or "") or getpass.getuser(),
        identity_files=tuple(Path(p).expanduser() for p in (get("identityfile") or [])),
        identities_only=str(get("identitiesonly", "no")).lower() == "yes",
        host_key_alias=get("hostkeyalias"),
        proxy_jump=tuple(jumps),
        proxy_command=str(proxy_command) if proxy_command and str(proxy_command).lower() != "none" else None,
    )


# -- connection stages --------------------------------------------------------------------------
def _tcp(ep: _Endpoint, options: SshOptions) -> socket.socket:
    try:
        return socket.create_connection((ep.hostname, ep.port), timeout=options.connect_timeout)
    except socket.gaierror as exc:
        reason = f"cannot resolve {ep.hostname}: {exc.strerror or exc}"
    except ConnectionRefusedError:
        reason = f"connection to {ep.hostname}:{ep.port} refused"
    except TimeoutError:
        reason = f"connection to {ep.hostname}:{ep.port} timed out after {options.connect_timeout:g}s"
    except OSError as exc:
        text = exc.strerror or errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        reason = f"cannot connect to {ep.hostname}:{ep.port}: {text}"
    raise ConnectError(ep.alias, "connect", reason)


def _proxy_command_sock(ep: _Endpoint, options: SshOptions) -> paramiko.ProxyCommand:
    assert ep.proxy_command is not None
    try:
        proxy = paramiko.ProxyCommand(ep.proxy_command)
        proxy.settimeout(options.connect_timeout)
        return proxy
    except (OSError, paramiko.SSHException) as exc:
        raise ConnectError(
            ep.alias, "connect", f"ProxyCommand for {ep.hostname} failed: {one_line(str(exc), 160)}"
        ) from None


def _tunnel(via: paramiko.Transport, via_label: str, ep: _Endpoint, options: SshOptions) -> paramiko.Channel:
    try:
        return via.open_channel(
            "direct-tcpip", (ep.hostname, ep.port), ("127.0.0.1", 0), timeout=options.connect_timeout
        )
    except (paramiko.SSHException, OSError, EOFError) as exc:
        text = one_line(str(exc), 160)
        reason = f"jump host {via_label} could not open a tunnel to {ep.hostname}:{ep.port}: {text}"
        raise ConnectError(ep.alias, "connect", reason) from None


def _preferred_key_types(transport: paramiko.Transport, known_types: list[str]) -> None:
    """Ask for the key types already on file first, as OpenSSH does (avoids false mismatches)."""
    options = transport.get_security_options()
    available = list(options.key_types)
    wanted: list[str] = []
    for key_type in known_types:
        expanded = ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] if key_type == "ssh-rsa" else [key_type]
        wanted += [k for k in expanded if k in available and k not in wanted]
    if wanted:
        options.key_types = wanted + [k for k in available if k not in wanted]


def _handshake(sock: Any, ep: _Endpoint, options: SshOptions, known: KnownHosts) -> paramiko.Transport:
    transport: paramiko.Transport | None = None
    try:
        transport = paramiko.Transport(sock)
        transport.banner_timeout = options.connect_timeout
        transport.auth_timeout = options.connect_timeout
        transport.handshake_timeout = options.connect_timeout
        _preferred_key_types(transport, [e.key_type for e in known.lookup(ep.token)])
        started = time.monotonic()
        try:
            # a second more than the banner timeout: a silent server is always reported as such
            transport.start_client(timeout=options.connect_timeout + 1)
        except paramiko.SSHException as exc:
            if str(exc).startswith("Error reading SSH protocol banner"):  # paramiko: a timeout or an EOF
                silent = time.monotonic() - started >= options.connect_timeout
                raise paramiko.SSHException(
                    f"no SSH banner within {options.connect_timeout:g}s (not an SSH server, or a silent one)"
                    if silent else "the connection closed before an SSH banner (not an SSH server?)"
                ) from None
            raise
        if not transport.initial_kex_done:
            # paramiko's start_client returns without an error when its timeout expires (a server
            # that accepts the connection and never speaks SSH); say so rather than fail later.
            raise paramiko.SSHException(f"no SSH handshake within {options.connect_timeout:g}s")
        transport.set_keepalive(10)
        return transport
    except (paramiko.SSHException, OSError, EOFError) as exc:
        if transport is not None:
            transport.close()  # its thread would otherwise linger until its own timeouts
        text = one_line(str(exc), 160) or type(exc).__name__
        raise ConnectError(
            ep.alias, "connect", f"SSH handshake with {ep.hostname}:{ep.port} failed: {text}"
        ) from None


def _check_host_key(
    transport: paramiko.Transport, ep: _Endpoint, options: SshOptions, known: KnownHosts, role: str
) -> tuple[HostKey, bool]:
    """Strict check; returns the key and whether it was newly accepted (TOFU)."""
    key = transport.get_remote_server_key()
    offered = HostKey(key.get_name(), fingerprint(key.asbytes()))
    token = ep.token
    who = f"{token}{role}"
    revoked = known.revoked(token, key.get_name(), key.get_base64())
    if revoked is not None:
        raise HostKeyError(
            ep.alias,
            f"host key for {who} ({offered.key_type} {offered.fingerprint_sha256}) is marked @revoked "
            f"in {known.path} line {revoked.line_no}",
            offered,
        )
    entries = known.lookup(token)
    if not entries:
        if not options.accept_new_host_key:
            extra = " (host certificates are not supported)" if known.has_cert_authority(token) else ""
            skipped = known.unreadable(token)
            if skipped:
                extra += f"; {known.path} line {skipped[0].line_no} names it with a key that cannot be read"
            raise HostKeyError(
                ep.alias,
                f"host key for {who} not in known_hosts (use --accept-new-host-key to trust on first use); "
                f"the server offered {offered.key_type} {offered.fingerprint_sha256}{extra}",
                offered,
            )
        try:
            known.append(token, key.get_name(), key.get_base64())
        except OSError as exc:
            raise HostKeyError(
                ep.alias, f"cannot add the key of {who} to {known.path}: {exc.strerror}", offered
            ) from None
        return offered, True
    if any(e.key_type == key.get_name() and e.key_b64 == key.get_base64() for e in entries):
        return offered, False
    same_type = [e for e in entries if e.key_type == key.get_name()]
    on_file = (same_type or entries)[0]
    raise HostKeyError(
        ep.alias,
        f"host key for {who} has CHANGED: {known.path} line {on_file.line_no} has {on_file.key_type} "
        f"{on_file.fingerprint}, the server offered {offered.key_type} {offered.fingerprint_sha256}; "
        "possible man-in-the-middle: verify the new key out of band, then update known_hosts",
        offered,
        known=on_file.fingerprint,
    )


def _candidate_keys(ep: _Endpoint, options: SshOptions, stack: ExitStack) -> Iterator[tuple[str, Any]]:
    """(description, key-or-error-note) in OpenSSH's spirit: -i, IdentityFile, agent, defaults."""
    files = list(options.identity_files) + [p for p in ep.identity_files if p not in options.identity_files]
    if not files:
        files = [Path("~/.ssh").expanduser() / name for name in DEFAULT_KEY_NAMES]
        explicit = False
    else:
        explicit = True
    for path in files:
        if not path.exists():
            if explicit:
                yield str(path), "missing"
            continue
        try:
            yield str(path), paramiko.PKey.from_path(path)
        except paramiko.PasswordRequiredException:
            yield str(path), "passphrase-protected: load it into ssh-agent"
        except TypeError as exc:  # cryptography's word for an encrypted OpenSSH-format key
            protected = "password" in str(exc).lower()
            yield str(path), "passphrase-protected: load it into ssh-agent" if protected else "unusable (TypeError)"
        except (paramiko.SSHException, OSError, ValueError) as exc:
            yield str(path), f"unusable ({type(exc).__name__})"
    if options.use_agent and not ep.identities_only:
        agent = paramiko.Agent()
        stack.callback(agent.close)
        for number, agent_key in enumerate(agent.get_keys(), 1):
            yield f"agent key {number} ({agent_key.get_name()})", agent_key


def _authenticate(transport: paramiko.Transport, ep: _Endpoint, options: SshOptions, role: str) -> None:
    tried: list[str] = []
    with ExitStack() as stack:
        for label, key in _candidate_keys(ep, options, stack):
            if isinstance(key, str):
                tried.append(f"{label}: {key}")
                continue
            try:
                remaining = transport.auth_publickey(ep.user, key)
            except paramiko.BadAuthenticationType as exc:
                allowed = ",".join(exc.allowed_types) or "none"
                raise AuthError(
                    ep.alias, "auth", f"{ep.label}{role} does not accept public keys (allows: {allowed})"
                ) from None
            except paramiko.AuthenticationException:
                tried.append(label)
                if not transport.is_active():
                    break  # server gave up (MaxAuthTries)
                continue
            except (paramiko.SSHException, OSError, EOFError) as exc:
                raise AuthError(
                    ep.alias,
                    "auth",
                    f"connection to {ep.label}{role} lost during auth: {one_line(str(exc), 120)}",
                ) from None
            if remaining:
                raise AuthError(
                    ep.alias,
                    "auth",
                    f"{ep.label}{role} wants more than a key ({','.join(remaining)}): not supported",
                )
            return
    detail = "; ".join(tried) if tried else "no key found (use -i, ssh-agent or ~/.ssh/config IdentityFile)"
    raise AuthError(ep.alias, "auth", f"authentication failed for {ep.label}{role} (tried: {detail})")


@dataclass(slots=True)
class _Session:
    transport: paramiko.Transport
    host_key: HostKey
    accepted_new: bool
    endpoint: _Endpoint
    jumps: list[str]


def _connect(spec: TargetSpec, options: SshOptions, stack: ExitStack) -> _Session:
    target = _resolve(spec, options, follow_jump=True)
    known = KnownHosts(options.known_hosts_path())
    previous: paramiko.Transport | None = None
    previous_label = ""
    jumps: list[str] = []
    for hop_spec in target.proxy_jump:
        hop = _resolve(hop_spec, options, follow_jump=False)
        sock: Any = (
            _tcp(hop, options) if previous is None else _tunnel(previous, previous_label, hop, options)
        )
        stack.callback(sock.close)
        transport = _handshake(sock, hop, options, known)
        stack.callback(transport.close)
        role = " (jump host)"
        _check_host_key(transport, hop, options, known, role)
        _authenticate(transport, hop, options, role)
        previous, previous_label = transport, hop.label
        jumps.append(hop.label)
    if previous is not None:
        sock = _tunnel(previous, previous_label, target, options)
    elif target.proxy_command:
        sock = _proxy_command_sock(target, options)
    else:
        sock = _tcp(target, options)
    stack.callback(sock.close)
    transport = _handshake(sock, target, options, known)
    stack.callback(transport.close)
    host_key, accepted = _check_host_key(transport, target, options, known, "")
    _authenticate(transport, target, options, "")
    return _Session(transport, host_key, accepted, target, jumps)


# -- the one exec -------------------------------------------------------------------------------
def _sudo_failure(host: str, path: str, stderr: str, exit_code: int) -> str:
    low = stderr.lower()
    if "password is required" in low or "a terminal is required" in low or "askpass" in low:
        return f"sudo needs a password on {host}; install the collector and a NOPASSWD rule, see docs"
    if "must have a tty" in low:
        return f"sudo on {host} requires a tty (Defaults requiretty); exempt the collector rule, see docs"
    if "not allowed to execute" in low or "not in the sudoers" in low or "may not run sudo" in low:
        return f"sudo on {host} refuses to run {path} as root: add the NOPASSWD rule for it, see docs"
    if "command not found" in low or "no such file" in low:
        return f"the collector is not installed at {path} on {host}; see `jitsi-audit collector --print`"
    first = one_line(stderr.strip().splitlines()[0], 160) if stderr.strip() else "no output"
    return f"sudo failed on {host} (exit {exit_code}): {first}"


def _run_collector(session: _Session, options: SshOptions, snapshot: Snapshot) -> None:
    host = session.endpoint.alias
    decoder = StreamDecoder(snapshot, options.limits)
    stderr = bytearray()
    deadline = time.monotonic() + options.command_timeout
    try:
        channel = session.transport.open_session(timeout=options.connect_timeout)
    except (paramiko.SSHException, OSError, EOFError) as exc:
        raise CollectError(
            host, "collect", f"cannot open a session on {host}: {one_line(str(exc), 160)}"
        ) from None
    timed_out = False
    try:
        channel.exec_command(remote_command(options))
        if not options.sudo:
            channel.sendall(plan.collector_script().encode())
        channel.shutdown_write()
        if options.on_sent is not None:
            options.on_sent()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            select.select([channel], [], [], min(remaining, 1.0))
            while channel.recv_stderr_ready():
                chunk = channel.recv_stderr(65536)
                if len(stderr) < MAX_STDERR:
                    stderr += chunk[: MAX_STDERR - len(stderr)]
            if channel.recv_ready():
                data = channel.recv(65536)
                if data:
                    decoder.feed(data)
                    if decoder.full:
                        break
                    continue
            if (channel.eof_received and not channel.recv_ready()) or channel.closed:
                break
            if not session.transport.is_active():
                break
        settle = time.monotonic() + min(5.0, max(0.5, deadline - time.monotonic()))
        while not channel.exit_status_ready() and session.transport.is_active() and time.monotonic() < settle:
            time.sleep(0.05)
        while channel.recv_stderr_ready() and len(stderr) < MAX_STDERR:
            stderr += channel.recv_stderr(65536)[: MAX_STDERR - len(stderr)]
        exit_code = channel.exit_status if channel.exit_status_ready() else -1
    except (paramiko.SSHException, OSError, EOFError) as exc:
        decoder.finish()
        raise CollectError(
            host,
            "collect",
            f"connection to {host} failed during collection: {one_line(str(exc), 120)}",
            snapshot,
        ) from None
    finally:
        channel.close()
    decoder.finish()
    err_text = stderr.decode("utf-8", errors="replace")
    received = f"{decoder.bytes_received} bytes, {len(snapshot.items)} items received"
    if timed_out:
        raise CollectError(
            host,
            "collect",
            f"collection on {host} timed out after {options.command_timeout:g}s ({received})",
            snapshot,
        )
    if decoder.header is None:
        if exit_code == -1 and not session.transport.is_active():
            # no exit status and the connection is gone: it dropped before any output arrived
            raise CollectError(
                host, "collect", f"connection to {host} dropped during collection ({received})", snapshot
            )
        if options.sudo:
            raise CollectError(
                host, "sudo", _sudo_failure(host, options.sudo_collector, err_text, exit_code), snapshot
            )
        first = one_line(err_text.strip().splitlines()[0], 160) if err_text.strip() else "no output"
        raise CollectError(
            host, "collect", f"the collector did not start on {host} (exit {exit_code}): {first}", snapshot
        )
    if decoder.overflow:
        raise CollectError(
            host,
            "collect",
            f"the stream from {host} exceeded the limits; reading stopped ({received})",
            snapshot,
        )
    if not decoder.complete:
        if exit_code == -1:
            reason = f"connection to {host} dropped during collection ({received})"
        else:
            reason = f"the collector on {host} stopped early with exit code {exit_code} ({received})"
        raise CollectError(host, "collect", reason, snapshot)
    if exit_code not in (0, -1):
        snapshot.errors.append(f"collect: the collector on {host} exited with code {exit_code}")


def collect_over_ssh(spec: TargetSpec, options: SshOptions | None = None) -> Snapshot:
    """Audit one host over SSH. Raises ConnectError, HostKeyError, AuthError or CollectError.

    On CollectError, `exc.snapshot` holds what was received (its facts say "incomplete").
    """
    options = options or SshOptions()
    if spec.scheme != "ssh":
        raise ConnectError(spec.host, "connect", f"{spec.raw!r} is not an ssh target")
    snapshot = Snapshot(target=spec.raw, transport="ssh")
    with ExitStack() as stack:
        try:
            session = _connect(spec, options, stack)
        except TransportError:
            raise
        except Exception as exc:  # anything paramiko did not wrap: keep it one line, typed
            reason = f"{spec.display}: {type(exc).__name__}: {one_line(str(exc), 160)}"
            raise ConnectError(spec.host, "connect", reason) from None
        ep = session.endpoint
        snapshot.host_key = session.host_key
        snapshot.facts.update(
            {
                "ssh.host": ep.hostname,
                "ssh.port": str(ep.port),
                "ssh.user": ep.user,
                "ssh.host_key_new": "yes" if session.accepted_new else "no",
                "sudo": "yes" if options.sudo else "no",
            }
        )
        if session.jumps:
            snapshot.facts["ssh.jump"] = ",".join(session.jumps)
        try:
            _run_collector(session, options, snapshot)
        except TransportError:
            raise
        except Exception as exc:
            reason = f"{spec.display}: {type(exc).__name__}: {one_line(str(exc), 160)}"
            raise CollectError(spec.host, "collect", reason, snapshot) from None
        finally:
            snapshot.finished_at = datetime.now(UTC)
    return snapshot
