"""Command line: `jitsi-audit [TARGET ...]`, plus `checks`, `schema`, `collector`, `verify` and `merge` sub-commands.

Exit codes (also in --help and the README):
  0  audit complete, no failed finding at or above --fail-on
  1  audit complete, failed findings at or above --fail-on (not waived; with --baseline: new ones
     only), or a --min-score not met
  2  usage or configuration error (bad option, profile, declarations)
  3  audit incomplete for at least one target (unreachable, auth failure, host key problem,
     evidence unreadable, or a live probe that failed or timed out: no TLS handshake on the web
     port, HTTP 5xx) — takes precedence over 1: an incomplete audit never reads as a pass
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auditor.model import Severity, Status
from auditor.report.formats import EXTENSIONS, RENDERERS, RenderContext, report_pieces
from auditor.report.safe_text import safe

# Everything else is imported where it is used: an audit starts its hosts' connections right after the
# command line is parsed and imports the parsers, facts and checks while the network answers.
if TYPE_CHECKING:
    from auditor.criteria import Declaration, Profile
    from auditor.engine import ProgressFn, TargetResult
    from auditor.gating import GateConfig, GateReport
    from auditor.live import HostJob, HostRun
    from auditor.registry import Check
    from auditor.snapshot import Snapshot

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
MAX_SHOWN_PROBLEMS = 50  # verify: a hostile bundle can have thousands (one per member)
VANTAGES = ("external", "internal")  # --vantage: where the auditor stands (auditor.live.LiveOptions)
# Seconds the audit waits at most for its hosts' collections and probes to be on their way before it
# registers the checks (their imports would otherwise take the interpreter from the connections).
NETWORK_FIRST = 2.0
# click rewraps help paragraphs; a "\b" line keeps the exit-code table as written.
EXIT_HELP = "\n\n\b\n" + __doc__.split("README):", 1)[1].strip("\n") if __doc__ else ""
DEMO_ROOT = Path(__file__).resolve().parent.parent / "examples" / "demo"

app = typer.Typer(add_completion=False, no_args_is_help=False, rich_markup_mode=None)
sub = typer.Typer(add_completion=False, rich_markup_mode=None, help="jitsi-audit helper commands")


class UsageError(Exception):
    pass


def _err(message: str) -> None:
    sys.stderr.write(f"jitsi-audit: {safe(message)}\n")


def exit_code_for(results: list[TargetResult], fail_on: Severity, gate: GateReport | None = None) -> int:
    if any(not r.complete or r.problems or _evidence_unreadable(r) for r in results):
        return EXIT_INCOMPLETE
    if gate is not None:  # waivers, baseline and minimum scores applied
        return EXIT_FINDINGS if gate.failed else EXIT_OK
    for r in results:
        if any(f.status is Status.FAIL and f.severity.rank >= fail_on.rank for f in r.findings):
            return EXIT_FINDINGS
    return EXIT_OK


def _evidence_unreadable(result: TargetResult) -> bool:
    """Files that exist but could not be read or parsed leave the audit incomplete."""
    return _unusable_evidence(result) is not None


def _unusable_evidence(result: TargetResult) -> str | None:
    """One line for the files that exist but could not be read or parsed (the first one named), or None."""
    if result.deployment is None:
        return None
    errors = [p.unusable for p in result.deployment.errors()]
    if result.deployment.prosody_error:
        errors.append(result.deployment.prosody_error)
    if not errors:
        return None
    more = f" (and {len(errors) - 1} more in the report's notes)" if len(errors) > 1 else ""
    return f"not usable: {errors[0]}{more}"


def _check_writable(path: Path) -> None:
    """A file the run will write: not a directory, in a directory that exists and may be written."""
    import os

    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a directory")
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {path}: no directory {path.parent}")
    if not os.access(path if path.exists() else path.parent, os.W_OK):
        raise UsageError(f"cannot write {path}: permission denied")


def _outputs(formats: list[str], outputs: list[Path]) -> list[tuple[str, Path | None]]:
    plan: list[tuple[str, Path | None]] = []
    for out in outputs:
        fmt = EXTENSIONS.get(out.suffix.lower())
        if fmt is None:
            if len(formats) == 1 and len(outputs) == 1:
                fmt = formats[0]
            else:
                raise UsageError(f"cannot tell the format of {out} from its extension; use --format")
        plan.append((fmt, out))
    for fmt in formats:
        if fmt not in RENDERERS:
            raise UsageError(f"unknown format {fmt!r} (choose from {', '.join(RENDERERS)})")
        if not any(f == fmt for f, _ in plan):
            plan.append((fmt, None))
    if not plan:
        plan.append(("table", None))
    return plan


@app.command(
    name="audit",
    help="Audit Jitsi Meet deployments: hosts over SSH (or docker://, kubectl://, ansible://, local://), a "
    "fleet from --inventory, --root directories, or saved --snapshot files. With no target, audits the demo "
    "configuration shipped in examples/.\n\nExit codes:" + EXIT_HELP,
)
def audit_command(
    targets: Annotated[
        list[str] | None,
        typer.Argument(help="host, user@host, ssh://user@host:port, docker://CONTAINER, "
                       "kubectl://[NAMESPACE/]POD, ansible://HOST or local://"),
    ] = None,
    inventory: Annotated[
        list[Path] | None,
        typer.Option("--inventory", help="hosts to audit: one per line, jitsi-audit YAML, or an Ansible "
                     "inventory (INI or YAML); repeatable"),
    ] = None,
    limit: Annotated[
        list[str] | None,
        typer.Option("--limit", help="only these inventory hosts or groups (globs; !x excludes, &x intersects)"),
    ] = None,
    root: Annotated[list[Path] | None, typer.Option(
        "--root", help="audit a directory of configuration files, or a copy of a host's root (read as that host); "
        "repeatable"
    )] = None,
    snapshot: Annotated[
        list[Path] | None, typer.Option("--snapshot", help="audit a saved snapshot again; repeatable")
    ] = None,
    save_snapshot: Annotated[
        Path | None, typer.Option(help="write the (redacted) collected evidence; with several targets one "
                                  "file each, numbered before the last suffix (s.json.gz: s.json-1.gz ...)")
    ] = None,
    fmt: Annotated[
        list[str] | None,
        typer.Option("--format", "-f", help="table, json, sarif, junit, html, markdown, csv (repeatable)"),
    ] = None,
    output: Annotated[
        list[Path] | None,
        typer.Option("--output", "-o", help="write a report file; the format follows the extension "
                     "(.json .sarif .xml .html .md .csv .txt); repeatable"),
    ] = None,
    fail_on: Annotated[
        str | None, typer.Option(help="lowest severity of a failed finding that fails the run (default: the "
                                 "profile's, high)")
    ] = None,
    profile: Annotated[str, typer.Option(help="built-in profile name or a YAML file")] = "default",
    declarations: Annotated[Path | None, typer.Option(help="operator declarations (YAML)")] = None,
    waivers: Annotated[
        Path | None, typer.Option(help="waivers (YAML): accepted failures with justification, approver and "
                                  "expiry (UTC, inclusive)")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option(help="a previous --format json report: only failures new since it gate")
    ] = None,
    min_score: Annotated[
        list[str] | None, typer.Option("--min-score", help="minimum score: N (overall) or CATEGORY=N")
    ] = None,
    max_waiver_days: Annotated[
        int | None, typer.Option("--max-waiver-days", help="refuse waivers expiring more than N days from "
                                 "today (overrides the profile's max_waiver_days)", metavar="N")
    ] = None,
    evidence: Annotated[
        Path | None, typer.Option(help="write an evidence bundle (.tar.gz): report, redacted snapshots, "
                                  "versions, sha256 manifest")
    ] = None,
    sign_key: Annotated[
        Path | None, typer.Option(help="Ed25519 private key (PEM or OpenSSH) signing the evidence manifest")
    ] = None,
    known_hosts: Annotated[Path | None, typer.Option(help="known_hosts file (default ~/.ssh/known_hosts)")] = None,
    accept_new_host_key: Annotated[bool, typer.Option(help="trust and record an unknown host key")] = False,
    identity: Annotated[Path | None, typer.Option("--identity", "-i", help="SSH private key")] = None,
    ssh_config: Annotated[Path | None, typer.Option(help="ssh_config file (default ~/.ssh/config)")] = None,
    sudo: Annotated[
        bool, typer.Option(help="read root-only files through `sudo -n` and the installed collector")
    ] = False,
    timeout: Annotated[
        float, typer.Option(min=1.0, help="per-host connection and command timeout, seconds")
    ] = 30.0,
    max_hosts: Annotated[int, typer.Option(min=1, max=256, help="hosts audited at once")] = 8,
    host_timeout: Annotated[
        float | None, typer.Option(min=1.0, help="whole audit of one host, seconds; then it is incomplete")
    ] = None,
    max_connections: Annotated[
        int, typer.Option(min=1, max=64, help="connections to one host at once (probes, container execs)")
    ] = 10,
    probes: Annotated[bool, typer.Option(help="probe hosts from outside (TLS, HTTP, ports, XMPP)")] = True,
    domain: Annotated[
        str | None, typer.Option(help="public name of the deployment (TLS SNI, HTTP Host) when it differs")
    ] = None,
    ca_bundle: Annotated[Path | None, typer.Option(help="extra CA certificates (PEM) for the TLS probes")] = None,
    https_port: Annotated[
        int, typer.Option(min=1, max=65535, help="the web front's HTTPS port (docker-jitsi-meet: 8443)")
    ] = 443,
    http_port: Annotated[
        int, typer.Option(min=1, max=65535, help="the web front's plain HTTP port (docker-jitsi-meet: 8000)")
    ] = 80,
    vantage: Annotated[
        str, typer.Option(metavar="external|internal", help="where the auditor stands: external or internal")
    ] = "external",
    intrusive: Annotated[
        bool, typer.Option(help="allow probes that log in with known default passwords (off by default)")
    ] = False,
    list_checks: Annotated[bool, typer.Option("--list-checks", help="list the checks and exit")] = False,
    no_color: Annotated[
        bool, typer.Option("--no-color", help="no colours in the terminal report (as NO_COLOR=1 does)")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress on stderr")] = False,
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=lambda on: _print_version() if on else None,
                           help="print the version and exit")
    ] = False,
) -> None:
    from auditor.criteria import ProfileError, load_declarations, load_profile
    from auditor.gating import BaselineError, ThresholdError, WaiverError, evaluate
    from auditor.registry import MetadataError

    EvidenceError: type[Exception] = UsageError  # the evidence modules (cryptography) only when used
    if evidence is not None or sign_key is not None:
        from auditor.evidence.bundle import EvidenceError

    # What the user wrote is checked before any host is contacted (exit 2). The check ids in the user's
    # waivers or profile files need the registered checks (~0.2 s of imports): they are validated first
    # too, so a typo costs no host an SSH session. Without such ids the hosts go on the network first, and
    # what only the checks can tell (a plugin's metadata) is found while they collect and probe.
    try:
        if vantage not in VANTAGES:
            raise UsageError(f"--vantage must be {' or '.join(VANTAGES)}, not {vantage!r}")
        prof = load_profile(profile)
        decl = load_declarations(declarations, prof) if declarations else {}
        plan = _outputs(fmt or [], output or [])
        for written in [p for _, p in plan if p is not None] + [p for p in (save_snapshot, evidence) if p]:
            _check_writable(written)  # before the audit, which may take minutes on a fleet
        try:
            severity = Severity((prof.fail_on if fail_on is None else fail_on).lower())
        except ValueError:
            raise UsageError(f"--fail-on must be one of {', '.join(s.value for s in Severity)}") from None
        gate_config = _gate_config(prof, severity, waivers, baseline, min_score, max_waiver_days)
        signer = _signing_key(sign_key, evidence)
        hosts = [] if list_checks else _jobs(list(targets or []), list(inventory or []), list(limit or []))
    except (ProfileError, UsageError, WaiverError, BaselineError, ThresholdError, EvidenceError) as exc:
        _err(str(exc))
        raise typer.Exit(EXIT_USAGE) from None

    demo_note = None
    roots = list(root or [])
    snaps = list(snapshot or [])
    if not (hosts or roots or snaps or list_checks):
        if not DEMO_ROOT.is_dir():
            _err("no target given (and the demo tree examples/demo is not installed)")
            raise typer.Exit(EXIT_USAGE)
        roots = [DEMO_ROOT]
        demo_note = (
            "No target given: auditing the demo tree examples/demo (a 2020-era Debian quick-install left "
            "unchanged). Run `jitsi-audit HOST` or `jitsi-audit --root DIR` to audit your own."
        )

    results: list[TargetResult] = []
    collected: list[Snapshot] = []

    from auditor.live import LiveOptions, audit_hosts
    from auditor.progress import FleetProgress

    total = 0 if list_checks else len(hosts) + len(roots) + len(snaps)
    with FleetProgress(total, enabled=False if quiet else None) as progress:
        ready: Future[list[Check]] = Future()
        opts = LiveOptions(
            known_hosts=known_hosts,
            accept_new_host_key=accept_new_host_key,
            identity=identity,
            ssh_config=ssh_config,
            sudo=sudo,
            timeout=timeout,
            max_hosts=max_hosts,
            probes=probes,
            domain=domain,
            ca_bundle=ca_bundle,
            vantage=vantage,
            intrusive=intrusive,
            host_timeout=host_timeout,
            max_connections=max_connections,
            https_port=https_port,
            http_port=http_port,
        )
        checks_first = not hosts or waivers is not None or bool(prof.user_check_ids)
        run = None
        if not checks_first:  # the hosts go first: they wait for the checks only to audit what they found
            run = audit_hosts(hosts, opts, prof, ready.result, decl, progress)
            run.wait_on_network(NETWORK_FIRST)
        try:
            registered = _registered_checks(prof)
            checks = prof.apply_to_checks(registered)
            if gate_config.waivers is not None:  # their check ids, now that the checks are known
                gate_config.waivers.require_known(c.id for c in registered)
        except BaseException as exc:  # the hosts must never wait for checks that will not come
            ready.set_exception(exc)
            if run is not None:
                run.cancel()
            if not isinstance(exc, ProfileError | MetadataError | WaiverError):
                raise
            _err(str(exc))
            raise typer.Exit(EXIT_USAGE) from None
        ready.set_result(checks)
        if checks_first and hosts:
            run = audit_hosts(hosts, opts, prof, ready.result, decl, progress)
        if list_checks:
            _print_checks(checks)
            return
        _run_targets(run, roots, snaps, results, collected, progress, prof, checks, decl)
        if len(results) > 1:  # a split deployment: what needs two hosts' files (auditor.across_hosts)
            from auditor.across_hosts import decide_across_hosts

            results[:] = decide_across_hosts(results, prof, checks, decl)
    for res in results:
        if res.error:
            _err(f"{res.target}: {res.error_stage}: {res.error}")
        for problem in res.problems:
            _err(f"{res.target}: {problem}")
        if not res.error and (unusable := _unusable_evidence(res)):
            _err(f"{res.target}: evidence: {unusable}")  # exit 3 says why, as for the other causes

    if save_snapshot is not None:
        _save_snapshots(save_snapshot, collected)
    gate = evaluate(results, gate_config)
    for w in gate.expired:
        _err(f"waiver for {w.check_id} ({w.source}) expired on {w.expires.isoformat()} (UTC): "
             "it no longer applies")
    code = exit_code_for(results, severity, gate)
    for kind, path in plan:
        color = None if (path is None and sys.stdout.isatty() and not no_color) else False
        ctx = RenderContext(prof, severity, code, color=color, demo_note=demo_note, gate=gate)
        _write_report(path, report_pieces(kind, results, ctx))
    if evidence is not None:
        try:
            _write_evidence(evidence, results, prof, severity, code, signer,
                            _evidence_inputs(prof, gate, waivers=waivers, baseline=baseline), gate)
        except EvidenceError as exc:
            _err(str(exc))
            raise typer.Exit(EXIT_USAGE) from None
    raise typer.Exit(code)


def _write_report(path: Path | None, pieces: Iterator[str]) -> None:
    """Write a report to stdout or a file as its pieces come (JSON and SARIF target by target). The file
    is opened once the first piece exists: a format rendered whole is then complete, as is the part of
    a streamed one that does not depend on any target."""
    first = next(pieces, "")
    if path is None:
        if hasattr(sys.stdout, "reconfigure"):  # a name that is not UTF-8 (a --root's bytes) is shown escaped
            sys.stdout.reconfigure(errors="backslashreplace")
        sys.stdout.write(first)
        for piece in pieces:
            sys.stdout.write(piece)
        return
    from auditor.atomic_output import atomic_text

    try:
        with atomic_text(path) as out:  # whole or not at all: never a truncated report
            out.write(first)
            for piece in pieces:
                out.write(piece)
    except OSError as exc:
        _err(f"cannot write {path}: {exc.strerror}")
        raise typer.Exit(EXIT_USAGE) from None


def _jobs(targets: list[str], inventories: list[Path], limits: list[str]) -> list[HostJob]:
    """Positional targets, then the inventories' hosts (after --limit); each target once."""
    from auditor.live import HostJob

    if limits and not inventories:
        raise UsageError("--limit selects hosts of an --inventory: give --inventory FILE")
    from auditor.transports.targets import redact_target

    jobs = [HostJob(redact_target(t)) for t in targets]  # refused with a password, which no report may show
    if inventories:  # auditor.inventory imports the role model (the parsers): only for inventories
        from auditor.inventory import InventoryError, limit_hosts, load_inventory
    chosen = []
    for path in inventories:
        try:
            listed = load_inventory(path)
        except InventoryError as exc:
            raise UsageError(str(exc)) from None
        if not listed:  # never the demo's audit in its place, nor an empty report that reads as a pass
            raise UsageError(f"inventory {path} lists no hosts")
        chosen += limit_hosts(listed, limits)
    if inventories and not chosen:
        raise UsageError(f"no host of {', '.join(map(str, inventories))} matches --limit {','.join(limits)}")
    jobs += [HostJob.from_inventory(h) for h in chosen]
    seen: dict[str, HostJob] = {}
    for job in jobs:
        first = seen.setdefault(job.label, job)
        if first != job:  # which settings would apply would depend on the order of the arguments
            raise UsageError(f"{job.label} is given twice with different settings (a target and an inventory "
                             "entry, or two inventories): give it once")
    return list(seen.values())


