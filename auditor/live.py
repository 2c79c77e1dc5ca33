"""Live audits: collect from each host over SSH (one connection, one command) while probing it from
outside (TLS, HTTP, exposure, XMPP), then audit both together.

Hosts run concurrently (bounded); a host that fails yields an incomplete result for that host only,
and the others complete. Within a host the probes run beside the collection, so the whole audit
costs about the slower of the two. When the target is an address and no --domain is given, the
probes wait for the collection to learn the deployment's domain (it is the TLS SNI and HTTP Host).
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.criteria import Declaration, Profile
from auditor.engine import ProgressFn, TargetResult, audit_snapshot, failed_result
from auditor.registry import Check
from auditor.snapshot import Snapshot


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


def collect_host(raw: str, options: LiveOptions) -> Snapshot:
    """Collect one target; raises TargetError (bad spec) or TransportError (per-stage failure)."""
    from auditor.transports.local import collect_local_host
    from auditor.transports.ssh import SshOptions, collect_over_ssh
    from auditor.transports.targets import parse_target

    spec = parse_target(raw)
    if spec.scheme == "local":
        return collect_local_host()
    ssh = SshOptions(
        known_hosts=options.known_hosts,
        accept_new_host_key=options.accept_new_host_key,
        identity_files=(options.identity,) if options.identity else (),
        ssh_config=options.ssh_config,
        sudo=options.sudo,
        connect_timeout=min(options.timeout, 60.0),
        command_timeout=max(options.timeout * 6, 60.0),
    )
    return collect_over_ssh(spec, ssh)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _probe(host: str, address: str | None, options: LiveOptions) -> Any:
    from auditor.probes import ProbeOptions, ProbeTarget, run_probes

    target = ProbeTarget(
        domain=host,
        address=address,
        ca_bundle=str(options.ca_bundle) if options.ca_bundle else None,
        vantage="internal" if options.vantage == "internal" else "external",
        intrusive=options.intrusive,
    )
    return run_probes(target, ProbeOptions())


def _domain_from(snapshot: Snapshot | None) -> str | None:
    """The deployment's public domain as its collected configuration names it."""
    if snapshot is None:
        return None
    from auditor.deployment import build_deployment
    from auditor.facts import View
    from auditor.redaction import redact_snapshot

    try:
        return View(build_deployment(redact_snapshot(snapshot))).own_domain()
    except Exception:
        return None


def audit_host(
    raw: str,
    options: LiveOptions,
    profile: Profile,
    checks: list[Check],
    declarations: Mapping[str, Declaration],
    progress: ProgressFn | None = None,
) -> TargetResult:
    from auditor.probes import LIVE_KEY
    from auditor.transports.errors import CollectError, TransportError
    from auditor.transports.targets import TargetError, parse_target

    started = datetime.now(UTC)
    try:
        spec = parse_target(raw)
    except TargetError as exc:
        return failed_result(raw, "target", str(exc), started)
    if progress:
        progress(raw, "collect")
    host = spec.host
    address = host if _is_address(host) else None
    probe_now = options.probes and spec.scheme != "local" and (options.domain or address is None)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="probe") as pool:
        probe_future: Future[Any] | None = None
        if probe_now:
            probe_future = pool.submit(_probe, options.domain or host, address, options)
        snapshot: Snapshot | None = None
        error: tuple[str, str] | None = None
        try:
            snapshot = collect_host(raw, options)
        except CollectError as exc:
            snapshot = exc.snapshot if exc.snapshot is not None and exc.snapshot.items else None
            error = (exc.stage, exc.reason)
        except TransportError as exc:
            error = (exc.stage, exc.reason)
        except Exception as exc:  # never let one host take the run down
            error = ("collect", f"unexpected {type(exc).__name__}")
        if probe_future is None and options.probes and spec.scheme != "local":
            domain = _domain_from(snapshot)
            if domain:
                probe_future = pool.submit(_probe, domain, address, options)
        probes: dict[str, Any] = {}
        if probe_future is not None:
            if progress:
                progress(raw, "probes")
            # A probe run that crashed leaves no result: the live checks then say unclear.
            with contextlib.suppress(Exception):
                probes[LIVE_KEY] = probe_future.result()
    if snapshot is None:
        assert error is not None
        result = failed_result(raw, error[0], error[1], started)
        return result
    result = audit_snapshot(snapshot, profile, checks, declarations, probes, progress=progress)
    if error is not None:
        result.error_stage, result.error = error
    elif snapshot.facts.get("collection", "complete") != "complete":
        result.error = f"collection {snapshot.facts.get('collection')}"
        result.error_stage = "collect"
    elif snapshot.errors:
        result.error = snapshot.errors[0]
        result.error_stage = "collect"
    return result


def audit_hosts(
    hosts: list[str],
    options: LiveOptions,
    profile: Profile,
    checks: list[Check],
    declarations: Mapping[str, Declaration],
    progress: ProgressFn | None = None,
) -> Iterator[TargetResult]:
    """Results in the order the hosts were given."""
    workers = max(1, min(options.max_hosts, len(hosts)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="host") as pool:
        futures = [
            pool.submit(audit_host, h, options, profile, checks, declarations, progress) for h in hosts
        ]
        for future in futures:
            yield future.result()
