"""jicofo.conf / jvb.conf / jibri.conf with the files they include (auditor.hocon_includes).

docker-jitsi-meet's templates end jicofo.conf with `include "custom-jicofo.conf"`, jvb.conf with
`include "custom-jvb.conf"`, jibri.conf with `include "xmpp.conf"` and the custom file by its container path.
The auditor took the override (custom-jicofo.conf sorts first) for THE configuration and ignored the main
file, or the main file alone and ignored the override. Includes are now merged in HOCON order, from the
snapshot only, and anything that cannot be known makes the configuration unclear with the reason.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.deployment import Deployment, ParseBudget, build_deployment
from auditor.discovery import Role
from auditor.engine import prepare_snapshot
from auditor.hocon_includes import MAX_INCLUDES
from auditor.parsers.hocon import parse_hocon
from auditor.secret_settings import secret_settings
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot

# A docker-jitsi-meet CONFIG/jicofo/jicofo.conf as an operator's install renders it (written for these tests)
JICOFO_MAIN = """\
jicofo {
  authentication {
    enabled = false
  }
  xmpp {
    client {
      hostname = "xmpp.meet.jitsi"
      domain = "auth.meet.jitsi"
      username = "focus"
      disable-certificate-verification = true
    }
  }
  rest {
    host = "127.0.0.1"
  }
}
"""
CUSTOM_INCLUDE = '\ninclude "custom-jicofo.conf"\n'  # line 18 of JICOFO_MAIN + this


def _snap(files: dict[str, str], transport: str = "dir") -> Snapshot:
    snap = Snapshot("t", transport)
    for key, text in files.items():
        snap.add(CollectedItem(key, "file", ItemStatus.OK, text.encode()))
    return snap


def _dep(files: dict[str, str], **kw: Any) -> Deployment:
    return build_deployment(_snap(files, **kw))


# -- the scanner: where an include statement stands ------------------------------------------------------


def test_the_scan_records_the_object_each_include_stands_in() -> None:
    doc = parse_hocon(
        'include "top.conf"\n'
        "jicofo {\n"
        "  xmpp {\n"
        '    include required(file("xmpp.conf"))\n'
        "  }\n"
        "}\n"
        'list = [ { include "in-list.conf" } ]\n',
        "/x/jicofo.conf",
    )
    assert [(i.target, i.scope) for i in doc.includes] == [
        ("top.conf", ()), ("xmpp.conf", ("jicofo", "xmpp")), ("in-list.conf", None),
    ]
    assert doc.includes[1].required and doc.includes[1].line == 4


# -- which file is the configuration ----------------------------------------------------------------------


def test_the_daemons_file_is_the_configuration_and_the_override_is_merged_into_it() -> None:
    dep = _dep({
        "/jicofo/jicofo.conf": JICOFO_MAIN + CUSTOM_INCLUDE,
        "/jicofo/custom-jicofo.conf": "jicofo.xmpp.client.use-tls = false\n",
    })
    pf = dep.jicofo
    assert pf is not None and pf.path == "/jicofo/jicofo.conf" and pf.value is not None
    doc = pf.value
    assert doc.get("jicofo.xmpp.client.use-tls") is False  # from the override
    assert doc.get("jicofo.xmpp.client.disable-certificate-verification") is True  # from the main file
    assert doc.where("jicofo.xmpp.client.use-tls") == ("/jicofo/custom-jicofo.conf", 1)
    assert doc.where("jicofo.xmpp.client.hostname") == ("/jicofo/jicofo.conf", 7)
    custom = [p for p in dep.of(Role.JICOFO_CONF, active_only=False) if p.path.endswith("custom-jicofo.conf")]
    assert len(custom) == 1 and not custom[0].active  # kept (secrets, errors), not a configuration of its own
    assert [p.path for p in dep.of(Role.JICOFO_CONF)] == ["/jicofo/jicofo.conf"]


@pytest.mark.parametrize(("path", "role"), [("/cfg/jicofo/custom-jicofo.conf", Role.JICOFO_CONF),
                                           ("/cfg/jvb/custom-jvb.conf", Role.JVB_CONF),
                                           ("/cfg/jibri/custom-jibri.conf", Role.JIBRI_CONF),
                                           ("/cfg/jibri/xmpp.conf", Role.JIBRI_CONF)])
def test_an_override_alone_is_no_configuration(path: str, role: Role) -> None:
    """Rootless images (stable-11146+) render jicofo.conf inside the container: the CONFIG volume may hold
    only the operator's custom-jicofo.conf, whose few keys were judged as the whole configuration."""
    root = {Role.JICOFO_CONF: "jicofo", Role.JVB_CONF: "videobridge", Role.JIBRI_CONF: "jibri"}[role]
    dep = _dep({path: f"{root} {{\n  xmpp {{\n    client {{\n      use-tls = false\n    }}\n  }}\n}}\n"})
    [kept] = dep.of(role, active_only=False)
    assert kept.path == path and not kept.active  # its secrets and errors still count
    assert dep.first(role) is None


