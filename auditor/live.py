"""Live audits: collect from each host (SSH: one connection, one command) while probing it from
outside (TLS, HTTP, exposure, XMPP), then audit both together.

Hosts run concurrently (at most `max_hosts`); a host that fails or overruns `host_timeout` yields an
incomplete result for that host only, and the others complete. Within a host the probes run beside
the collection, so the whole audit costs about the slower of the two; the probes open at most
`max_connections` connections to the host at once (the collection uses one more; docker:// and
kubectl:// run at most that many execs at once). When the target is an address and no domain is
known, the probes wait for the collection to learn the deployment's domain (the TLS SNI, HTTP Host).

Targets: ssh (default), `local://`, `docker://`, `kubectl://`, `ansible://` (resolved through the
Ansible inventory to one of the others), each optionally with per-host settings from an inventory
(`HostJob`: key, sudo, domain, CA bundle, roles, display name).
"""

from __future__ import annotations

import contextlib
import ipaddress
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:  # imported where used: a host's worker starts its connections before the audit's imports
    from auditor.criteria import Declaration, Profile
    from auditor.engine import Prepared, ProgressFn, TargetResult
    from auditor.registry import Check
    from auditor.snapshot import Snapshot

# The checks to run, or a callable giving them when the host's evidence is in: the command line starts the
# hosts' collections and probes first and registers the checks while it waits (auditor.cli).
CheckSource: TypeAlias = "list[Check] | Callable[[], list[Check]]"

HOST_TIMEOUT_GRACE = 5.0  # seconds past --host-timeout before a host's worker is abandoned


@dataclass(frozen=True, slots=True)
class LiveOptions:
    known_hosts: Path | None = None
    accept_new_host_key: bool = False
    identity: Path | None = None
    ssh_config: Path | None = None
    sudo: bool = False
    timeout: float = 30.0
    max_hosts: int = 8
    probes: bool = True
    domain: str | None = None  # public name (SNI, Host); default: the target's host name
    ca_bundle: Path | None = None  # extra trust anchors for the TLS probes
    vantage: str = "external"
    intrusive: bool = False
    host_timeout: float | None = None  # whole audit of one host, seconds (None: the stage timeouts only)
    max_connections: int = 10  # connections to one host at once (probes; container execs)
    https_port: int = 443  # the web front (docker-jitsi-meet publishes 8443 and 8000 by default)
    http_port: int = 80


@dataclass(frozen=True, slots=True)
class HostJob:
    """One target of a fleet run, with its inventory settings (None: the run's options)."""

    target: str
    name: str | None = None  # the report's name for it (the inventory's), default the target
    identity: Path | None = None
    roles: tuple[str, ...] = ()
    domain: str | None = None
    ca_bundle: Path | None = None
    sudo: bool | None = None
    https_port: int | None = None
    http_port: int | None = None

    @property
    def label(self) -> str:
        return self.name or self.target

    def options(self, base: LiveOptions) -> LiveOptions:
        return replace(
            base,
            identity=self.identity or base.identity,
            domain=self.domain or base.domain,
            ca_bundle=self.ca_bundle or base.ca_bundle,
            sudo=base.sudo if self.sudo is None else self.sudo,
            https_port=self.https_port or base.https_port,
            http_port=self.http_port or base.http_port,
        )

    @classmethod
    def from_inventory(cls, host: Any) -> HostJob:
        """From an auditor.inventory.InventoryHost."""
        return cls(host.target, host.name if host.name != host.target else None, host.key, tuple(host.roles),
                   host.domain, host.ca_bundle, host.sudo, host.https_port, host.http_port)


