"""Hand-built audit results for the reporter, gating and evidence tests (no parsing needed).

`make_results()` gives three targets: a directory audit (`--root`), a live host (SSH) and a host that
could not be audited. With `hostile=True` every target-derived string carries markup, escape
sequences, formula triggers and Markdown punctuation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from auditor.criteria import Profile, load_profile
from auditor.engine import TargetResult
from auditor.facts import FACT_KEYS, Fact, Facts
from auditor.gating.gate import GateConfig, GateReport, evaluate
from auditor.model import Basis, CriterionRating, Evidence, Finding, Rating, Severity, Status
from auditor.parsers.base import Location
from auditor.report.formats import RenderContext
from auditor.scoring import score
from auditor.snapshot import CollectedItem, HostKey, ItemStatus, Snapshot

NOW = datetime(2025, 6, 30, 12, 0, 0, tzinfo=UTC)
NGINX = "/etc/nginx/sites-available/meet.example.org.conf"
CONFIG_JS = "/etc/jitsi/meet/meet.example.org-config.js"
JICOFO = "/etc/jitsi/jicofo/config"

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
HOSTILE_TEXT = (
    '=HYPERLINK("http://evil")|`rm -rf`|\x1b[31mred\x1b[0m\u202egnp.exe @everyone [x](javascript:alert(3)) '
    "</pre><!-- --> ]]> *bold* _it_ # h"
)


def _ev(path: str, line: int | None = None, excerpt: str | None = None) -> Evidence:
    return Evidence(Location(path, line), excerpt)


def findings(hostile: bool = False, live: bool = False) -> list[Finding]:
    h = HOSTILE_TEXT if hostile else ""
    nginx = NGINX
    excerpt = "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;" + (f" # {HOSTILE}" if hostile else "")
    fs = [
        Finding(
            "web.tls_configuration",
            "Front end accepts only strong TLS",
            Severity.HIGH,
            Status.FAIL,
            "nginx accepts TLSv1 and TLSv1.1" + h,
            ("enc.algorithm", "enc.key_strength", "enc.in_transit"),
            "Set `ssl_protocols TLSv1.2 TLSv1.3;`",
            (_ev(nginx, 12, excerpt), _ev(nginx, 13, "ssl_ciphers HIGH;")),
            ("https://ssl-config.mozilla.org/",),
        ),
        Finding(
            "secrets.weak_or_default",
            "No default or weak secrets",
            Severity.CRITICAL,
            Status.FAIL,
            "JICOFO_SECRET is a known default" + h,
            ("enc.key_strength",),
            "Generate a new secret with `openssl rand -hex 32`.",
            (_ev(JICOFO, 3, "JICOFO_SECRET=«redacted»"),),
            ("CVE-2020-11878",),
        ),
        Finding(
            "web.hsts",
            "HSTS is sent",
            Severity.MEDIUM,
            Status.FAIL,
            "no Strict-Transport-Security header",
            ("enc.in_transit",),
            'add_header Strict-Transport-Security "max-age=63072000" always;',
            (_ev(nginx, 20),),
            ("https://www.rfc-editor.org/rfc/rfc6797",),
        ),
        Finding(
            "privacy.third_party_stun",
            "No third-party STUN",
            Severity.MEDIUM,
            Status.FAIL,
            "meet-jit-si-turnrelay.jitsi.net is used" + h,
            ("jur.data_location",),
            "Remove the jitsi.net STUN servers from p2p.stunServers.",
            (_ev(CONFIG_JS, 40),),
        ),
        Finding(
            "rooms.welcome_page_open",
            "Welcome page",
            Severity.LOW,
            Status.FAIL,
            "welcome page on",
            ("mgmt.access_control",),
            "Set enableWelcomePage: false.",
            (),
        ),
        Finding(
            "xmpp.c2s_encryption",
            "XMPP clients must encrypt",
            Severity.MEDIUM,
            Status.PASS,
            "c2s_require_encryption = true",
            ("enc.in_transit",),
            "Set c2s_require_encryption = true.",
            (_ev("/etc/prosody/prosody.cfg.lua", 50),),
        ),
        Finding(
            "rooms.lobby_available",
            "Lobby",
            Severity.MEDIUM,
            Status.UNCLEAR,
            "prosody config unreadable" + h,
            ("mgmt.access_control",),
            "Enable muc_lobby_rooms.",
            (),
        ),
        Finding(
            "recording.server_side",
            "Recording",
            Severity.INFO,
            Status.NOT_APPLICABLE,
            "no jibri",
            ("enc.files_recordings",),
            "Encrypt recordings at rest.",
            (),
        ),
    ]
    if live:
        fs.append(
            Finding(
                "exposure.jvb_rest_api",
                "Videobridge API not exposed",
                Severity.HIGH,
                Status.FAIL,
                "port 8080 answers from outside",
                ("mgmt.central_control",),
                "Bind the REST API to localhost.",
                (_ev("probe:tcp meet.example.org:8080"),),
            )
        )
    return fs


def ratings(profile: Profile, hostile: bool = False) -> list[CriterionRating]:
    cycle = [Rating.FULLY, Rating.PARTIALLY, Rating.NO, Rating.UNCLEAR, Rating.NA]
    out = []
    for i, c in enumerate(profile.criteria):
        declared = c.id in profile.declarable and i % 2 == 0
        reason = "declared by the operator: ISO 27001" if declared else f"rule {i}"
        if hostile:
            reason += " " + HOSTILE
        out.append(
            CriterionRating(
                c.id,
                c.category,
                c.title,
                cycle[i % 5],
                Basis.DECLARED if declared else Basis.VERIFIED,
                (reason,),
                (),
                c.review_2020,
            )
        )
    return out


def snapshot(target: str, root: str | None, hostile: bool = False) -> Snapshot:
    snap = Snapshot(
        target, "dir" if root else "ssh", root=root, started_at=NOW, finished_at=NOW + timedelta(seconds=2)
    )
    content = b"server {\n  ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n}\n"
    snap.add(CollectedItem(NGINX, "file", ItemStatus.OK, content, len(content), 0o644, "root", "root"))
    snap.add(
        CollectedItem(
            JICOFO,
            "file",
            ItemStatus.OK,
            b"JICOFO_SECRET=\xc2\xabredacted\xc2\xbb\n",
            20,
            0o640,
            "root",
            "jitsi",
            redactions=1,
        )
    )
    snap.add(
        CollectedItem(
            "/etc/prosody/prosody.cfg.lua", "file", ItemStatus.PERMISSION_DENIED, error="permission denied"
        )
    )
    if hostile:
        snap.add(CollectedItem(f"/etc/{HOSTILE}", "file", ItemStatus.ERROR, error=HOSTILE_TEXT))
        snap.errors.append("collect: " + HOSTILE_TEXT)
    if root is None:
        snap.host_key = HostKey("ssh-ed25519", "SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
    return snap


def _facts(hostile: bool) -> Facts:
    items = {k: Fact(None, [], "not in the evidence") for k in FACT_KEYS}
    items["auth.main"] = Fact("anonymous")
    items["web.tls_protocols"] = Fact(["TLSv1", "TLSv1.2"])
    items["web.weak_tls"] = Fact(True)
    if hostile:
        items["secrets.weak"] = Fact([HOSTILE])
    return Facts(items)


def make_results(hostile: bool = False, profile: Profile | None = None) -> list[TargetResult]:
    prof = profile or load_profile("default")
    out: list[TargetResult] = []
    dir_target = f"config-repo{HOSTILE}" if hostile else "config-repo"
    live_target = f"meet.example.org{HOSTILE}" if hostile else "meet.example.org"
    for target, root in ((dir_target, dir_target), (live_target, None)):
        crit = ratings(prof, hostile)
        out.append(
            TargetResult(
                target=target,
                started_at=NOW,
                finished_at=NOW + timedelta(seconds=3),
                snapshot=snapshot(target, root, hostile),
                facts=_facts(hostile),
                findings=findings(hostile, live=root is None),
                criteria=crit,
                scores=score(crit, [c for c, _ in prof.categories]),
                notes=[f"/etc/prosody/prosody.cfg.lua: permission denied{HOSTILE_TEXT if hostile else ''}"],
            )
        )
    out.append(
        TargetResult(
            target=f"down.example.org{HOSTILE}" if hostile else "down.example.org",
            started_at=NOW,
            finished_at=NOW,
            snapshot=None,
            facts=None,
            findings=[],
            criteria=[],
            scores=None,
            error="connection refused" + (HOSTILE_TEXT if hostile else ""),
            error_stage="connect",
        )
    )
    return out


def context(
    results: list[TargetResult],
    profile: Profile | None = None,
    *,
    config: GateConfig | None = None,
    exit_code: int = 1,
) -> RenderContext:
    prof = profile or load_profile("default")
    cfg = config or GateConfig(fail_on=Severity.HIGH, today=NOW.date())
    gate: GateReport = evaluate(results, cfg)
    return RenderContext(prof, cfg.fail_on, exit_code, color=False, gate=gate)


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