def test_two_directories_each_with_a_main_file_keep_path_order() -> None:
    dep = _dep({
        "/a/jicofo/jicofo.conf": 'jicofo.rest.host = "127.0.0.1"\n',
        "/b/jicofo/jicofo.conf": 'jicofo.rest.host = "0.0.0.0"\n',
        "/a/jicofo/aa-notes.conf": "jicofo.rest.host = 10.0.0.1\n",  # sniffed, sorts first, included by nobody
    })
    assert dep.jicofo is not None and dep.jicofo.path == "/a/jicofo/jicofo.conf"  # by name before by content


# -- merge order ---------------------------------------------------------------------------------------------


def test_document_order_decides_which_file_wins() -> None:
    dep = _dep({
        "/jvb/jvb.conf": (
            "videobridge {\n"                        # 1
            "  http-servers.private.host = 0.0.0.0\n"  # 2: before the include: the include overrides it
            '  stats.enabled = true\n'               # 3
            "}\n"                                    # 4
            'include "custom-jvb.conf"\n'            # 5
            "videobridge.stats.enabled = false\n"    # 6: after the include: it wins
        ),
        "/jvb/custom-jvb.conf": (
            "videobridge {\n"
            "  http-servers.private.host = 127.0.0.1\n"  # 2
            "  stats.enabled = true\n"                   # 3
            "  rest.shutdown.enabled = false\n"          # 4: only here: merged in
            "}\n"
        ),
    })
    doc = dep.jvb.value if dep.jvb else None
    assert doc is not None
    assert doc.get("videobridge.http-servers.private.host") == "127.0.0.1"
    assert doc.where("videobridge.http-servers.private.host") == ("/jvb/custom-jvb.conf", 2)
    assert doc.get("videobridge.stats.enabled") is False
    assert doc.where("videobridge.stats.enabled") == ("/jvb/jvb.conf", 6)
    assert doc.get("videobridge.rest.shutdown.enabled") is False
    assert doc.where("videobridge.rest.shutdown.enabled") == ("/jvb/custom-jvb.conf", 4)


def test_a_non_object_value_replaces_an_object_and_a_later_object_replaces_it() -> None:
    dep = _dep({
        "/jicofo/jicofo.conf": (
            "jicofo.xmpp.client.port = 5222\n"
            "jicofo.bridge.brewery-jid = old\n"
            'include "custom-jicofo.conf"\n'
            "jicofo.bridge.health-checks.enabled = false\n"
        ),
        "/jicofo/custom-jicofo.conf": "jicofo.xmpp.client = off\njicofo.bridge = none\n",
    })
    doc = dep.jicofo.value if dep.jicofo else None
    assert doc is not None
    assert doc.get("jicofo.xmpp.client") == "off"  # the included scalar replaced the whole object
    # the object written after the include replaces the scalar; what came before the scalar is gone
    assert doc.get("jicofo.bridge") == {"health-checks": {"enabled": False}}


def test_a_nested_include_merges_into_its_object() -> None:
    dep = _dep({
        "/jicofo/jicofo.conf": (
            "jicofo {\n"
            "  xmpp {\n"
            '    include "client.conf"\n'
            "  }\n"
            "}\n"
        ),
        "/jicofo/client.conf": "client {\n  hostname = prosody.example.org\n  use-tls = false\n}\n",
    })
    doc = dep.jicofo.value if dep.jicofo else None
    assert doc is not None
    assert doc.get("jicofo.xmpp.client.use-tls") is False
    assert doc.where("jicofo.xmpp.client.use-tls") == ("/jicofo/client.conf", 3)
    assert doc.get("client") is None  # not at the root


def test_an_include_in_a_list_is_unclear_never_silently_dropped() -> None:
    dep = _dep({"/jicofo/jicofo.conf": 'jicofo.trusted = [ { include "x.conf" } ]\n', "/jicofo/x.conf": "a = 1\n"})
    pf = dep.jicofo
    assert pf is not None and pf.value is None
    assert "inside a list or a value is not understood" in pf.unusable