def collect_host(raw: str, options: LiveOptions, on_sent: Callable[[], None] | None = None) -> Snapshot:
    """Collect one target; raises TargetError (bad spec) or TransportError (per-stage failure).

    `on_sent`: called when an SSH collection is on its way (exec request and script sent)."""
    from auditor.transports.targets import parse_target

    spec = parse_target(raw)
    whole = max(options.timeout * 6, 60.0)  # the collection command, end to end
    if options.host_timeout is not None:
        whole = min(whole, options.host_timeout)
    if spec.scheme == "local":
        from auditor.transports.local import collect_local_host

        return collect_local_host(timeout=whole)
    if spec.scheme in ("docker", "kubectl"):
        from auditor.transports.containers import ContainerOptions, collect_containers

        return collect_containers(spec, ContainerOptions(timeout=min(whole, max(options.timeout * 2, 30.0)),
                                                         max_parallel=options.max_connections))
    if spec.scheme == "ansible":
        from auditor.transports.ansible import resolve_ansible

        job = HostJob.from_inventory(resolve_ansible(spec.host, timeout=options.timeout))
        return collect_host(job.target, job.options(options), on_sent)
    from auditor.transports.ssh import SshOptions, collect_over_ssh

    ssh = SshOptions(
        known_hosts=options.known_hosts,
        accept_new_host_key=options.accept_new_host_key,
        identity_files=(options.identity,) if options.identity else (),
        ssh_config=options.ssh_config,
        sudo=options.sudo,
        connect_timeout=min(options.timeout, 60.0),
        command_timeout=whole,
        on_sent=on_sent,
    )
    return collect_over_ssh(spec, ssh)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _probe(host: str, address: str | None, options: LiveOptions, budget: float | None,
           on_started: Callable[[], None] | None = None) -> Any:
    from auditor.probes import ProbeOptions, ProbeTarget, run_probes

    target = ProbeTarget(
        domain=host,
        address=address,
        ca_bundle=str(options.ca_bundle) if options.ca_bundle else None,
        vantage="internal" if options.vantage == "internal" else "external",
        intrusive=options.intrusive,
        https_port=options.https_port,
        http_port=options.http_port,
    )
    popts = ProbeOptions(max_connections=max(1, options.max_connections))
    if budget is not None:  # fit the probes' own budgets into what is left of --host-timeout
        share = max(1.0, budget / 2)
        popts = replace(popts, exposure_timeout=min(popts.exposure_timeout, share),
                        tls_timeout=min(popts.tls_timeout, share), http_timeout=min(popts.http_timeout, share / 2),
                        xmpp_timeout=min(popts.xmpp_timeout, share / 2))
    return run_probes(target, popts, on_started)


def probe_problems(results: Any) -> list[str]:
    """Why the live evidence of a host is incomplete: a probe that failed or timed out, the HTTPS front
    not completing a TLS handshake, or the web front answering with a server error."""
    problems: list[str] = []
    for run in getattr(results, "runs", ()):
        if run.status in ("failed", "timeout"):
            what = "timed out" if run.status == "timeout" else "failed"
            problems.append(f"probe {run.name}: {what}: {run.reason or 'no reason given'}")
    tls = getattr(results, "tls", None)
    for endpoint in getattr(tls, "endpoints", ()) if tls is not None else ():
        if endpoint.service == "web HTTPS" and endpoint.status in ("error", "timeout"):
            problems.append(f"probe tls: port {endpoint.port}: {endpoint.status}: {endpoint.error or 'no handshake'}")
    http = getattr(results, "http", None)
    for answer in (getattr(http, "plain", None), getattr(http, "https", None)) if http is not None else ():
        if answer is not None and answer.status is not None and answer.status >= 500:
            problems.append(f"probe http: port {answer.port} {answer.path} answered {answer.status}")
    return problems


def _prepare(snapshot: Snapshot | None) -> Prepared | None:
    """Redact and parse the collected evidence once, while the probes run: the audit reuses it, and when
    the target is an address the probes learn the deployment's public domain from it."""
    if snapshot is None:
        return None
    from auditor.engine import prepare_snapshot

    try:
        return prepare_snapshot(snapshot)
    except Exception:  # the audit then builds it again and reports what went wrong
        return None


def _domain_from(prepared: Prepared | None) -> str | None:
    """The deployment's public domain as its collected configuration names it."""
    if prepared is None:
        return None
    from auditor.facts import View

    try:
        return View(prepared.deployment).public_domain()
    except Exception:
        return None


def _checks(source: CheckSource) -> list[Check]:
    return source() if callable(source) else source


