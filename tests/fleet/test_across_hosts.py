"""Checks that need two components' files, decided across the hosts of one split deployment."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import auditor.cli as cli
from auditor.across_hosts import decide_across_hosts
from auditor.criteria import load_profile
from auditor.engine import TargetResult, audit_snapshot
from auditor.model import Evidence, Finding, Status
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


# -- review: who is joined, with what, at what cost --------------------------------------------------------


def _edited(result: TargetResult, roles: tuple[str, ...], edit: dict[str, str] | None = None, *,
            target: str | None = None, add: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> TargetResult:
    """`result` audited again with its files' text edited (old -> new, in every file), files added or dropped."""
    snap = result.snapshot
    assert snap is not None
    items = {k: v for k, v in snap.items.items() if k not in drop}
    for key, item in list(items.items()):
        if item.kind != "file" or item.content is None:
            continue
        text = item.text()
        for old, new in (edit or {}).items():
            text = text.replace(old, new)
        if text != item.text():
            blob = text.encode()
            items[key] = replace(item, content=blob, size=len(blob))
    for key, text in (add or {}).items():
        items[key] = CollectedItem(key, "file", ItemStatus.OK, text.encode(), len(text.encode()))
    edited = replace(snap.with_items(items), target=target or snap.target)
    return audit_snapshot(edited, PROFILE, CHECKS, roles=roles, redact=False)


def _finding(result: TargetResult, check_id: str = "rooms.welcome_page_open") -> Finding:
    return next(f for f in result.findings if f.check_id == check_id)


_CONFIG_JS = "/etc/jitsi/meet/meet.example.com-config.js"


@pytest.mark.parametrize("shared", ["meet.jitsi", "location.host", "localhost", "10.0.0.5", "jitsi"])
def test_names_many_deployments_share_join_nothing(shared: str, tmp_path: Path) -> None:
    """docker-jitsi-meet's XMPP domain is meet.jitsi in every docker deployment; config.js's location.host
    (read as location.host.invalid), localhost, private addresses and one-label names are not one deployment's
    either: a web front of meet.a.example.org and the prosody of another deployment sharing only such a name
    are not joined."""
    web = _host("web1", "debian-current", WEB, tmp_path)
    xmpp = _host("xmpp9", "debian-current", SIGNALLING, tmp_path)
    bosh = {"'https://meet.example.com/' + subdir + 'http-bind'": "'https://' + location.host + '/http-bind'"}
    if shared == "location.host":  # two shards of different deployments whose config.js use location.host
        web = _edited(web, WEB, {**bosh, "domain: 'meet.example.com'": "domain: 'meet.a.example.org'",
                                 "'wss://meet.example.com/' + subdir": "'wss://' + location.host + '/'"})
        shard = _host("shard9", "debian-current", WEB, tmp_path / "b")
        shard = _edited(shard, WEB, {**bosh, "domain: 'meet.example.com'": "domain: 'meet.b.example.org'"})
        assert shard.snapshot is not None and xmpp.snapshot is not None
        both = replace(xmpp.snapshot.with_items({**xmpp.snapshot.items, **shard.snapshot.items}), target="shard9")
        xmpp = audit_snapshot(both, PROFILE, CHECKS, roles=("web", "prosody", "jicofo"), redact=False)
        xmpp = _edited(xmpp, ("web", "prosody", "jicofo"), {"meet.example.com": "meet.b.example.org"})
    else:
        web = _edited(web, WEB, {"domain: 'meet.example.com'": f"domain: '{shared}'",
                                 "meet.example.com": "meet.a.example.org"})
        xmpp = _edited(xmpp, SIGNALLING, {"meet.example.com": shared})
    assert _finding(web).status is Status.UNCLEAR
    assert decide_across_hosts([web, xmpp], PROFILE, CHECKS)[0] is web


