"""A split debian-default deployment in the lab, audited in one run (auditor.across_hosts, docs/fleet.md "Roles").

Two lab hosts serve one domain (tests.lab.variants.SPLIT_DOMAIN): `split-web` runs nginx with config.js,
`split-signalling` prosody and jicofo. Their roles are detected from what each has installed (its dpkg
status) and found. Audited in one run, the web host's checks that need prosody's files too
(auditor.roles.CROSS_ROLE) are decided with the signalling host's files, as the all-in-one debian-default
host (the same templates) decides them on its own; audited alone, they stay unclear. Neither host fails a
check for the component it does not run: those checks are N/A with the role as the reason.

What the lab cannot give a split pair: a route between its hosts (nothing is forwarded on the machine), so
the web front's /http-bind and /xmpp-websocket proxy to a prosody that is not there (live.xmpp_endpoints
fails on the web host, and only there).
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from auditor.across_hosts import _distinctive
from auditor.cli import main
from auditor.criteria import load_profile
from auditor.registry import all_checks
from auditor.roles import CROSS_ROLE, requirement
from tests.lab import LabHost
from tests.lab.variants import SPLIT_DOMAIN

pytestmark = pytest.mark.lab

# What only the lab makes fail: the web front's BOSH/websocket locations proxy to 127.0.0.1:5280 (the Debian
# template), where a split web host has no prosody, and the lab has no route to the signalling host.
LAB_MADE_FAILURES = {"web": {"live.xmpp_endpoints": "neither /http-bind nor /xmpp-websocket reaches prosody"}}


@dataclass(frozen=True)
class Run:
    code: int
    report: dict[str, Any]
    stderr: str

    def target(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = next(t for t in self.report["targets"] if t["target"] == name)
        return found


@dataclass(frozen=True)
class Split:
    web: LabHost
    sig: LabHost
    together: Run  # both hosts in one run, roles detected
    web_alone: Run
    given_roles: Run  # both hosts in one run, roles from the inventory
    all_in_one: Run  # the debian-default host: the same templates on one host


def _findings(target: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["check_id"]: f for f in target["findings"]}


def _inventory(path: Path, hosts: list[LabHost], roles: dict[str, str] | None = None) -> None:
    lines = ["hosts:"]
    for h in hosts:
        lines += [
            f"  {h.name}:", f"    host: {h.address}", f"    port: {h.ssh_port}", f"    user: {h.ssh_user}",
            f"    key: {h.ssh_key}", f"    domain: {h.domain}", f"    ca_bundle: {h.ca_cert}", "    sudo: true",
        ]  # fmt: skip
        if roles:
            lines.append(f"    role: {roles[h.name]}")
    path.write_text("\n".join(lines) + "\n")


def _audit(tmp: Path, label: str, hosts: list[LabHost], *extra: str, roles: dict[str, str] | None = None) -> Run:
    """One run of the real CLI over SSH (+ live probes) against the hosts of an inventory."""
    inventory, known, out = tmp / f"{label}.yml", tmp / f"{label}.known_hosts", tmp / f"{label}.json"
    _inventory(inventory, hosts, roles)
    known.write_text("".join(Path(h.known_hosts).read_text() for h in hosts))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as info:
        main(["--inventory", str(inventory), "--known-hosts", str(known), *extra, "-f", "json", "-o", str(out)])
    return Run(int(info.value.code or 0), json.loads(out.read_text()), err.getvalue())


@pytest.fixture(scope="module")
def split(lab_host: Callable[..., LabHost], tmp_path_factory: pytest.TempPathFactory) -> Split:
    """The pair (t-split-web, t-split-signalling) and the all-in-one host (t-debian-default): session hosts of
    tests/integration/conftest.py, stopped at the end of the session; and the runs the tests look at."""
    web, sig, aio = lab_host("split-web"), lab_host("split-signalling"), lab_host("debian-default")
    tmp = tmp_path_factory.mktemp("split")
    return Split(
        web,
        sig,
        together=_audit(tmp, "together", [web, sig]),
        web_alone=_audit(tmp, "web-alone", [web, sig], "--limit", web.name),
        given_roles=_audit(tmp, "given", [web, sig], roles={web.name: "web", sig.name: "prosody,jicofo"}),
        all_in_one=_audit(tmp, "all-in-one", [aio]),
    )


def test_the_pair_serves_one_domain_the_auditor_can_match(split: Split) -> None:
    assert split.web.domain == split.sig.domain == SPLIT_DOMAIN
    assert _distinctive(SPLIT_DOMAIN), "across_hosts would not join hosts by this name: the test proves nothing"
    assert "config_js" in split.web.files and "prosody_host" not in split.web.files
    assert "prosody_host" in split.sig.files and "config_js" not in split.sig.files


def test_roles_detected_from_what_each_host_has_installed(split: Split) -> None:
    run = split.together
    web, sig = run.target(split.web.name), run.target(split.sig.name)
    assert [t["target"] for t in run.report["targets"]] == [split.web.name, split.sig.name]
    assert (web["host_roles"], web["host_roles_source"]) == (["web"], "detected")
    assert (sig["host_roles"], sig["host_roles_source"]) == (["prosody", "jicofo"], "detected")
    given = split.given_roles
    assert given.target(split.web.name)["host_roles"] == ["web"]
    assert given.target(split.sig.name)["host_roles"] == ["prosody", "jicofo"]
    assert {t["host_roles_source"] for t in given.report["targets"]} == {"inventory"}


@pytest.mark.parametrize("run_name", ["together", "given_roles"])
def test_web_host_decides_cross_role_checks_with_the_signalling_host(split: Split, run_name: str) -> None:
    run: Run = getattr(split, run_name)
    alone = _findings(split.web_alone.target(split.web.name))
    joined_target = run.target(split.web.name)
    joined, whole = _findings(joined_target), _findings(split.all_in_one.report["targets"][0])
    sig = split.sig.name
    # audited alone, the web front cannot tell: no prosody configuration
    unclear_alone = [cid for cid in CROSS_ROLE if alone[cid]["status"] == "unclear"]
    assert "rooms.welcome_page_open" in unclear_alone and "sso.token_auth_url" in unclear_alone
    for cid in unclear_alone:  # with the signalling host, as the all-in-one host decides them
        f = joined[cid]
        assert f["status"] == whole[cid]["status"] != "unclear", (cid, f["message"], whole[cid]["message"])
        assert f["message"].endswith(f"(with the prosody of {sig})"), (cid, f["message"])
        assert all(e["path"].startswith(f"{sig}:/etc/prosody/") or not e["path"].startswith(f"{sig}:")
                   for e in f["evidence"]), f["evidence"]
        assert f"{cid}: decided with the prosody evidence of {sig} (the same deployment)" in joined_target["notes"]
    welcome = joined["rooms.welcome_page_open"]
    assert welcome["status"] == "fail" and "anonymous" in welcome["message"]  # debian-default: jitsi-anonymous
    assert welcome["evidence"] and all(e["path"].startswith(f"{sig}:/etc/prosody/") for e in welcome["evidence"])
    assert alone["rooms.welcome_page_open"]["status"] == "unclear"
    # nothing else moves; the signalling host keeps its results (the checks needing config.js are N/A there)
    for cid, f in alone.items():
        if cid not in unclear_alone:
            assert joined[cid]["status"] == f["status"], (cid, f["message"], joined[cid]["message"])
    sig_findings = _findings(run.target(sig))
    source = "detected" if run_name == "together" else "inventory"
    for cid in ("rooms.welcome_page_open", "sso.token_auth_url", "privacy.e2ee_available"):
        assert sig_findings[cid]["message"] == f"role prosody+jicofo: no web expected ({source})"


def test_no_check_fails_for_the_component_the_host_does_not_run(split: Split) -> None:
    profile = load_profile("default")
    needs = {c.id: requirement(c.id, c.meta.requires) for c in all_checks(profile.criterion_ids)}
    whole = _findings(split.all_in_one.report["targets"][0])
    for host in (split.web, split.sig):
        target = split.together.target(host.name)
        roles, label = set(target["host_roles"]), "+".join(target["host_roles"])
        lab_made = LAB_MADE_FAILURES.get(label, {})
        for cid, f in _findings(target).items():
            needed = needs.get(cid, ())
            if needed and not roles & set(needed):  # a component the host does not run: N/A, and why
                assert f["status"] == "not_applicable", (host.name, cid, f["message"])
                assert f["message"] == f"role {label}: no {' or '.join(needed)} expected (detected)", (cid, f)
                continue
            assert not f["message"].startswith("role "), (host.name, cid, f["message"])
            if f["status"] == "fail" and cid in lab_made:
                assert f["message"] == lab_made[cid]
            elif f["status"] in ("fail", "unclear") and not cid.startswith("vuln."):
                # the all-in-one host with the same templates does too (not the advisories: it runs coturn,
                # whose package the split hosts do not have)
                assert whole[cid]["status"] == f["status"], (host.name, cid, f["message"], whole[cid]["message"])
        for cid in lab_made:  # still needed: otherwise drop it from LAB_MADE_FAILURES
            assert _findings(target)[cid]["status"] == "fail", (host.name, cid)


def test_live_probes_of_the_web_front_without_prosody_leave_the_audit_complete(split: Split) -> None:
    for run, names in ((split.together, (split.web.name, split.sig.name)), (split.web_alone, (split.web.name,))):
        assert run.code == run.report["exit_code"], run.stderr
        assert run.code != 3, run.stderr  # 3 = incomplete: a probe failed or evidence is missing
        for name in names:
            target = run.target(name)
            assert target["complete"] and target["error"] is None, (name, run.stderr)
            assert [(r["name"], r["status"]) for r in target["probes"]["live"]["runs"]] == [
                ("exposure", "ok"), ("tls", "ok"), ("http", "ok"), ("xmpp", "ok")], (name, target["probes"])
    web = _findings(split.web_alone.target(split.web.name))
    assert web["live.xmpp_anonymous"]["message"] == "role web: no prosody expected (detected)"
    # alone, the web front has no failure that gates (--fail-on high); with its prosody, the open welcome page does
    assert split.web_alone.code == 0, split.web_alone.stderr
    assert split.together.code == split.all_in_one.code == 1


def test_signalling_host_decides_anonymous_login_without_a_web_front(split: Split) -> None:
    """live.xmpp_anonymous asks prosody over BOSH through the web front; a signalling host has none, and the
    web host does not run prosody (N/A): what port 5222 offers decides it, as the all-in-one host's BOSH does."""
    sig = _findings(split.together.target(split.sig.name))
    exposure = split.together.target(split.sig.name)["probes"]["live"]["exposure"]["ports"]
    assert any(p["port"] == 5222 and "SASL ANONYMOUS" in (p["answer"] or "") for p in exposure)
    found = sig["live.xmpp_anonymous"]
    assert found["status"] == "fail" and "offers SASL ANONYMOUS on port 5222" in found["message"], found
    whole = _findings(split.all_in_one.report["targets"][0])["live.xmpp_anonymous"]
    assert whole["status"] == "fail" and "on port 5222" not in whole["message"]