def test_substitutions_across_files_stay_unresolved_and_never_read_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAUDIT_HOST", "from-the-auditors-environment")
    dep = _dep({
        "/jicofo/jicofo.conf": 'host = "prosody.example.org"\ninclude "custom-jicofo.conf"\n',
        "/jicofo/custom-jicofo.conf": "jicofo.xmpp.client.hostname = ${JAUDIT_HOST}\n",
    })
    doc = dep.jicofo.value if dep.jicofo else None
    assert doc is not None and doc.get("jicofo.xmpp.client.hostname") == "${JAUDIT_HOST}"
    assert "JAUDIT_HOST" in doc.unresolved


# -- docker-jitsi-meet's container paths -------------------------------------------------------------------

JIBRI_MAIN = """\
jibri {
  recording {
    recordings-directory = "/tmp/recordings"
  }
  ffmpeg {
    resolution = "1920x1080"
  }
}

include "xmpp.conf"

include "/run/jibri/config/custom-jibri.conf"
"""
JIBRI_XMPP = """\
jibri {
  api {
    xmpp {
      environments = [
        {
          name = "prod environment"
          xmpp-server-hosts = [ "xmpp.meet.jitsi" ]
          xmpp-domain = "meet.jitsi"
          control-muc { domain = "internal-muc.meet.jitsi", room-name = "jibribrewery", nickname = "jibri-1" }
          control-login { domain = "auth.meet.jitsi", username = "jibri", password = "J1bri-Ctl-Pw-7e2c" }
          call-login { domain = "recorder.meet.jitsi", username = "recorder", password = "Rec-Pw-93ab-x1" }
          strip-from-room-domain = "muc."
          usage-timeout = 0
          trust-all-xmpp-certs = true
        }
      ]
    }
  }
}
"""
JIBRI_CUSTOM = 'jibri.recording.recordings-directory = "/srv/recordings"\n'


def test_jibris_container_path_is_the_file_beside_jibri_conf() -> None:
    dep = _dep({"/jibri/jibri.conf": JIBRI_MAIN, "/jibri/xmpp.conf": JIBRI_XMPP, "/jibri/custom-jibri.conf": JIBRI_CUSTOM})
    pf = dep.first(Role.JIBRI_CONF)
    assert pf is not None and pf.path == "/jibri/jibri.conf" and pf.value is not None
    assert pf.value.where("jibri.recording.recordings-directory") == ("/jibri/custom-jibri.conf", 1)
    assert pf.value.get("jibri.recording.recordings-directory") == "/srv/recordings"
    envs = pf.value.get("jibri.api.xmpp.environments")
    assert isinstance(envs, list) and envs[0]["trust-all-xmpp-certs"] is True
    assert pf.value.where("jibri.api.xmpp.environments") == ("/jibri/xmpp.conf", 4)


def test_the_older_config_path_maps_too_but_not_on_a_debian_host() -> None:
    old = JIBRI_MAIN.replace("/run/jibri/config/", "/config/")  # 9c10bb23 .. stable-11146
    dep = _dep({"/jibri/jibri.conf": old, "/jibri/custom-jibri.conf": JIBRI_CUSTOM})
    assert dep.first(Role.JIBRI_CONF).value.get("jibri.recording.recordings-directory") == "/srv/recordings"  # type: ignore[union-attr]
    host = _dep({"/etc/jitsi/jibri/jibri.conf": old, "/etc/jitsi/jibri/custom-jibri.conf": JIBRI_CUSTOM}, transport="ssh")
    pf = host.first(Role.JIBRI_CONF)
    assert pf is not None and pf.value is None  # /config is not in the evidence of a Debian host
    assert "/config/custom-jibri.conf is not in the evidence" in pf.unusable


# -- what cannot be known ------------------------------------------------------------------------------------


def test_a_missing_optional_include_is_ignored_a_missing_required_one_is_unclear() -> None:
    ok = _dep({"/jvb/jvb.conf": 'videobridge.stats.enabled = false\ninclude "custom-jvb.conf"\n'})
    assert ok.jvb is not None and ok.jvb.value is not None and ok.jvb.value.get("videobridge.stats.enabled") is False
    bad = _dep({"/jvb/jvb.conf": 'videobridge.stats.enabled = false\ninclude required("custom-jvb.conf")\n'})
    assert bad.jvb is not None and bad.jvb.value is None and bad.jvb.error_line == 2
    assert "required include /jvb/custom-jvb.conf is not in the evidence" in bad.jvb.unusable