def _gate_config(
    prof: Profile,
    severity: Severity,
    waivers: Path | None,
    baseline: Path | None,
    min_score: list[str] | None,
    max_days: int | None = None,
) -> GateConfig:
    """The gate of the run; the waivers are read for their form (their check ids are validated once the
    checks are registered) and held to the longest lifetime the command line or the profile allows."""
    from auditor.criteria import max_waiver_days
    from auditor.gating import GateConfig, load_baseline, load_waivers, parse_min_scores
    from auditor.gating.waivers import utc_today

    limit = prof.max_waiver_days if max_days is None else max_waiver_days(max_days, "--max-waiver-days")
    waiver_set = load_waivers(waivers) if waivers else None
    if waiver_set is not None and limit is not None:
        waiver_set.require_within(limit, utc_today())
    return GateConfig(
        fail_on=severity,
        waivers=waiver_set,
        baseline=load_baseline(baseline) if baseline else None,
        min_scores=prof.min_scores.merged(parse_min_scores(min_score or [], [c for c, _ in prof.categories])),
    )


def _registered_checks(prof: Profile) -> list[Check]:
    """The built-in and plugin checks, validated against the profile's criteria; a plugin that cannot be
    loaded is named on stderr (one line each) and the run goes on without it."""
    from auditor.registry import all_checks, plugin_checks

    plugins, errors = plugin_checks()
    for error in errors:
        _err(error)
    return all_checks(prof.criterion_ids, plugins=plugins)