def _resolve_job(job: HostJob, timeout: float) -> HostJob:
    """ansible://HOST -> the inventory's target and settings (the job's own settings win)."""
    from auditor.transports.ansible import resolve_ansible

    host = resolve_ansible(job.target.split("://", 1)[1].rstrip("/"), timeout=timeout)
    found = HostJob.from_inventory(host)
    return HostJob(found.target, job.name or host.name, job.identity or found.identity, job.roles or found.roles,
                   job.domain or found.domain, job.ca_bundle or found.ca_bundle,
                   found.sudo if job.sudo is None else job.sudo,
                   job.https_port or found.https_port, job.http_port or found.http_port)


def audit_host(
    raw: str | HostJob,
    options: LiveOptions,
    profile: Profile,
    checks: CheckSource,
    declarations: Mapping[str, Declaration],
    progress: ProgressFn | None = None,
    on_network: Callable[[], None] | None = None,
) -> TargetResult:
    """Audit one host, within `options.host_timeout` when set (then: an incomplete result).

    `on_network`: called once the host's collection and probes are on their way (see HostRun)."""
    job = raw if isinstance(raw, HostJob) else HostJob(raw)
    if options.host_timeout is None:
        return _audit_host(job, options, profile, checks, declarations, progress, on_network)
    from auditor.probes.net import run_with_deadline

    started = datetime.now(UTC)
    status, value, exc = run_with_deadline(
        lambda: _audit_host(job, options, profile, checks, declarations, progress, on_network),
        options.host_timeout + HOST_TIMEOUT_GRACE,
    )
    if status == "ok" and value is not None:
        return value
    from auditor.engine import failed_result

    if status == "timeout":
        reason = f"no result within the host timeout of {options.host_timeout:g}s"
        result = failed_result(job.label, "timeout", reason, started)
    else:
        result = failed_result(job.label, "audit", f"unexpected {type(exc).__name__}", started)
    if progress:
        progress(job.label, "failed")
    return result


def _audit_host(
    job: HostJob,
    base: LiveOptions,
    profile: Profile,
    checks: CheckSource,
    declarations: Mapping[str, Declaration],
    progress: ProgressFn | None,
    on_network: Callable[[], None] | None = None,
) -> TargetResult:
    # auditor.engine (the parsers, facts, checks' context: ~0.25 s) is imported once the host is on the
    # network, never before its connections
    from auditor.probes.model import LIVE_KEY
    from auditor.transports.errors import CollectError, TransportError
    from auditor.transports.targets import TargetError, parse_target

    started = datetime.now(UTC)
    t0 = time.monotonic()
    label = job.label

    def say(stage: str) -> None:
        if progress:
            progress(label, stage)

    def fail(stage: str, reason: str) -> TargetResult:
        from auditor.engine import failed_result
        from auditor.roles import HostRoles

        say("failed")
        result = failed_result(label, stage, reason, started)
        if job.roles:  # what the inventory says it runs, known although the host could not be audited
            result.roles = HostRoles(tuple(job.roles), "inventory")
        return result

    try:
        if job.target.startswith("ansible://"):
            say("inventory")
            parse_target(job.target)
            job = _resolve_job(job, base.timeout if base.host_timeout is None
                               else min(base.timeout, max(1.0, base.host_timeout / 2)))
        spec = parse_target(job.target)
    except TargetError as exc:
        return fail("target", str(exc))
    except TransportError as exc:
        return fail(exc.stage, exc.reason)
    options = job.options(base)
    if base.host_timeout is not None:  # no single stage may outlive the host's budget
        options = replace(options, timeout=min(options.timeout, max(1.0, base.host_timeout / 6)))
    say("collect")
    host = spec.host
    address = host if _is_address(host) else None
    remote = spec.scheme == "ssh"  # only SSH targets have an address to probe from outside
    probe_now = options.probes and remote and (options.domain or address is None)

    def budget() -> float | None:
        return None if base.host_timeout is None else base.host_timeout - (time.monotonic() - t0)

    waiting = {"collect", "probes"} if probe_now else {"collect"}

    def underway(part: str) -> None:
        waiting.discard(part)  # set operations are atomic; on_network is idempotent (HostRun)
        if not waiting and on_network is not None:
            on_network()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="probe") as pool:
        probe_future: Future[Any] | None = None
        if probe_now:
            probe_future = pool.submit(_probe, options.domain or host, address, options, budget(),
                                       lambda: underway("probes"))
        snapshot: Snapshot | None = None
        error: tuple[str, str] | None = None
        try:
            snapshot = collect_host(job.target, options, lambda: underway("collect"))
        except CollectError as exc:
            snapshot = exc.snapshot if exc.snapshot is not None and exc.snapshot.items else None
            error = (exc.stage, exc.reason)
        except TransportError as exc:
            error = (exc.stage, exc.reason)
        except Exception as exc:  # never let one host take the run down
            error = ("collect", f"unexpected {type(exc).__name__}")
        underway("collect")
        if snapshot is not None:
            say("parse")
        prepared = _prepare(snapshot)  # while the probes run
        if probe_future is None and options.probes and remote:
            domain = _domain_from(prepared)
            if domain:
                probe_future = pool.submit(_probe, domain, address, options, budget())
        probes: dict[str, Any] = {}
        if probe_future is not None:
            say("probes")
            # A probe run that crashed leaves no result: the live checks then say unclear.
            with contextlib.suppress(Exception):
                probes[LIVE_KEY] = probe_future.result()
    if snapshot is None:
        assert error is not None
        return fail(error[0], error[1])
    try:
        to_run = _checks(checks)
    except Exception:  # the command line stops the run (exit 2) when its checks cannot be loaded
        return fail("checks", "the checks could not be loaded")
    from auditor.engine import audit_snapshot

    result = audit_snapshot(snapshot, profile, to_run, declarations, probes,
                            progress=(lambda _t, stage: say(stage)) if progress else None, roles=job.roles or None,
                            prepared=prepared)
    result.target = label
    if LIVE_KEY in probes:
        result.problems.extend(probe_problems(probes[LIVE_KEY]))
    if error is not None:
        result.error_stage, result.error = error
    elif snapshot.facts.get("collection", "complete") != "complete":
        result.error = snapshot.errors[0] if snapshot.errors else f"collection {snapshot.facts.get('collection')}"
        result.error_stage = "collect"
    elif snapshot.errors:
        result.error = snapshot.errors[0]
        result.error_stage = "collect"
    say("failed" if result.error else "done")
    return result


