"""run_probes: the web front's TLS scan and the TCP part of the exposure first, then the other TLS ports
alongside HTTP+XMPP and the exposure's UDP part (a silent UDP port costs a full wait, which nothing else
needs), each probe within its own time budget.

The TLS, HTTP and XMPP modules (sslyze, httpx: ~0.4 s of imports) are imported in a thread of their own
while the exposure probe's TCP connections wait on the network."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlsplit

from auditor.probes.exposure import probe_exposure, udp_wait
from auditor.probes.model import (
    JITSI_UDP_PORTS,
    ExposureResult,
    HttpResult,
    PortState,
    ProbeOptions,
    ProbeResults,
    ProbeRun,
    ProbeTarget,
    TlsResult,
    XmppResult,
)
from auditor.probes.net import resolve, run_with_deadline, sanitize

R = TypeVar("R")
GRACE = 2.0  # seconds a probe may overrun its soft deadline before it is abandoned
EARLY_TLS = 2  # connections of the web front's TLS scan while the exposure probe's TCP part runs
_CLEAN_PATH = re.compile(r"^/[A-Za-z0-9/_.-]{0,100}$")


def _timed(name: str, timeout: float, fn: Callable[[float], R], *,
           intrusive: bool = False) -> tuple[ProbeRun, R | None]:
    start = time.monotonic()
    deadline = start + timeout
    status, value, exc = run_with_deadline(lambda: fn(deadline), timeout + GRACE)
    took = round(time.monotonic() - start, 3)
    if status == "ok":
        return ProbeRun(name, "ok", None, took, intrusive), value
    if status == "timeout":
        return ProbeRun(name, "timeout", f"no result within {timeout:g} s", took, intrusive), None
    reason = sanitize(f"{type(exc).__name__}: {exc}", 200) if exc else "failed"
    return ProbeRun(name, "failed", reason, took, intrusive), None


def _import_probe_modules() -> threading.Thread:
    """Import the TLS, HTTP and XMPP probes in the background; join the thread before using them."""

    def work() -> None:
        import importlib

        # sslyze imports paramiko: first paramiko without invoke (auditor.transports._paramiko)
        for name in ("auditor.transports._paramiko", "auditor.probes.tls", "auditor.probes.http",
                     "auditor.probes.xmpp"):
            try:
                importlib.import_module(name)
            except Exception:  # imported again where used, which then raises in the probe run
                return

    thread = threading.Thread(target=work, daemon=True, name="jaudit-probe-import")
    thread.start()
    return thread


def _tls_ports(target: ProbeTarget, exposure: ExposureResult | None) -> list[int]:
    from auditor.probes.tls import TLS_SERVICES

    # The slowest first after the web front: STARTTLS ports cost several round trips per handshake.
    others = sorted((p for p in TLS_SERVICES if p not in (443, target.https_port)),
                    key=lambda p: (TLS_SERVICES[p][1] is None, -p))
    ports = [target.https_port, *others]
    if exposure is None:
        return ports
    return [p for p in ports if p == target.https_port or exposure.is_open(p) is not False]


def _xmpp_domain_and_path(target: ProbeTarget, http: HttpResult | None) -> tuple[str, str]:
    domain, path = target.xmpp_domain or target.domain, "/http-bind"
    values = dict(http.config_js.values) if http and http.config_js else {}
    try:
        public_domain = json.loads(values.get("hosts.domain", "null"))
        bosh = json.loads(values.get("bosh", "null"))
    except ValueError:
        public_domain, bosh = None, None
    if target.xmpp_domain is None and isinstance(public_domain, str) and re.fullmatch(r"[A-Za-z0-9.-]{1,253}",
                                                                                       public_domain):
        domain = public_domain
    if isinstance(bosh, str):
        try:
            parts = urlsplit(bosh if "//" in bosh else "//x" + bosh)
            host = parts.hostname
        except ValueError:  # the public config.js is the target's: `//[x` is not a URL, keep /http-bind
            return domain, path
        if host in (None, "x", target.domain) and _CLEAN_PATH.match(parts.path):
            path = parts.path
    return domain, path


def run_probes(target: ProbeTarget, options: ProbeOptions | None = None,
               on_started: Callable[[], None] | None = None) -> ProbeResults:
    """Probe the host from outside. Never raises for network trouble: a probe that fails is recorded with
    its reason (and its checks become `unclear`); the others go on.

    `on_started` is called once the probe modules are imported and every probe is on its way (or the
    run ended early): the caller's other work may take the CPU from then on."""
    options = options or ProbeOptions()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.monotonic()
    importing = _import_probe_modules()
    wanted = set(options.probes)
    notes: list[str] = []
    try:
        address = target.address or resolve(target.domain)
    except OSError as exc:
        reason = f"cannot resolve {target.domain}: {sanitize(str(exc), 120)}"
        failed = tuple(ProbeRun(n, "failed", reason) for n in options.probes)
        return ProbeResults(target.domain, None, target.vantage, target.intrusive, started_at,
                            round(time.monotonic() - t0, 3), failed)
    runs: dict[str, ProbeRun] = {}
    exposure: ExposureResult | None = None
    exposure_known = threading.Event()
    udp_box: list[tuple[ProbeRun, ExposureResult | None]] = []
    connects: list[float] = []
    web_share = 2 if wanted & {"http", "xmpp"} else 0
    tls_budget = max(1, options.max_connections - web_share)
    # While the exposure probe's TCP part runs, the web front's TLS scan has EARLY_TLS of the host's
    # connections and the exposure probe the rest.
    early_tls = min(EARLY_TLS, tls_budget) if "exposure" in wanted else tls_budget
    tls_box: list[tuple[ProbeRun, TlsResult | None]] = []
    web_box: dict[str, tuple[ProbeRun, object]] = {}

    def tls_later() -> tuple[list[int], float, int]:
        """The TLS ports after the web front's, once the exposure probe's TCP part has answered."""
        from auditor.probes.tls import S2S_READ_TIMEOUT, s2s_read_timeout

        exposure_known.wait(options.exposure_timeout + GRACE)
        try:
            s2s = exposure.get(5269) if exposure is not None else None
            s2s_timeout = s2s_read_timeout(s2s.seconds if s2s is not None and s2s.state == "open" else None)
            return _tls_ports(target, exposure)[1:], s2s_timeout, tls_budget
        except Exception as exc:  # a bug here must not leave the other TLS ports silently unscanned
            notes.append(f"tls: the exposure result could not choose the TLS ports ({type(exc).__name__}): "
                         "every known TLS port was tried")
            return _tls_ports(target, None)[1:], S2S_READ_TIMEOUT, tls_budget

    def tls_lane() -> None:
        importing.join()
        from auditor.probes.tls import probe_tls

        tls_box.append(_timed("tls", options.tls_timeout, lambda d: probe_tls(
            target, address, [target.https_port], options, d, early_tls, later=tls_later)))

    tls_thread = None
    if "tls" in wanted:  # the web front's scan starts now; the other ports follow the exposure result
        tls_thread = threading.Thread(target=tls_lane, daemon=True, name="jaudit-probe-tls")
        tls_thread.start()
    if "exposure" in wanted:
        exposure_options = replace(options, max_connections=max(1, options.max_connections - early_tls))
        runs["exposure"], exposure = _timed(
            "exposure", options.exposure_timeout,
            lambda d: probe_exposure(target, address, exposure_options, d, ("tcp",), connects=connects))
    exposure_known.set()
    open_ports = None
    if exposure is not None:
        open_ports = {p.port for p in exposure.ports if p.proto == "tcp" and p.state == "open"}

    importing.join()
    from auditor.probes.http import probe_http
    from auditor.probes.xmpp import DEFAULT_ACCOUNTS, probe_xmpp

    def web_lane() -> None:
        http: HttpResult | None = None
        if "http" in wanted:
            run, http = _timed("http", options.http_timeout,
                               lambda d: probe_http(target, address, options, d, open_ports))
            web_box["http"] = (run, http)
        if "xmpp" in wanted:
            domain, path = _xmpp_domain_and_path(target, http)
            c2s_open = exposure.is_open(5222) if exposure else None
            web_box["xmpp"] = _timed("xmpp", options.xmpp_timeout,
                                     lambda d: probe_xmpp(target, address, options, domain, path, c2s_open),
                                     intrusive=target.intrusive)

    lanes = []
    if "exposure" in wanted and options.udp_ports:
        udp_budget = max(1.0, options.exposure_timeout - runs["exposure"].seconds)
        wait = udp_wait(list(connects))  # a few of the host's round trips (auditor.probes.exposure)

        def udp_lane() -> None:
            udp_box.append(_timed("exposure", udp_budget,
                                  lambda d: probe_exposure(target, address, options, d, ("udp",), wait=wait)))

        lanes.append((threading.Thread(target=udp_lane, daemon=True), udp_budget + 2 * GRACE))
    if tls_thread is not None:
        lanes.append((tls_thread, options.tls_timeout + 2 * GRACE))
    if wanted & {"http", "xmpp"}:
        lanes.append((threading.Thread(target=web_lane, daemon=True),
                      options.http_timeout + options.xmpp_timeout + 3 * GRACE))
    for thread, _ in lanes:
        if thread is not tls_thread:
            thread.start()
    if on_started is not None:
        on_started()
    for thread, limit in lanes:
        thread.join(max(0.0, t0 + options.exposure_timeout + GRACE + limit - time.monotonic()))

    if "exposure" in wanted and options.udp_ports:
        udp_run, udp = udp_box[0] if udp_box else (ProbeRun("exposure", "timeout", "abandoned"), None)
        udp_states = udp.ports if udp is not None else tuple(
            PortState("udp", p, "error", JITSI_UDP_PORTS.get(p, "unknown"),
                      f"UDP probe: {udp_run.reason or udp_run.status}") for p in options.udp_ports)
        if exposure is not None:
            exposure = ExposureResult(tuple(sorted((*exposure.ports, *udp_states), key=lambda s: (s.proto, s.port))))
        tcp_run = runs["exposure"]
        runs["exposure"] = ProbeRun("exposure", tcp_run.status, tcp_run.reason,
                                    round(tcp_run.seconds + udp_run.seconds, 3), tcp_run.intrusive)
    tls = None
    if "tls" in wanted:
        runs["tls"], tls = tls_box[0] if tls_box else (ProbeRun("tls", "timeout", "abandoned"), None)
    http_result = xmpp_result = None
    for name in ("http", "xmpp"):
        if name in wanted:
            run, value = web_box.get(name, (ProbeRun(name, "timeout", "abandoned"), None))
            runs[name] = run
            if name == "http" and isinstance(value, HttpResult):
                http_result = value
            if name == "xmpp" and isinstance(value, XmppResult):
                xmpp_result = value
    for name in options.probes:
        runs.setdefault(name, ProbeRun(name, "skipped", "not requested"))
    if target.intrusive:
        accounts = ", ".join(user for user, _ in DEFAULT_ACCOUNTS)
        notes.append(f"intrusive probes enabled: XMPP logins as {accounts} with known default passwords")
    return ProbeResults(
        domain=target.domain, address=address, vantage=target.vantage, intrusive=target.intrusive,
        started_at=started_at, seconds=round(time.monotonic() - t0, 3),
        runs=tuple(runs[n] for n in options.probes if n in runs),
        exposure=exposure, tls=tls, http=http_result, xmpp=xmpp_result, notes=tuple(notes),
    )