def _run_targets(
    run: HostRun | None,
    roots: list[Path],
    snaps: list[Path],
    results: list[TargetResult],
    collected: list[Snapshot],
    progress: ProgressFn,
    prof: Profile,
    checks: list[Check],
    decl: Mapping[str, Declaration],
) -> None:
    for r in roots:
        results.append(_audit_root(r, prof, checks, decl, collected, progress))
        progress(results[-1].target, "done")
    for s in snaps:
        results.append(_audit_saved(s, prof, checks, decl, collected, progress))
        progress(results[-1].target, "done")
    for res in run if run is not None else ():
        if res.snapshot is not None:
            collected.append(res.snapshot)
        results.append(res)


def _signing_key(sign_key: Path | None, evidence: Path | None) -> object | None:
    """The Ed25519 key for --sign-key, loaded before the audit so a bad key fails fast (exit 2)."""
    if sign_key is None:
        return None
    if evidence is None:
        raise UsageError("--sign-key signs the evidence bundle: give --evidence FILE too")
    from auditor.evidence.bundle import load_private_key

    return load_private_key(sign_key)


def _write_evidence(
    path: Path,
    results: list[TargetResult],
    prof: Profile,
    severity: Severity,
    code: int,
    signer: object | None,
    inputs: dict[str, tuple[Path, str | None]],
    gate: GateReport | None = None,
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from auditor.evidence.bundle import build_members, now_utc, write_bundle
    from auditor.report.json_report import render_json

    created = now_utc()
    members = build_members(
        results, render_json(results, prof, severity.value, code, gate), prof, created=created,
        probes={i: r.probes for i, r in enumerate(results) if r.probes},
        inputs={label: path for label, (path, _) in inputs.items()},
        input_sha256={label: digest for label, (_, digest) in inputs.items() if digest is not None},
    )
    key = signer if isinstance(signer, Ed25519PrivateKey) else None
    digest = write_bundle(path, members, created=created, sign_key=key)
    sys.stderr.write(f"jitsi-audit: evidence bundle {safe(str(path))}: {len(members)} members, "
                     f"manifest sha256 {digest}{', signed' if key else ''}\n")


def _evidence_inputs(
    prof: Profile, gate: GateReport | None, *, waivers: Path | None, baseline: Path | None
) -> dict[str, tuple[Path, str | None]]:
    """The user's files the run read, by the evidence bundle's input labels, each with the SHA-256 the run
    recorded of its bytes: the gating files (gate block), the declarations and every profile file of an
    `extends` chain ("profile" the one named on the command line, "profile-extends-N" N levels up)."""
    found: dict[str, tuple[Path, str | None]] = {}
    if waivers is not None:
        found["waivers"] = (waivers, gate.waivers_sha256 if gate else None)
    if baseline is not None:
        found["baseline"] = (baseline, gate.baseline_sha256 if gate else None)
    if prof.declarations_file is not None:
        found["declarations"] = (Path(prof.declarations_file[0]), prof.declarations_file[1])
    for depth, (path, digest) in enumerate(reversed(list(prof.file_sha256.items()))):
        found["profile" if depth == 0 else f"profile-extends-{depth}"] = (Path(path), digest)
    return found


def _audit_root(
    root: Path,
    prof: Profile,
    checks: list[Check],
    decl: Mapping[str, Declaration],
    collected: list[Snapshot],
    progress: ProgressFn,
) -> TargetResult:
    from auditor.engine import audit_snapshot, failed_result
    from auditor.transports.local import collect_local_dir

    started = datetime.now(UTC)
    target = str(root)
    if not root.is_dir():
        return failed_result(target, "collect", f"{root} is not a directory", started)
    from auditor.transports.errors import CollectError

    try:
        snap = collect_local_dir(root)
    except OSError as exc:
        return failed_result(target, "collect", f"cannot read {root}: {exc.strerror}", started)
    except CollectError as exc:  # a copy of a host's root, read by the collector
        return failed_result(target, "collect", exc.reason, started)
    result = _cut_short(audit_snapshot(snap, prof, checks, decl, progress=progress), snap)
    if result.snapshot is not None:
        collected.append(result.snapshot)
    return result


def _cut_short(result: TargetResult, snap: Snapshot) -> TargetResult:
    """A collection cut short (file-count or depth cap, a stream that stopped early) leaves files unread:
    the audit is incomplete (exit 3), as for live hosts; otherwise a tree hiding its configuration
    behind 5 000 junk files would audit to nothing and pass."""
    if result.error is None and (snap.errors or snap.facts.get("collection", "complete") != "complete"):
        reason = snap.errors[0] if snap.errors else f"collection {snap.facts.get('collection')}"
        result.error, result.error_stage = reason.removeprefix("collect: "), "collect"
    return result


def _audit_saved(
    path: Path,
    prof: Profile,
    checks: list[Check],
    decl: Mapping[str, Declaration],
    collected: list[Snapshot],
    progress: ProgressFn,
) -> TargetResult:
    from auditor.engine import audit_snapshot, failed_result
    from auditor.snapshot import Snapshot

    started = datetime.now(UTC)
    try:
        snap = Snapshot.load(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc) or type(exc).__name__
        return failed_result(str(path), "load", f"cannot load snapshot: {reason}", started)
    result = _cut_short(audit_snapshot(snap, prof, checks, decl, progress=progress), snap)
    if result.snapshot is not None:
        collected.append(result.snapshot)
    return result


def _save_snapshots(path: Path, snaps: list[Snapshot]) -> None:
    if not snaps:
        _err("--save-snapshot: nothing was collected")
        return
    try:
        if len(snaps) == 1:
            snaps[0].save(path)
        else:
            for i, snap in enumerate(snaps, start=1):
                snap.save(path.with_name(f"{path.stem}-{i}{path.suffix}"))
    except OSError as exc:
        _err(f"cannot write snapshot {path}: {exc.strerror}")


def _print_checks(checks: list[Check]) -> None:
    for c in checks:
        sys.stdout.write(f"{c.id:<36} {c.meta.severity.value:<8} {','.join(c.meta.criteria):<48} {c.meta.title}\n")


@sub.command("checks", help="List every check: id, severity, criteria, title.")
def checks_command(
    profile: Annotated[str, typer.Option(help="profile whose criteria validate the checks")] = "default",
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
) -> None:
    from auditor.criteria import ProfileError, load_profile
    from auditor.registry import MetadataError

    try:
        prof = load_profile(profile)
        checks = prof.apply_to_checks(_registered_checks(prof))
    except (ProfileError, MetadataError) as exc:
        _err(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    if as_json:
        data = [
            {
                "id": c.id,
                "title": c.meta.title,
                "severity": c.meta.severity.value,
                "criteria": list(c.meta.criteria),
                "rationale": c.meta.rationale,
                "remediation": c.meta.remediation,
                "references": list(c.meta.references),
            }
            for c in checks
        ]
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    _print_checks(checks)


@sub.command("schema", help="Print the JSON Schema of the --format json report.")
def schema_command() -> None:
    from auditor.report.json_model import report_schema

    sys.stdout.write(json.dumps(report_schema(), indent=2, sort_keys=True) + "\n")


@sub.command("profiles", help="List the built-in profiles.")
def profiles_command() -> None:
    from auditor.criteria import builtin_profiles

    for name in builtin_profiles():
        sys.stdout.write(name + "\n")


@sub.command("collector", help="Print the read-only remote collector script (to install for --sudo).")
def collector_command(
    print_script: Annotated[
        bool, typer.Option("--print", help="print the script (the default; the install steps spell it out)")
    ] = True,
) -> None:
    from auditor.collect.plan import collector_script

    sys.stdout.write(collector_script())


@sub.command("version", help="Print the version.")
def version_command() -> None:
    _print_version(exit_now=False)


def _print_version(exit_now: bool = True) -> None:
    from auditor import __version__

    sys.stdout.write(f"jitsi-audit {__version__}\n")
    if exit_now:  # `--version` stops before anything else on the command line is looked at
        raise typer.Exit(0)


@sub.command(
    "verify",
    help="Verify an evidence bundle: every member's sha256 against the manifest, and the Ed25519 signature "
    "(with --pubkey: that it was made by that key). Exit 0 intact, 1 changed or not a bundle at all (each "
    "problem is named), 2 the file or key cannot be read (no such file, not a regular file, a key that is "
    "not an Ed25519 public key). The archive is read in memory, never extracted.",
)
def verify_command(
    bundle: Annotated[Path, typer.Argument(help="the .tar.gz written by --evidence")],
    pubkey: Annotated[
        Path | None, typer.Option(help="Ed25519 public key (PEM or OpenSSH) expected to sign")
    ] = None,
) -> None:
    from auditor.evidence.bundle import EvidenceError, load_public_key
    from auditor.evidence.verify import verify_bundle

    try:
        key = load_public_key(pubkey) if pubkey is not None else None
        result = verify_bundle(bundle, key)
    except EvidenceError as exc:
        _err(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    except OSError as exc:  # verify_bundle raises FileNotFoundError(path) for what is not a regular file
        reason = exc.strerror or ("not a regular file" if bundle.exists() else "no such file")
        _err(f"cannot read {bundle}: {reason}")
        raise typer.Exit(EXIT_USAGE) from None
    out = sys.stdout
    for problem in result.problems[:MAX_SHOWN_PROBLEMS]:
        out.write(f"FAIL {safe(problem)}\n")
    if len(result.problems) > MAX_SHOWN_PROBLEMS:
        out.write(f"FAIL ... and {len(result.problems) - MAX_SHOWN_PROBLEMS} more problem(s)\n")
    signed = f"signature {result.signature}" + (f" ({result.key})" if result.key else "")
    if result.ok:
        # the manifest's own text on one line: a newline in it could print a second, forged "OK ..." line
        created, tool = (" ".join(safe(v).split()) for v in (result.created_at, result.tool))
        out.write(f"OK {result.members} members match the manifest; {signed}; created {created} by {tool}\n")
        raise typer.Exit(EXIT_OK)
    out.write(f"verification FAILED: {len(result.problems)} problem(s); {signed}\n")
    raise typer.Exit(EXIT_FINDINGS)


def _register_advisories() -> None:
    from auditor.advisories.cli import HELP, advisories_command

    sub.command("advisories", help=HELP)(advisories_command)


_advisories_registered: list[bool] = []  # registered on first use: audits skip its imports (0.2 s)


@sub.command(
    "merge",
    help="Merge JSON reports of split runs (CI jobs, Ansible batches) into one report. Each input is validated "
    "against the report schema; mixed profiles, --fail-on values or schema versions are refused, and a host may "
    "appear in one input only. Exit code: the merged run's (3 any target incomplete, 1 gates failed in an input "
    "run, 0 otherwise), or 2 when the inputs cannot be merged.",
)
def merge_command(
    reports: Annotated[list[Path], typer.Argument(help="JSON reports written with --format json / -o X.json")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here (default: stdout)")] = None,
) -> None:
    from auditor.report.merge import MergeError, merge_reports

    try:
        merged, warnings = merge_reports(reports)
    except MergeError as exc:
        _err(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    for w in warnings:
        _err(w)
    text = json.dumps(merged, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        from auditor.atomic_output import atomic_text

        try:
            with atomic_text(output) as out:
                out.write(text)
        except OSError as exc:
            _err(f"cannot write {output}: {exc.strerror}")
            raise typer.Exit(EXIT_USAGE) from None
    targets = merged["targets"]
    sys.stderr.write(f"jitsi-audit: merged {len(reports)} reports, {len(targets)} targets "
                     f"({sum(1 for t in targets if not t['complete'])} incomplete): exit {merged['exit_code']}\n")
    raise typer.Exit(merged["exit_code"])


SUBCOMMANDS = {"checks", "schema", "profiles", "collector", "version", "verify", "advisories", "merge"}


def main(argv: list[str] | None = None) -> None:
    """Route `jitsi-audit SUBCOMMAND ...` to the helper commands and everything else to the audit."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        if not _advisories_registered:
            _register_advisories()
            _advisories_registered.append(True)
        sub(args=args, prog_name="jitsi-audit", standalone_mode=True)
    elif args and args[0] == "audit":
        app(args=args[1:], prog_name="jitsi-audit", standalone_mode=True)
    else:
        app(args=args, prog_name="jitsi-audit", standalone_mode=True)


def entry() -> None:
    """The console script: `main()`, then the process ends without the interpreter's teardown (~0.1 s of
    module and object clean-up after an audit). Every report, snapshot and evidence file is written and
    closed inside `main()`; the standard streams are flushed here before `os._exit`. Threads still running
    then are daemon threads of abandoned probes, which a normal exit would not wait for either."""
    import contextlib
    import os

    try:
        main()
        code = 0
    except SystemExit as exc:
        code = _exit_status(exc.code)
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # a crash: the usual traceback, and the usual exit
        import traceback

        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
    except (OSError, ValueError):  # a closed pipe or stream: what Python reports at exit
        code = code or 120
    if "logging" in sys.modules:
        import logging

        logging.shutdown()
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    os._exit(code)


def _exit_status(value: object) -> int:
    """The exit status `sys.exit(value)` gives: None 0, an int itself, anything else printed and 1."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    sys.stderr.write(f"{value}\n")
    return 1


if __name__ == "__main__":
    entry()
