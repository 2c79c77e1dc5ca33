"""Role-aware auditing: a videobridge-only host is not failed for lacking prosody; all-in-one gets every check."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.context import AuditContext
from auditor.criteria import load_profile
from auditor.engine import audit_snapshot
from auditor.model import CheckResult, Finding, Rating, Severity, Status
from auditor.registry import MetadataError, all_checks, check
from auditor.roles import CORE, CROSS_ROLE, REQUIRES, RoleError, normalise, requirement
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot
from auditor.transports.local import collect_local_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROFILE = load_profile("default")
CHECKS = all_checks(PROFILE.criterion_ids, with_plugins=False)


def _jvb_host(transport: str = "ssh") -> Snapshot:
    snap = Snapshot(target="jvb1.example.org", transport=transport)
    conf = (FIXTURES / "docker-volume" / "jvb" / "jvb.conf").read_bytes()
    snap.add(CollectedItem("/etc/jitsi/videobridge/jvb.conf", "file", ItemStatus.OK, conf, len(conf), 0o640,
                           "jvb", "jitsi"))
    pkgs = b"jitsi-videobridge2\t2.3-160-g97a1f8a3-1\tii \nopenjdk-17-jre-headless\t17.0.12\tii \n"
    snap.add(CollectedItem("cmd:dpkg-query", "command", ItemStatus.OK, pkgs, len(pkgs), exit_code=0))
    return snap


def test_role_names() -> None:
    assert normalise(["jvb"]) == ("jvb",)
    assert normalise(["shard", "turn"]) == ("web", "prosody", "jicofo", "coturn")
    assert normalise(["web,prosody jicofo"]) == ("web", "prosody", "jicofo")
    assert normalise(["all"]) == CORE
    assert normalise(["apache", "xmpp"]) == normalise(["nginx", "prosody"]) == ("web", "prosody")
    with pytest.raises(RoleError, match="unknown role 'mixer'"):
        normalise(["mixer"])


def test_requirements_table_is_explicit_and_valid() -> None:
    ids = {c.id for c in CHECKS}
    for key in REQUIRES:  # every entry names a real check or a prefix some check has
        assert key in ids or (key.endswith((".", "_")) and any(i.startswith(key) for i in ids)), key
    assert requirement("xmpp.s2s_disabled") == ("prosody",)
    assert requirement("auth.jicofo_login_url") == ("jicofo",)  # the exact id wins over "auth."
    assert requirement("live.tls_ocsp_stapling") == ("web",)
    assert requirement("live.tls_protocols") == ("web", "prosody", "coturn")
    assert requirement("secrets.weak_or_default") == ()
    assert requirement("xmpp.s2s_disabled", ("jvb",)) == ("jvb",)  # the check's own declaration wins


def test_videobridge_only_host() -> None:
    result = audit_snapshot(_jvb_host(), PROFILE, CHECKS)
    assert result.roles is not None and result.roles.roles == ("jvb",) and result.roles.source == "detected"
    found = {f.check_id: f for f in result.findings}
    for cid in ("xmpp.s2s_disabled", "auth.secure_domain", "web.hsts", "jicofo.rest_bind", "turn.tls",
                "live.xmpp_anonymous", "rooms.lobby_available", "cert.expiry"):
        assert found[cid].status is Status.NOT_APPLICABLE, cid
        assert found[cid].message.startswith("role jvb: no "), found[cid].message
    assert found["xmpp.s2s_disabled"].message == "role jvb: no prosody expected (detected)"
    assert not found["jvb.public_http"].message.startswith("role ")
    assert not any(f.status is Status.FAIL and f.message.startswith("role") for f in result.findings)
    # the same files seen as a directory audit are not restricted: prosody checks are unclear there
    plain = {f.check_id: f for f in audit_snapshot(_jvb_host("dir"), PROFILE, CHECKS).findings}
    assert plain["xmpp.s2s_disabled"].status is Status.UNCLEAR
    # criteria whose every check was skipped for the role are N/A
    rated = {c.id: c for c in result.criteria}
    na = [c for c in result.criteria if c.rating is Rating.NA and c.reasons[0].startswith("role jvb")]
    assert na, [(c.id, c.rating, c.reasons) for c in result.criteria]
    assert all(found[cid].status is Status.NOT_APPLICABLE for c in na for cid in c.check_ids if cid in found)
    assert len(rated) == len(result.criteria)


def test_an_apache_site_makes_a_web_host_only_when_it_is_jitsi_s() -> None:
    """As with nginx: a videobridge host may run Apache for something else; a Jitsi site makes it a web host."""
    from auditor.deployment import build_deployment
    from auditor.roles import detect_roles

    def roles(site: bytes) -> tuple[str, ...]:
        snap = _jvb_host()
        snap.add(CollectedItem("/etc/apache2/sites-enabled/site.conf", "file", ItemStatus.OK, site, len(site), 0o644))
        return detect_roles(build_deployment(snap)).roles

    assert roles(b"<VirtualHost *:80>\n  DocumentRoot /var/www/status\n</VirtualHost>\n") == ("jvb",)
    jitsi = b"<VirtualHost *:443>\n  ProxyPass /http-bind http://localhost:5280/http-bind\n</VirtualHost>\n"
    assert roles(jitsi) == ("web", "jvb")


def test_inventory_role_wins_and_applies_to_directories() -> None:
    result = audit_snapshot(_jvb_host("dir"), PROFILE, CHECKS, roles=["jvb"])
    assert result.roles is not None and result.roles.source == "inventory"
    assert {f.check_id: f for f in result.findings}["xmpp.s2s_disabled"].message == (
        "role jvb: no prosody expected (inventory)")


def test_all_in_one_gets_every_check() -> None:
    snap = collect_local_dir(FIXTURES / "debian-2020")
    snap.transport = "ssh"  # as if collected live: roles are detected
    live = audit_snapshot(snap, PROFILE, CHECKS)
    assert live.roles is not None and set(CORE) <= set(live.roles.roles)
    assert not [f for f in live.findings if f.message.startswith("role ")]
    snap.transport = "dir"
    offline = audit_snapshot(snap, PROFILE, CHECKS)
    def na(findings: list[Finding]) -> set[str]:
        return {f.check_id for f in findings if f.status is Status.NOT_APPLICABLE}

    assert len(live.findings) == len(offline.findings) == len(CHECKS)
    assert na(live.findings) == na(offline.findings)  # the checks themselves decide, as without roles


def test_nothing_detected_means_every_check() -> None:
    snap = Snapshot(target="empty", transport="ssh")
    result = audit_snapshot(snap, PROFILE, CHECKS)
    assert result.roles is not None and not result.roles.known
    assert not [f for f in result.findings if f.message.startswith("role ")]


def test_checks_can_declare_requirements() -> None:
    @check("plugin.needs_jibri", title="A plugin check", severity=Severity.LOW, criteria=("mgmt.central_control",),
           rationale="Declares the role it needs in its own metadata.", remediation="Nothing to change.",
           requires=("jibri",))
    def needs_jibri(ctx: AuditContext) -> CheckResult:
        raise AssertionError("not run on a host without jibri")

    needs_jibri.meta.validate()
    result = audit_snapshot(_jvb_host(), PROFILE, [needs_jibri])
    assert result.findings[0].message == "role jvb: no jibri expected (detected)"

    @check("plugin.bad", title="Bad", severity=Severity.LOW, criteria=("mgmt.central_control",),
           rationale="Declares a role that does not exist.", remediation="Nothing to change.", requires=("mixer",))
    def bad(ctx: AuditContext) -> CheckResult:
        raise AssertionError("never run: only its metadata is validated")

    with pytest.raises(MetadataError, match="requires must name roles"):
        bad.meta.validate()


def test_a_partial_host_is_not_unclear_for_components_it_does_not_run() -> None:
    """The Prosody and Jitsi Meet versions, and whether Jibri is wired in, are judged on the hosts that run
    prosody, the web front or jicofo; a videobridge host has none of them in its evidence."""
    found = {f.check_id: f for f in audit_snapshot(_jvb_host(), PROFILE, CHECKS).findings}
    for cid, needed in (("vuln.prosody_version", "prosody"), ("vuln.e2ee_fixes", "web or prosody"),
                        ("recording.server_side", "web or jicofo")):
        assert found[cid].status is Status.NOT_APPLICABLE, (cid, found[cid].status, found[cid].message)
        assert found[cid].message == f"role jvb: no {needed} expected (detected)"
    assert found["vuln.known_advisories"].status is Status.PASS  # the bridge's own version is judged


# The hosts of a split Debian install and their files: the web front, the signalling host (prosody with
# its jicofo, which always run together: jicofo's authentication is half of a secure domain), bridges, TURN,
# recorders.
_ROLE_PATHS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("web",): ("etc/nginx", "etc/jitsi/meet"),
    ("prosody", "jicofo"): ("etc/prosody", "etc/jitsi/jicofo", "etc/sasl", "etc/saslauthd.conf", "etc/default/saslauthd"),
    ("jvb",): ("etc/jitsi/videobridge",),
    ("coturn",): ("etc/turnserver.conf",),
    ("jibri",): ("etc/jitsi/jibri",),
}
# Checks that need two roles' files at once: no single host of a split deployment can decide them (on its
# own: auditor.across_hosts joins the hosts). privacy.e2ee_available: when config.js is silent, offline, the
# era comes from prosody's components.
_CROSS_ROLE = CROSS_ROLE


@pytest.mark.parametrize("fixture", ["debian-2020", "debian-current", "hardened", "jwt", "ldap"])
def test_a_host_running_part_of_a_deployment_decides_what_its_files_decide(fixture: str, tmp_path: Path) -> None:
    """Split an all-in-one tree into one tree per role (as a sharded install spreads it): a check the
    all-in-one host decides is, on the host of the role it is assigned to, decided too (not unclear for
    want of another role's file), unless it needs two roles' files (_CROSS_ROLE). A check reading a file
    of one role but assigned to another (REQUIRES) is unclear on the host that runs it and N/A on the
    host that has the file: decided nowhere."""
    import shutil

    source = FIXTURES / fixture
    whole = {f.check_id: f.status for f in audit_snapshot(collect_local_dir(source), PROFILE, CHECKS).findings}
    decided_somewhere: dict[str, list[str]] = {}
    for roles, paths in _ROLE_PATHS.items():
        role = "+".join(roles)
        root = tmp_path / role
        for rel in paths:
            if (source / rel).is_dir():
                shutil.copytree(source / rel, root / rel)
            elif (source / rel).exists():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / rel, root / rel)
        if not root.exists():
            continue
        for f in audit_snapshot(collect_local_dir(root), PROFILE, CHECKS, roles=roles).findings:
            if f.status is not Status.UNCLEAR and f.status is not Status.NOT_APPLICABLE:
                decided_somewhere.setdefault(f.check_id, []).append(role)
            elif f.status is Status.UNCLEAR and whole[f.check_id] is not Status.UNCLEAR:
                assert f.check_id in _CROSS_ROLE and roles[0] in _CROSS_ROLE[f.check_id], (role, f.check_id, f.message)
    undecided = {cid for cid, status in whole.items() if status in (Status.PASS, Status.FAIL)
                 and cid not in decided_somewhere and cid not in _CROSS_ROLE}
    assert not undecided, f"decided on the all-in-one host, on no host of the split: {sorted(undecided)}"