@pytest.mark.parametrize("files, reason", [
    ({"/jicofo/jicofo.conf": 'include "custom-jicofo.conf"\n',
      "/jicofo/custom-jicofo.conf": 'jicofo.rest.host = "::1"\ninclude "jicofo.conf"\n'}, "include cycle"),
    ({"/jicofo/jicofo.conf": 'jicofo.rest.host = "::1"\ninclude "jicofo.conf"\n'}, "include cycle"),
    ({"/jicofo/jicofo.conf": 'include "../../etc/shadow"\n'}, "/etc/shadow (as .conf or .json) is not in the evidence"),
    ({"/jicofo/jicofo.conf": 'include required(file("/etc/shadow"))\n'}, "required include /etc/shadow (as .conf"),
    ({"/jicofo/jicofo.conf": 'include url("http://127.0.0.1:9/x.conf")\n'}, "url() includes are not in the evidence"),
    ({"/jicofo/jicofo.conf": 'include classpath("reference.conf")\n'}, "classpath() includes"),
    ({"/jicofo/jicofo.conf": 'include "custom-jicofo.conf"\n', "/jicofo/custom-jicofo.conf": "jicofo { = }\n"},
     "custom-jicofo.conf:1: HOCON syntax error"),
    ({"/jicofo/jicofo.conf": 'include "a.conf"\n', "/jicofo/a.conf": 'include "b.conf"\n',
      "/jicofo/b.conf": 'include required("c.conf")\n'}, "required include /jicofo/c.conf"),
])
def test_what_cannot_be_known_makes_the_configuration_unclear(files: dict[str, str], reason: str) -> None:
    pf = _dep(files).jicofo
    assert pf is not None and pf.path == "/jicofo/jicofo.conf" and pf.value is None
    assert reason in pf.unusable


def test_an_unreadable_included_file_is_unclear() -> None:
    snap = _snap({"/jicofo/jicofo.conf": 'include "custom-jicofo.conf"\n'})
    snap.add(CollectedItem("/jicofo/custom-jicofo.conf", "file", ItemStatus.PERMISSION_DENIED, error="permission denied"))
    pf = build_deployment(snap).jicofo
    assert pf is not None and pf.value is None and "custom-jicofo.conf: permission denied" in pf.unusable


def test_ten_thousand_includes_are_bounded() -> None:
    text = 'include"n"\n' * 10_000  # within the parser's 128 KiB; each names a file that is not there
    start = time.monotonic()
    pf = _dep({"/jicofo/jicofo.conf": text}).jicofo
    assert time.monotonic() - start < 10
    assert pf is not None and pf.value is None and f"more than {MAX_INCLUDES} include statements" in pf.unusable


def test_an_included_file_counts_in_the_parse_budget() -> None:
    # extra.inc is found by no discovery rule: it is read only because jicofo.conf includes it
    snap = _snap({"/jicofo/jicofo.conf": 'jicofo {\n  include "extra.inc"\n}\n', "/jicofo/extra.inc": "rest.host = x\n"})
    dep = build_deployment(snap, ParseBudget(per_role=1))
    pf = dep.jicofo
    assert pf is not None and pf.value is None and "the target's parse budget" in pf.unusable
    assert [p.path for p in dep.over_budget(Role.JICOFO_CONF)] == ["/jicofo/extra.inc"]


# -- secrets ------------------------------------------------------------------------------------------------


def test_an_included_files_secrets_are_reported_once_where_written() -> None:
    prepared = prepare_snapshot(_snap({
        "/jicofo/jicofo.conf": JICOFO_MAIN + CUSTOM_INCLUDE,
        "/jicofo/custom-jicofo.conf": 'jicofo.xmpp.client.password = "Zq8-focus-Secret-41d7"\n',
    }))
    found = [(s.name, s.location.path, s.location.line) for s in secret_settings(prepared.deployment)
             if "password" in s.name]
    assert found == [("custom-jicofo.conf: jicofo.xmpp.client.password", "/jicofo/custom-jicofo.conf", 1)]


# -- end to end: --root on a docker CONFIG-like tree ---------------------------------------------------------