class HostRun:
    """Host audits started at once, at most `max_hosts` at a time; iterating gives the results in the order
    the hosts were given.

    `wait_on_network` returns once the hosts that start at once have their collection and probes on the way
    (or ended): the command line registers the checks only then, so its imports do not hold the
    interpreter while the hosts' connections and probes need it (one process: one thread runs at a time)."""

    def __init__(self, hosts: list[str] | list[HostJob] | list[str | HostJob], max_hosts: int,
                 audit: Callable[[str | HostJob, Callable[[], None]], TargetResult]) -> None:
        workers = max(1, min(max_hosts, len(hosts)))
        self._first = min(workers, len(hosts))
        self._underway = threading.Semaphore(0)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="host")
        self._futures = [self._pool.submit(self._run, audit, h) for h in hosts]

    def _run(self, audit: Callable[[str | HostJob, Callable[[], None]], TargetResult],
             host: str | HostJob) -> TargetResult:
        once = threading.Lock()

        def on_network() -> None:
            if once.acquire(blocking=False):  # never released: the first call alone counts
                self._underway.release()

        try:
            return audit(host, on_network)
        finally:
            on_network()

    def wait_on_network(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for _ in range(self._first):
            if not self._underway.acquire(timeout=max(0.0, deadline - time.monotonic())):
                return

    def __iter__(self) -> Iterator[TargetResult]:
        try:
            for future in self._futures:
                yield future.result()
        finally:
            self._pool.shutdown(wait=True)

    def cancel(self) -> None:
        """Start no host that has not started yet; those under way end on their own (bounded by timeouts)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def audit_hosts(
    hosts: list[str] | list[HostJob] | list[str | HostJob],
    options: LiveOptions,
    profile: Profile,
    checks: CheckSource,
    declarations: Mapping[str, Declaration],
    progress: ProgressFn | None = None,
) -> HostRun:
    """Start every host now (collection and probes); iterate for the results, in the order given.

    The command line starts them before it registers the checks (`checks` may then be a callable that
    blocks until they are registered), so collections and probes are on the network meanwhile."""
    return HostRun(hosts, options.max_hosts,
                   lambda h, on_network: audit_host(h, options, profile, checks, declarations, progress, on_network))