def test_a_signalling_host_serving_several_domains_decides_for_each_web_front(tmp_path: Path) -> None:
    """One prosody with a VirtualHost per domain (two tenants): the web front of each domain is joined with
    it, not only the one whose name prosody's first VirtualHost happens to be."""
    xmpp = _host("xmpp1", "debian-current", SIGNALLING, tmp_path)
    assert xmpp.snapshot is not None
    vhost = xmpp.snapshot.items["/etc/prosody/conf.avail/meet.example.com.cfg.lua"].text()
    second = vhost.replace("meet.example.com", "meet.b.example.org").replace('"jitsi-anonymous"', '"internal_hashed"')
    xmpp = _edited(xmpp, SIGNALLING, add={"/etc/prosody/conf.d/a-meet.b.example.org.cfg.lua": second})
    web_a = _host("web-a", "debian-current", WEB, tmp_path)
    web_b = _edited(_host("web-b", "debian-current", WEB, tmp_path / "b"), WEB,
                    {"meet.example.com": "meet.b.example.org"})
    new_a, new_b, _ = decide_across_hosts([web_a, web_b, xmpp], PROFILE, CHECKS)
    assert _finding(new_a).status is Status.FAIL  # meet.example.com is anonymous
    assert _finding(new_b).status is Status.PASS  # meet.b.example.org requires a login
    assert _finding(new_b).message.endswith("(with the prosody of xmpp1)")


def test_a_partners_docker_env_does_not_stand_in_for_the_hosts_config_js(tmp_path: Path) -> None:
    """A docker .env holds the web front's settings as well as prosody's (TOKEN_AUTH_URL renders config.js's
    tokenAuthUrl): joined into a Debian web front it would judge the web front by the other host's settings.
    Here config.js sends tokens over plain HTTP; the other host's .env says HTTPS: no pass."""
    web = _host("web1", "jwt", WEB, tmp_path)
    web = _edited(web, WEB, {"tokenAuthUrl: 'https://idp-bridge": "tokenAuthUrl: 'http://idp-bridge"})
    assert _finding(web, "sso.token_auth_url").status is Status.UNCLEAR
    env = ("PUBLIC_URL=https://meet.jwt.example.org\nENABLE_AUTH=1\nAUTH_TYPE=jwt\nJWT_APP_ID=app\n"
           "TOKEN_AUTH_URL=https://idp-bridge.jwt.example.org/jitsi/login?room={room}\n")
    docker = Snapshot(target="xmpp-docker", transport="ssh")
    docker.add(CollectedItem("/srv/jitsi/.env", "file", ItemStatus.OK, env.encode(), len(env)))
    xmpp = audit_snapshot(docker, PROFILE, CHECKS, roles=SIGNALLING)
    after = _finding(decide_across_hosts([web, xmpp], PROFILE, CHECKS)[0], "sso.token_auth_url")
    assert after.status is not Status.PASS, after.message


def test_the_partners_files_replace_stale_ones_of_a_component_the_host_does_not_run(tmp_path: Path) -> None:
    """A web front (role web, from the inventory) with a leftover prosody.cfg.lua of its old all-in-one
    days: the signalling host's prosody.cfg.lua, which makes the main domain anonymous, is the one that runs,
    not the leftover one that required a login."""
    xmpp = _host("xmpp1", "debian-current", SIGNALLING, tmp_path)
    xmpp = _edited(xmpp, SIGNALLING, {'authentication = "internal_hashed"\n': 'authentication = "anonymous"\n',
                                       '    authentication = "jitsi-anonymous" -- do not delete me\n': ""})
    web = _host("web1", "debian-current", WEB, tmp_path)
    leftover = 'authentication = "internal_hashed"\nVirtualHost "localhost"\nInclude "conf.d/*.cfg.lua"\n'
    web = _edited(web, WEB, add={"/etc/prosody/prosody.cfg.lua": leftover})
    assert _finding(web).status is Status.UNCLEAR
    after = _finding(decide_across_hosts([web, xmpp], PROFILE, CHECKS)[0])
    assert after.status is Status.FAIL, after.message
    assert all(e.location.path.startswith("xmpp1:") or e.location.path == _CONFIG_JS for e in after.evidence)