def _audit(tmp_path: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    root = tmp_path / "cfg"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    out = tmp_path / "report.json"
    with pytest.raises(SystemExit):
        main(["--root", str(root), "-q", "-f", "json", "-o", str(out)])
    capsys.readouterr()
    return {f["check_id"]: f for f in json.loads(out.read_text())["targets"][0]["findings"]}


def test_root_an_override_introduces_a_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main_text = JICOFO_MAIN.replace("disable-certificate-verification = true", "disable-certificate-verification = false")
    found = _audit(tmp_path, {
        "jicofo/jicofo.conf": main_text + CUSTOM_INCLUDE,
        "jicofo/custom-jicofo.conf": "jicofo {\n  xmpp.client.use-tls = false\n}\n",
    }, capsys)
    tls = found["jicofo.use_tls"]
    assert tls["status"] == "fail" and "xmpp.meet.jitsi" in tls["message"]  # the host is jicofo.conf's
    assert {(e["path"], e["line"]) for e in tls["evidence"]} == {("/jicofo/custom-jicofo.conf", 2),
                                                                 ("/jicofo/jicofo.conf", 7)}


def test_root_an_override_fixes_a_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = _audit(tmp_path, {
        "jicofo/jicofo.conf": JICOFO_MAIN + '\ninclude "overrides.conf"\n',
        "jicofo/overrides.conf": "jicofo.xmpp.client.disable-certificate-verification = false\n",
    }, capsys)
    verification = found["jicofo.certificate_verification"]
    assert verification["status"] == "pass"
    assert [(e["path"], e["line"]) for e in verification["evidence"]] == [("/jicofo/overrides.conf", 1)]


def test_root_jibri_xmpp_conf_holds_the_environments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    found = _audit(tmp_path, {"jibri/jibri.conf": JIBRI_MAIN, "jibri/xmpp.conf": JIBRI_XMPP,
                              "jibri/custom-jibri.conf": JIBRI_CUSTOM}, capsys)
    xmpp = found["jibri.xmpp_cert_verification"]
    assert xmpp["status"] == "fail" and "prod environment" in xmpp["message"]
    assert [(e["path"], e["line"]) for e in xmpp["evidence"]] == [("/jibri/xmpp.conf", 4)]
    directory = found["jibri.recordings_directory"]
    assert directory["status"] == "pass" and directory["evidence"][0]["path"] == "/jibri/custom-jibri.conf"


@pytest.mark.parametrize("extra, reason", [
    ({"jicofo/custom-jicofo.conf": 'include "jicofo.conf"\n'}, "include cycle"),
    ({"jicofo/jicofo.conf": JICOFO_MAIN + '\ninclude required("custom-jicofo.conf")\n'}, "required include"),
    ({"jicofo/jicofo.conf": JICOFO_MAIN.replace('    client {\n', '    client {\n      include "/etc/passwd"\n')},
     "/etc/passwd (as .conf or .json) is not in the evidence"),
])
def test_root_unknowable_includes_are_unclear(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              extra: dict[str, str], reason: str) -> None:
    files = {"jicofo/jicofo.conf": JICOFO_MAIN + CUSTOM_INCLUDE, **extra}
    found = _audit(tmp_path, files, capsys)
    for check_id in ("jicofo.use_tls", "jicofo.certificate_verification"):
        assert found[check_id]["status"] == "unclear" and reason in found[check_id]["message"]


def test_root_a_nested_include_is_judged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = JICOFO_MAIN.replace("    client {\n", '    include "client-tls.conf"\n    client {\n', 1)
    found = _audit(tmp_path, {
        "jicofo/jicofo.conf": text.replace('hostname = "xmpp.meet.jitsi"', 'hostname = "prosody.example.org"'),
        "jicofo/client-tls.conf": "client.use-tls = false\n",
    }, capsys)
    tls = found["jicofo.use_tls"]
    assert tls["status"] == "fail" and ("/jicofo/client-tls.conf", 1) in {(e["path"], e["line"]) for e in tls["evidence"]}


def test_an_override_alone_is_named_in_the_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Its settings are not judged (no configuration to merge them into): the report says so."""
    root = tmp_path / "cfg"
    (root / "jicofo").mkdir(parents=True)
    (root / "jicofo" / "custom-jicofo.conf").write_text("jicofo {\n  xmpp {\n    client {\n      use-tls = false\n"
                                                         "    }\n  }\n}\n")
    out = tmp_path / "r.json"
    with pytest.raises(SystemExit):
        main(["--root", str(root), "-q", "-f", "json", "-o", str(out)])
    capsys.readouterr()
    notes = json.loads(out.read_text())["targets"][0]["notes"]
    assert any(n.startswith("/jicofo/custom-jicofo.conf: docker-jitsi-meet override(s)") for n in notes), notes
