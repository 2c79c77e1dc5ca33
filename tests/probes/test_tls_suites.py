"""Bookkeeping of the elimination (tls_suites) and of the process-wide TLS pool (tls_pool).

The handshakes here are answered by a scripted server (which suites it accepts, in its order of
preference); what is tested is the bookkeeping around them. The real servers are in
test_tls_elimination_lab.py. The nassl clients themselves are real (which suites a client can offer)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sslyze.plugins.openssl_cipher_suites.cipher_suites import CipherSuitesRepository
from sslyze.server_connectivity import ServerConnectivityInfo, TlsVersionEnum

from auditor.probes import tls_suites
from auditor.probes.tls_pool import TlsPool
from auditor.probes.tls_suites import (
    OFFERS_FILE,
    SHORT_OFFER,
    Outcome,
    can_offer,
    computed_offers,
    eliminate,
    offers,
    offers_table,
    scan_result,
    uses_legacy_client,
)

V = TlsVersionEnum
INFO: Any = None  # the scripted server needs no connection facts


def suite(version: TlsVersionEnum, openssl_name: str) -> Any:
    return next(s for o in offers(version) for s in o.suites if s.openssl_name == openssl_name)


class Server:
    """Accepts `accepted[version]` (OpenSSL names, preferred first); logs every handshake."""

    def __init__(self, accepted: dict[TlsVersionEnum, list[str]], **odd: Any) -> None:
        self.accepted = accepted
        self.odd = odd
        self.log: list[tuple[TlsVersionEnum, bool, list[str]]] = []
        self.lock = threading.Lock()

    def __call__(self, info: ServerConnectivityInfo, version: TlsVersionEnum, legacy: bool, names: str) -> Outcome:
        offered = names.split(":")
        with self.lock:
            self.log.append((version, legacy, offered))
        if self.odd.get("unknown") == version:
            return Outcome("unknown", message="ConnectionToServerFailed: reset")
        if self.odd.get("choke") == version and len(offered) > 5:
            return Outcome("rejected", message="Server closed the connection during the TLS handshake")
        if self.odd.get("rogue") == version:
            return Outcome("accepted", "NOT-OFFERED-SUITE")
        for name in self.accepted.get(version, []):
            if name in offered:
                return Outcome("accepted", name)
        if names == SHORT_OFFER.get(version) and self.odd.get("choke") == version:
            return Outcome("accepted", offered[0])
        if version in self.odd.get("refuse", ()):  # sslyze's message for a protocol_version alert
            return Outcome("rejected", message="TLS alert: protocol version ")
        return Outcome("rejected", message="TLS alert: handshake failure")


def run(server: Server, versions: list[TlsVersionEnum], limit: int = 1) -> Any:
    return eliminate(INFO, versions, TlsPool(8).lane(limit), time.monotonic() + 30, hs=server)


TLS12 = ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305",
         "AES128-SHA", "DES-CBC3-SHA"]


def test_can_offer_follows_what_openssl_puts_in_a_client_hello() -> None:
    assert can_offer(V.TLS_1_2, True, suite(V.TLS_1_2, "AES128-GCM-SHA256"))
    gcm = next(s for s in offers(V.TLS_1_2)[0].suites if s.openssl_name == "AES128-GCM-SHA256")
    assert not can_offer(V.TLS_1_0, True, gcm)  # a TLS 1.2 suite in a TLS 1.0 hello: sslyze drops it too
    assert all(gcm.name != s.name for o in offers(V.TLS_1_0) for s in o.suites)


def test_the_recorded_offers_are_what_the_clients_offer() -> None:
    """tls_offers.json holds can_offer()'s verdicts with the installed nassl and sslyze (after an upgrade of
    either, rewrite it with `python -m auditor.probes.tls_suites`; until then offers() works them out)."""
    record = json.loads(OFFERS_FILE.read_text(encoding="utf-8"))
    assert record["releases"] == tls_suites.releases()
    table: Any = offers_table()
    for version in V:
        seen, fresh = record["offers"][version.name], table["offers"][version.name]
        verdicts = {**dict.fromkeys(seen["refused"], False), **dict.fromkeys(seen["offered"], True)}
        now = {**dict.fromkeys(fresh["refused"], False), **dict.fromkeys(fresh["offered"], True)}
        assert {k: v for k, v in now.items() if k in verdicts} == {k: verdicts[k] for k in now if k in verdicts}
        # sslyze spells one TLS 1.2 suite either way, by the process's string hashing: at most one is new
        assert len(set(now) - set(verdicts)) <= (1 if version == V.TLS_1_2 else 0), version


@pytest.fixture
def fresh_offers(monkeypatch: pytest.MonkeyPatch) -> Any:
    """offers() as a new process sees it, with can_offer() counted."""
    calls: list[str] = []
    real = tls_suites.can_offer

    def counted(version: Any, legacy: bool, s: Any) -> bool:
        calls.append(s.name)
        return real(version, legacy, s)

    monkeypatch.setattr(tls_suites, "can_offer", counted)
    for cached in (tls_suites._offers, tls_suites._recorded):
        cached.cache_clear()
    yield calls
    for cached in (tls_suites._offers, tls_suites._recorded):
        cached.cache_clear()


def test_offers_come_from_the_record_without_handshakes(fresh_offers: list[str]) -> None:
    found = {v: offers(v) for v in V}
    assert len(fresh_offers) <= 1  # only a suite spelled otherwise than in the recording process
    assert found == {v: computed_offers(v) for v in V}  # the same suites, clients and order


@pytest.mark.parametrize("change", ["other-release", "malformed", "not-json"])
def test_a_record_for_other_releases_is_not_used(change: str, fresh_offers: list[str], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    data: Any = offers_table()
    if change == "other-release":
        data["releases"]["nassl"] = "0.0.1"
    elif change == "malformed":
        data["offers"]["TLS_1_2"] = {"offered": "legacy:AES128-SHA", "refused": []}
    record = tmp_path / "offers.json"
    record.write_text(json.dumps(data) if change != "not-json" else "{", encoding="utf-8")
    monkeypatch.setattr(tls_suites, "OFFERS_FILE", record)
    fresh_offers.clear()
    found = offers(V.TLS_1_2)
    assert len(fresh_offers) == len(CipherSuitesRepository.get_all_cipher_suites(V.TLS_1_2))  # each one checked
    assert found == computed_offers(V.TLS_1_2)


def test_clients_are_chosen_as_sslyze_chooses_them() -> None:
    groups = {o.legacy: o for o in offers(V.TLS_1_2)}
    assert set(groups) == {True, False}  # TLS 1.2: legacy OpenSSL where it knows the suite, modern for the rest
    assert all(uses_legacy_client(V.TLS_1_2, s) == legacy for legacy, o in groups.items() for s in o.suites)
    assert "ECDHE-RSA-CHACHA20-POLY1305" in {s.openssl_name for s in groups[False].suites}
    assert [o.legacy for o in offers(V.TLS_1_3)] == [False] and len(offers(V.TLS_1_3)[0].suites) == 5
    assert [o.legacy for o in offers(V.TLS_1_0)] == [True]


def test_every_accepted_suite_found_in_accepted_plus_one_handshakes_per_chain() -> None:
    server = Server({V.TLS_1_2: TLS12, V.TLS_1_3: ["TLS_AES_128_GCM_SHA256"]})
    found = run(server, [V.TLS_1_0, V.TLS_1_2, V.TLS_1_3])
    assert found.fallback == {}
    names = {a.cipher_suite.openssl_name for a in found.results[V.TLS_1_2].accepted_cipher_suites}
    assert names == set(TLS12)
    # TLS 1.0: 1 rejection + 1 short offer; TLS 1.2: 4 legacy suites + 1, 1 modern suite + 1; TLS 1.3: 1 + 1
    assert found.handshakes == len(server.log) == 2 + (4 + 1) + (1 + 1) + (1 + 1)
    for version, legacy, offered in server.log:  # each suite offered by the client sslyze would use
        if len(offered) > 1 or version != V.TLS_1_0:
            assert all(uses_legacy_client(version, suite(version, n)) == legacy for n in offered)
    assert found.results[V.TLS_1_0].accepted_cipher_suites == []


def test_a_version_refused_by_a_protocol_version_alert_needs_no_short_offer() -> None:
    server = Server({V.TLS_1_2: ["AES128-SHA"]}, refuse=(V.TLS_1_0, V.TLS_1_1))
    found = run(server, [V.SSL_3_0, V.TLS_1_0, V.TLS_1_1, V.TLS_1_2])
    assert found.fallback == {}
    assert [v for v, _, offered in server.log if ":".join(offered) == SHORT_OFFER.get(v)] == [V.SSL_3_0]
    # SSL 3.0: rejection + short offer; TLS 1.0, 1.1: one each; TLS 1.2: legacy chain 1 + 1, modern chain 1
    assert found.handshakes == len(server.log) == 2 + 1 + 1 + (2 + 1)
    for version in (V.TLS_1_0, V.TLS_1_1):
        rejected = found.results[version].rejected_cipher_suites
        assert not found.results[version].accepted_cipher_suites and rejected
        assert {r.error_message for r in rejected} == {"TLS alert: protocol version "}


def test_result_lists_are_sslyzes() -> None:
    server = Server({V.TLS_1_2: TLS12})
    result = run(server, [V.TLS_1_2]).results[V.TLS_1_2]
    accepted = [a.cipher_suite.name for a in result.accepted_cipher_suites]
    rejected = [r.cipher_suite.name for r in result.rejected_cipher_suites]
    assert accepted == sorted(accepted, reverse=True) and rejected == sorted(rejected, reverse=True)
    everything = {s.name for o in offers(V.TLS_1_2) for s in o.suites}
    assert set(accepted) | set(rejected) == everything and not set(accepted) & set(rejected)
    assert {r.error_message for r in result.rejected_cipher_suites} == {"TLS alert: handshake failure"}
    assert result.is_tls_version_supported and not scan_result(V.TLS_1_1, [], "x").is_tls_version_supported


def test_chains_split_to_fill_idle_connections_and_find_the_same_suites() -> None:
    many = [s.openssl_name for s in offers(V.TLS_1_0)[0].suites][:40]
    serial, parallel = Server({V.TLS_1_0: many}), Server({V.TLS_1_0: many})
    one, four = run(serial, [V.TLS_1_0], limit=1), run(parallel, [V.TLS_1_0], limit=4)
    assert one.results == four.results and len(one.results[V.TLS_1_0].accepted_cipher_suites) == 40
    assert one.handshakes == 41
    assert 41 < four.handshakes <= 2 * 40 + 1  # every split costs one more rejection, never more


@pytest.mark.parametrize(("odd", "reason"), [
    ({"unknown": V.TLS_1_2}, "reset"),
    ({"rogue": V.TLS_1_2}, "not offered"),
    ({"choke": V.TLS_1_2}, "rejected the full offer but not a short one"),
])
def test_a_version_that_cannot_conclude_is_left_to_the_per_suite_scan(odd: dict[str, Any], reason: str) -> None:
    server = Server({V.TLS_1_2: TLS12, V.TLS_1_1: ["AES128-SHA"]}, **odd)
    found = run(server, [V.TLS_1_1, V.TLS_1_2])
    assert set(found.fallback) == {V.TLS_1_2} and reason in found.fallback[V.TLS_1_2]
    assert V.TLS_1_2 not in found.results
    assert [a.cipher_suite.openssl_name for a in found.results[V.TLS_1_1].accepted_cipher_suites] == ["AES128-SHA"]


def test_pool_bounds_each_lane_and_the_process() -> None:
    pool = TlsPool(max_connections=5, idle_seconds=0.2)
    running: dict[str, int] = {}
    peak: dict[str, int] = {}
    lock = threading.Lock()

    def job(name: str) -> str:
        with lock:
            running[name] = running.get(name, 0) + 1
            peak[name] = max(peak.get(name, 0), running[name])
        time.sleep(0.02)
        with lock:
            running[name] -= 1
        return name

    lanes = {name: pool.lane(limit) for name, limit in (("a", 2), ("b", 3), ("c", 3))}
    futures = [lane.submit(job, name) for name, lane in lanes.items() for _ in range(12)]
    assert [f.result(timeout=10) for f in futures] == [n for n in lanes for _ in range(12)]
    assert peak["a"] <= 2 and peak["b"] <= 3 and peak["c"] <= 3
    assert pool.peak_running <= 5 and peak["c"] >= 1  # every lane gets its turn


def test_pool_runs_first_jobs_ahead_and_passes_exceptions() -> None:
    pool = TlsPool(max_connections=1)
    lane = pool.lane(1)
    gate = threading.Event()
    order: list[str] = []
    blocker = lane.submit(gate.wait, 5)
    later = [lane.submit(order.append, "queued") for _ in range(2)]
    ahead = lane.submit(order.append, "first", first=True)
    failing = lane.submit(int, "not a number")
    gate.set()
    assert blocker.result(timeout=5) is True
    for f in (*later, ahead):
        f.result(timeout=5)
    assert order == ["first", "queued", "queued"]
    with pytest.raises(ValueError):
        failing.result(timeout=5)
