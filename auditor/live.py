"""Live audits: collect from each host over SSH (one connection, one command), then audit.

Hosts run concurrently (bounded); a host that fails yields an incomplete result for that host only,
and the others complete.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

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


def audit_host(
    raw: str,
    options: LiveOptions,
    profile: Profile,
    checks: list[Check],
    declarations: Mapping[str, Declaration],
    progress: ProgressFn | None = None,
) -> TargetResult:
    from auditor.transports.errors import CollectError, TransportError
    from auditor.transports.targets import TargetError

    started = datetime.now(UTC)
    if progress:
        progress(raw, "collect")
    try:
        snapshot = collect_host(raw, options)
    except TargetError as exc:
        return failed_result(raw, "target", str(exc), started)
    except CollectError as exc:
        # What arrived before the failure is still audited, but the result stays incomplete.
        if exc.snapshot is not None and exc.snapshot.items:
            result = audit_snapshot(exc.snapshot, profile, checks, declarations, progress=progress)
            result.error, result.error_stage = exc.reason, exc.stage
            return result
        return failed_result(raw, exc.stage, exc.reason, started)
    except TransportError as exc:
        return failed_result(raw, exc.stage, exc.reason, started)
    except Exception as exc:  # never let one host take the run down
        return failed_result(raw, "collect", f"unexpected {type(exc).__name__}", started)
    result = audit_snapshot(snapshot, profile, checks, declarations, progress=progress)
    if snapshot.facts.get("collection", "complete") != "complete":
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