def test_a_partner_whose_collection_is_incomplete_does_not_make_a_pass(tmp_path: Path) -> None:
    """A signalling host whose collection stopped early (exit 3) may have left the file that makes the
    domain anonymous unread: its pass is not the deployment's; the note says why."""
    web = _host("web1", "debian-current", WEB, tmp_path)
    xmpp = _edited(_host("xmpp1", "debian-current", SIGNALLING, tmp_path),
                   SIGNALLING, {'authentication = "jitsi-anonymous"': 'authentication = "internal_hashed"'})
    xmpp.error, xmpp.error_stage = "collection truncated", "collect"
    new_web = decide_across_hosts([web, xmpp], PROFILE, CHECKS)[0]
    assert _finding(new_web).status is Status.UNCLEAR
    assert "the prosody evidence of xmpp1 is not used: the collection is incomplete" in new_web.notes


def test_a_pair_that_cannot_be_joined_costs_that_pair_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever parsing the joined evidence raises, the run goes on: the other signalling host still decides
    (a failure with any is a failure), the host says which one could not be joined."""
    import auditor.engine as engine

    web = _host("web1", "debian-current", WEB, tmp_path)
    good = _host("xmpp-a", "debian-current", SIGNALLING, tmp_path)
    bad = _edited(_host("xmpp-b", "debian-current", SIGNALLING, tmp_path / "b"), SIGNALLING,
                  add={"/etc/prosody/conf.d/zz-boom.cfg.lua": "-- boom\n"})
    real = engine.prepare_snapshot

    def prepare(snapshot: Snapshot, *, redact: bool = True) -> engine.Prepared:
        if "/etc/prosody/conf.d/zz-boom.cfg.lua" in snapshot.items and _CONFIG_JS in snapshot.items:
            raise RecursionError("maximum recursion depth exceeded")
        return real(snapshot, redact=redact)

    monkeypatch.setattr(engine, "prepare_snapshot", prepare)
    out = decide_across_hosts([web, bad, good], PROFILE, CHECKS)
    assert out[1] is bad and out[2] is good
    assert _finding(out[0]).status is Status.FAIL and _finding(out[0]).message.endswith("(with the prosody of xmpp-a)")
    assert "the prosody evidence of xmpp-b is not used: the files could not be joined (RecursionError)" in out[0].notes


def test_evidence_labels_and_notes_name_the_other_host_unmistakably_and_briefly(tmp_path: Path) -> None:
    """A target's name is the target's to choose (a saved snapshot's `target`): no line breaks or escape
    sequences in labels, no megabyte repeated on every piece of evidence, no name that reads as a path of
    the host, and a name two targets share (here the host's own) tells them apart."""
    web = _host("web1", "debian-current", WEB, tmp_path)
    xmpp = _host("xmpp1", "debian-current", SIGNALLING, tmp_path)
    for name, expect in [("x\n\x1b[31m" + "y" * 100_000, "x_[31m" + "y" * 57 + "…"),
                         ("/etc/prosody", "[/etc/prosody]"),
                         ("xmpp1:/etc/prosody/prosody.cfg.lua", "xmpp1%3A/etc/prosody/prosody.cfg.lua"),
                         ("docker://xmpp", "docker://xmpp"),
                         ("web1", "web1#2")]:
        other = replace(xmpp, target=name)
        welcome = _finding(decide_across_hosts([web, other], PROFILE, CHECKS)[0])
        labels = {e.location.path.rsplit(":/etc/prosody/", 1)[0] for e in welcome.evidence
                  if e.location.path != _CONFIG_JS}
        assert labels == {expect}, labels
        assert welcome.message.endswith(f"(with the prosody of {expect})")


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[Snapshot]:
    """The snapshots prepare_snapshot parses from now on."""
    import auditor.engine as engine

    parsed: list[Snapshot] = []
    real = engine.prepare_snapshot

    def prepare(snapshot: Snapshot, *, redact: bool = True) -> engine.Prepared:
        parsed.append(snapshot)
        return real(snapshot, redact=redact)

    monkeypatch.setattr(engine, "prepare_snapshot", prepare)
    return parsed


def test_partners_with_the_same_files_are_parsed_once_and_a_fleet_is_named_briefly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten signalling hosts of one domain with the same files: one joined parse for the web front, not ten
    kept in memory; the message and the note name three and count the others."""

    web = _host("web1", "debian-current", WEB, tmp_path)
    xmpp = _host("xmpp", "debian-current", SIGNALLING, tmp_path)
    secure = _edited(xmpp, SIGNALLING, {'authentication = "jitsi-anonymous"': 'authentication = "internal_hashed"'})
    fleet = [replace(secure, target=f"xmpp{n}") for n in range(10)]
    parsed = _counting(monkeypatch)
    new_web = decide_across_hosts([web, *fleet], PROFILE, CHECKS)[0]
    assert len(parsed) == 1
    welcome = _finding(new_web)
    assert welcome.status is Status.PASS
    assert welcome.message.endswith("(with the prosody of xmpp0, xmpp1, xmpp2 and 7 other hosts)")
    assert ("rooms.welcome_page_open: decided with the prosody evidence of xmpp0, xmpp1, xmpp2 and 7 other hosts "
            "(the same deployment)") in new_web.notes


def test_more_configurations_than_the_limit_decide_only_a_failure(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Every signalling host with different files costs a parse per web front: past MAX_CONFIGURATIONS only a
    failure found among those tried decides (a failure with any is a failure); a pass would need them all."""
    import auditor.across_hosts as across

    monkeypatch.setattr(across, "MAX_CONFIGURATIONS", 3)
    web = _host("web1", "debian-current", WEB, tmp_path)
    xmpp = _host("xmpp", "debian-current", SIGNALLING, tmp_path)
    secure = [_edited(xmpp, SIGNALLING, {'"jitsi-anonymous"': f'"internal_hashed" -- {n}'}, target=f"xmpp{n}")
              for n in range(5)]
    parsed = _counting(monkeypatch)
    new_web = decide_across_hosts([web, *secure], PROFILE, CHECKS)[0]
    assert len(parsed) == 3
    assert _finding(new_web).status is Status.UNCLEAR
    assert ("rooms.welcome_page_open: not decided across hosts: 5 hosts of the run serve this domain with prosody, "
            "in more than 3 different configurations, and none of those tried fails") in new_web.notes
    failing = decide_across_hosts([web, replace(xmpp, target="xmpp-open"), *secure], PROFILE, CHECKS)[0]
    assert _finding(failing).status is Status.FAIL


def test_sarif_keeps_the_target_for_its_own_path_that_contains_a_colon(tmp_path: Path) -> None:
    """Only evidence labelled HOST:path by auditor.across_hosts names another host; a file of the target's
    own whose path has `:/` in it (a directory named `a:`) is still the target's."""
    from auditor.model import Severity
    from auditor.parsers.base import Location
    from auditor.report.formats import RenderContext
    from auditor.report.sarif import sarif_dict

    web = _host("web1", "debian-current", WEB, tmp_path)
    assert web.snapshot is not None
    web = replace(web, snapshot=replace(web.snapshot, root=None, transport="ssh"))  # a host's, not a directory's
    odd = Evidence(Location("/etc/nginx/sites-enabled/a:/meet.conf", 3), "server_tokens on")
    findings = [replace(f, status=Status.FAIL, evidence=(odd,)) if f.check_id == "rooms.welcome_page_open" else f
                for f in web.findings]
    doc = sarif_dict([replace(web, findings=findings)], RenderContext(PROFILE, Severity.LOW, 1))
    welcome = next(r for r in doc["runs"][0]["results"] if r["ruleId"] == "rooms.welcome_page_open")
    names = [loc["fullyQualifiedName"] for place in welcome["locations"] for loc in place["logicalLocations"]]
    assert names == ["web1:/etc/nginx/sites-enabled/a:/meet.conf"]


def test_a_host_whose_joining_fails_keeps_its_results_and_says_so(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing decide_across_hosts meets reaches the command line (which would lose every target's report):
    the host keeps its own results, with a note; the others are untouched."""
    import auditor.engine as engine

    web = _host("web1", "debian-current", WEB, tmp_path)
    xmpp = _host("xmpp1", "debian-current", SIGNALLING, tmp_path)

    def broken(*_args: object, **_kw: object) -> None:
        raise ValueError("a rating this code did not foresee")

    monkeypatch.setattr(engine, "rated", broken)
    new_web, new_xmpp = decide_across_hosts([web, xmpp], PROFILE, CHECKS)
    assert new_xmpp is xmpp
    assert new_web.findings == web.findings and new_web.criteria == web.criteria
    note = "checks needing another host's files were not decided across hosts: ValueError"
    assert new_web.notes == [*web.notes, note]
