"""Checks that need two components' files, decided across the hosts of one split deployment."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import auditor.cli as cli
from auditor.across_hosts import decide_across_hosts
from auditor.criteria import load_profile
from auditor.engine import TargetResult, audit_snapshot
from auditor.model import Status
from auditor.registry import all_checks
from auditor.roles import CROSS_ROLE
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot
from auditor.transports.local import collect_local_dir

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROFILE = load_profile("default")
CHECKS = all_checks(PROFILE.criterion_ids, with_plugins=False)
WEB, SIGNALLING = ("web",), ("prosody", "jicofo")
_FILES = {WEB: ("etc/nginx", "etc/jitsi/meet"), SIGNALLING: ("etc/prosody", "etc/jitsi/jicofo")}


def _tree(fixture: str, roles: tuple[str, ...], root: Path) -> Path:
    for rel in _FILES[roles]:
        if (FIXTURES / fixture / rel).exists():
            shutil.copytree(FIXTURES / fixture / rel, root / rel)
    return root


def _host(name: str, fixture: str, roles: tuple[str, ...], tmp: Path) -> TargetResult:
    snap = collect_local_dir(_tree(fixture, roles, tmp / name))
    snap.target = name
    return audit_snapshot(snap, PROFILE, CHECKS, roles=roles)


def _by_id(result: TargetResult) -> dict[str, object]:
    return {f.check_id: f for f in result.findings}


@pytest.mark.parametrize("fixture", ["debian-2020", "debian-current", "hardened", "jwt", "ldap"])
def test_the_web_host_decides_with_the_signalling_host_as_the_all_in_one_host_does(fixture: str,
                                                                                   tmp_path: Path) -> None:
    """Each cross-role check unclear on the web front is decided with the signalling host's files, with the
    status the same files give on one all-in-one host; the signalling host is left as it was."""
    web, xmpp = _host("web1", fixture, WEB, tmp_path), _host("xmpp1", fixture, SIGNALLING, tmp_path)
    whole = {f.check_id: f for f in audit_snapshot(collect_local_dir(FIXTURES / fixture), PROFILE, CHECKS).findings}
    new_web, new_xmpp = decide_across_hosts([web, xmpp], PROFILE, CHECKS)
    assert new_xmpp is xmpp
    before, after = _by_id(web), {f.check_id: f for f in new_web.findings}
    decided = [cid for cid in CROSS_ROLE if before[cid].status is Status.UNCLEAR]  # type: ignore[attr-defined]
    assert decided, "the split leaves no cross-role check unclear: the test proves nothing"
    for cid in decided:
        assert after[cid].status is whole[cid].status, (cid, after[cid].message)
        if whole[cid].status is not Status.UNCLEAR:  # (unclear on the all-in-one host too: stays unclear)
            assert after[cid].message.endswith("(with the prosody of xmpp1)")
            assert f"{cid}: decided with the prosody evidence of xmpp1 (the same deployment)" in new_web.notes
    for cid, f in before.items():  # nothing else moves
        if cid not in decided:
            assert after[cid] == f


def test_evidence_read_on_the_other_host_is_named_by_it_and_ratings_follow(tmp_path: Path) -> None:
    web = _host("web1", "debian-current", WEB, tmp_path)
    xmpp = _host("xmpp1", "debian-current", SIGNALLING, tmp_path)
    new_web = decide_across_hosts([web, xmpp], PROFILE, CHECKS)[0]
    welcome = next(f for f in new_web.findings if f.check_id == "rooms.welcome_page_open")
    assert welcome.status is Status.FAIL
    paths = [e.location.path for e in welcome.evidence]
    assert any(p.startswith("xmpp1:/etc/prosody/") for p in paths)  # the partner's prosody file
    assert web.snapshot is not None
    assert all(p.startswith("xmpp1:") or p in web.snapshot.items for p in paths)
    ratings = {r.id: r.rating.value for r in new_web.criteria}
    assert {r.id: r.rating.value for r in web.criteria}["enc.e2ee"] == "Unclear"
    assert ratings["enc.e2ee"] == "Partially"  # privacy.e2ee_available decided: the criterion is re-rated
    assert new_web.scores is not None and web.scores is not None
    assert (new_web.scores.overall or 0) > (web.scores.overall or 0) > 0


def test_hosts_of_another_deployment_are_not_joined(tmp_path: Path) -> None:
    """debian-current serves meet.example.com, debian-2020 another domain: two shards of different
    deployments in one run decide nothing for each other."""
    web = _host("web1", "debian-current", WEB, tmp_path)
    other = _host("xmpp9", "hardened", SIGNALLING, tmp_path)
    assert decide_across_hosts([web, other], PROFILE, CHECKS)[0] is web


def test_it_fails_with_any_signalling_host_that_fails(tmp_path: Path) -> None:
    """Two signalling hosts behind one web front (two shards of one domain): the welcome page is a public
    room factory if either lets anyone in, and the message names that one."""
    web = _host("web1", "debian-current", WEB, tmp_path)
    anonymous = _host("xmpp-a", "debian-current", SIGNALLING, tmp_path)
    secure = _host("xmpp-s", "debian-current", SIGNALLING, tmp_path / "s")
    main = secure.snapshot
    assert main is not None
    # the second shard requires authentication on the main VirtualHost (conf.avail and its conf.d link)
    items = dict(main.items)
    for key in [k for k in items if k.endswith("/meet.example.com.cfg.lua")]:
        text = items[key].text().replace('authentication = "jitsi-anonymous"', 'authentication = "internal_hashed"')
        assert text != items[key].text()
        blob = text.encode()
        items[key] = CollectedItem(key, "file", ItemStatus.OK, blob, len(blob))
    secure_snap = main.with_items(items)
    secure = audit_snapshot(secure_snap, PROFILE, CHECKS, roles=SIGNALLING, redact=False)
    only_secure = decide_across_hosts([web, secure], PROFILE, CHECKS)[0]
    assert _status(only_secure, "rooms.welcome_page_open") is Status.PASS
    both = decide_across_hosts([web, secure, anonymous], PROFILE, CHECKS)[0]
    welcome = next(f for f in both.findings if f.check_id == "rooms.welcome_page_open")
    assert welcome.status is Status.FAIL and welcome.message.endswith("(with the prosody of xmpp-a)")
    note = "rooms.welcome_page_open: decided with the prosody evidence of xmpp-s, xmpp-a (the same deployment)"
    assert note in both.notes


def _status(result: TargetResult, check_id: str) -> Status:
    return next(f.status for f in result.findings if f.check_id == check_id)


def test_hosts_without_known_roles_or_all_in_one_are_left_alone(tmp_path: Path) -> None:
    """A directory audit has no roles unless given: it is not joined with anything; an all-in-one host
    decides everything itself."""
    web = _host("web1", "debian-current", WEB, tmp_path)
    unknown = audit_snapshot(collect_local_dir(_tree("debian-current", SIGNALLING, tmp_path / "u")), PROFILE, CHECKS)
    assert unknown.roles is not None and not unknown.roles.known
    assert decide_across_hosts([web, unknown], PROFILE, CHECKS)[0] is web
    whole = audit_snapshot(collect_local_dir(FIXTURES / "debian-current"), PROFILE, CHECKS,
                           roles=("web", "prosody", "jicofo", "jvb"))
    out = decide_across_hosts([whole, web], PROFILE, CHECKS)
    assert out[0] is whole


def _saved(tmp_path: Path, name: str, fixture: str, roles: tuple[str, ...], packages: str) -> Path:
    """A snapshot as an SSH collection saves it: the files and the dpkg-query output the roles are
    detected from."""
    tree = collect_local_dir(_tree(fixture, roles, tmp_path / name))
    snap = Snapshot(target=name, transport="ssh")
    for item in tree.files():
        snap.add(item)
    pkgs = packages.encode()
    snap.add(CollectedItem("cmd:dpkg-query", "command", ItemStatus.OK, pkgs, len(pkgs), exit_code=0))
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(snap.to_json()), encoding="utf-8")
    return path


def test_the_cli_decides_across_the_hosts_of_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Saved snapshots of a web front and a signalling host audited in one run: the JSON report's web
    target has the welcome page failed with the signalling host's evidence; audited alone it is unclear."""
    web = _saved(tmp_path, "web1", "debian-current", WEB, "jitsi-meet-web\t1.0.8000-1\tii \nnginx\t1.22\tii \n")
    xmpp = _saved(tmp_path, "xmpp1", "debian-current", SIGNALLING,
                  "jitsi-meet-prosody\t1.0.8000-1\tii \nprosody\t0.12.4-1\tii \njicofo\t1.0-1000-1\tii \n")

    def welcome(args: list[str]) -> dict[str, object]:
        with pytest.raises(SystemExit):
            cli.main([*args, "-f", "json", "-q"])
        report = json.loads(capsys.readouterr().out)
        target = next(t for t in report["targets"] if t["target"] == "web1")
        assert target["host_roles"] == ["web"]
        return next(f for f in target["findings"] if f["check_id"] == "rooms.welcome_page_open")

    alone = welcome(["--snapshot", str(web)])
    assert alone["status"] == "unclear"
    joined = welcome(["--snapshot", str(web), "--snapshot", str(xmpp)])
    assert joined["status"] == "fail" and str(joined["message"]).endswith("(with the prosody of xmpp1)")
    assert any(str(e["path"]).startswith("xmpp1:/etc/prosody/") for e in joined["evidence"])  # type: ignore[attr-defined]


def test_sarif_names_the_host_the_evidence_was_read_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    web = _saved(tmp_path, "web1", "debian-current", WEB, "jitsi-meet-web\t1.0.8000-1\tii \nnginx\t1.22\tii \n")
    xmpp = _saved(tmp_path, "xmpp1", "debian-current", SIGNALLING,
                  "jitsi-meet-prosody\t1.0.8000-1\tii \nprosody\t0.12.4-1\tii \njicofo\t1.0-1000-1\tii \n")
    with pytest.raises(SystemExit):
        cli.main(["--snapshot", str(web), "--snapshot", str(xmpp), "-f", "sarif", "-q"])
    run = json.loads(capsys.readouterr().out)["runs"][0]
    welcome = [r for r in run["results"] if r["ruleId"] == "rooms.welcome_page_open"
               and "(with the prosody of xmpp1)" in r["message"]["text"]]
    assert len(welcome) == 1
    names = [loc["fullyQualifiedName"] for place in welcome[0]["locations"] for loc in place["logicalLocations"]]
    assert any(n.startswith("xmpp1:/etc/prosody/") for n in names), names
    assert not any(n.startswith("web1:xmpp1:") for n in names)
