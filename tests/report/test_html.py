"""HTML: one self-contained file, parsed back; hostile values escaped; rendered by headless Chromium."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import auditor.discovery
from auditor.criteria import load_profile
from auditor.discovery import DiscoveredFile
from auditor.engine import TargetResult, audit_snapshot
from auditor.gating.baseline import parse_baseline
from auditor.gating.gate import GateConfig
from auditor.gating.thresholds import MinScores
from auditor.gating.waivers import parse_waivers
from auditor.model import Severity
from auditor.registry import all_checks
from auditor.report.html import render_html
from auditor.snapshot import Snapshot
from auditor.transports.local import collect_local_dir
from tests.report.fixtures import HOSTILE, NOW, context, make_results, repo_root
from tests.report.png import read_png


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.h4: list[str] = []
        self._in_h4 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "h4":
            self._in_h4 = True
            self.h4.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h4":
            self._in_h4 = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_h4:
            self.h4[-1] += data


def _parse(doc: str) -> Collector:
    c = Collector()
    c.feed(doc)
    c.close()
    return c


def _config() -> GateConfig:
    waivers = parse_waivers(
        "waivers:\n  - {check: web.hsts, justification: 'HSTS set by the CDN', expires: 2099-12-31, "
        "approver: 'CISO'}\n  - {check: privacy.third_party_stun, justification: old, expires: 2020-01-01, "
        "approver: CISO}\n",
        "waivers.yaml",
    )
    baseline = parse_baseline(
        {
            "schema_version": "1.0",
            "targets": [
                {
                    "target": "config-repo",
                    "findings": [
                        {"check_id": "web.tls_configuration", "status": "fail"},
                        {
                            "check_id": "xmpp.c2s_encryption",
                            "status": "fail",
                            "title": "XMPP",
                            "severity": "medium",
                        },
                    ],
                }
            ],
        },
        "prev.json",
    )
    return GateConfig(
        fail_on=Severity.MEDIUM,
        waivers=waivers,
        baseline=baseline,
        min_scores=MinScores(60.0, {"encryption": 50.0}),
        today=NOW.date(),
    )


def test_self_contained_no_script_no_external_assets() -> None:
    results = make_results(hostile=True)
    doc = render_html(results, context(results, config=_config()))
    parsed = _parse(doc)
    names = [t for t, _ in parsed.tags]
    assert "script" not in names and "img" not in names and "iframe" not in names and "link" not in names
    assert "object" not in names and "embed" not in names and "base" not in names
    for tag, attrs in parsed.tags:
        for key, value in attrs.items():
            assert not key.startswith("on"), (tag, key)
            if key in ("src", "href", "action", "xlink:href"):
                assert (value or "").startswith("#"), (tag, key, value)
            if key == "style":
                raise AssertionError("no inline style attributes")
    csp = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0].get("content") or "")
    assert "url(" not in doc and "@import" not in doc


def test_hostile_values_are_escaped() -> None:
    results = make_results(hostile=True)
    doc = render_html(results, context(results, config=_config()))
    assert "<script>" not in doc and "<img" not in doc
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in doc
    assert "\x1b" not in doc and "\u202e" not in doc
    assert "</pre><!--" not in doc and "&lt;/pre&gt;&lt;!--" in doc
    text = "".join(_parse(doc).text)
    assert HOSTILE in text  # shown to the reader as text, exactly


def test_sections_criteria_matrix_chart_findings_evidence() -> None:
    results = make_results()
    doc = render_html(results, context(results, config=_config()))
    parsed = _parse(doc)
    # criteria matrix: one row per criterion per complete target, with the 2020 review column
    rows = [a for t, a in parsed.tags if t == "td" and "rating" in (a.get("class") or "")]
    assert len(rows) == 2 * 33 * 2  # this deployment + review 2020, for the two complete targets
    assert any("r-fully" in (a.get("class") or "") for _, a in parsed.tags)
    assert "Review 2020 (Jitsi)" in doc
    # inline SVG chart with a bar per category + overall and a minimum-score marker
    assert doc.count("<svg ") == 2
    assert "minimum 60" in doc and "minimum 50" in doc
    # findings grouped by severity, most severe first
    sev = [
        h.split(" ")[0] for h in parsed.h4 if h.split(" ")[0] in ("critical", "high", "medium", "low", "info")
    ]
    order = ["critical", "high", "medium", "low", "info"]
    first = sev[: len(set(sev))]
    assert first == sorted(first, key=order.index)
    # gate marks
    for badge in ("gates", "waived", "new", "unchanged", "fixed"):
        assert f'class="badge b-{badge}"' in doc, badge
    assert "Fixed since the baseline" in doc and "Expired waivers no longer apply" in doc
    assert "HSTS set by the CDN" in doc
    # evidence: excerpts and the collected items with their sha256 prefix
    assert "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;" in doc
    assert "/etc/jitsi/jicofo/config" in doc and "permission_denied" in doc
    assert "SHA256:abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" in doc
    assert "Audit incomplete" in doc and "connection refused" in doc


_ITEM_ROW = re.compile(r'<tr><td class="mono">([^<]*)</td><td>([^<]*)</td>')


def _item_roles(doc: str) -> dict[str, str]:
    """Path -> role text of the 'Evidence collected' item table."""
    return dict(_ITEM_ROW.findall(doc))


def _audited(fixture: str) -> TargetResult:
    prof = load_profile("default")
    snap = collect_local_dir(repo_root() / "tests" / "fixtures" / fixture)
    return audit_snapshot(snap, prof, all_checks(prof.criterion_ids, with_plugins=False))


def test_item_roles_come_from_the_deployment_without_discovering_again(monkeypatch: pytest.MonkeyPatch) -> None:
    result = _audited("debian-2020")
    assert result.deployment is not None
    calls: list[Snapshot] = []
    real = auditor.discovery.discover

    def counted(snap: Snapshot) -> list[DiscoveredFile]:
        calls.append(snap)
        return real(snap)

    monkeypatch.setattr(auditor.discovery, "discover", counted)
    roles = _item_roles(render_html([result], context([result])))
    assert calls == []
    want = {f.path: f.role.value + (" (inactive)" if f.active is False else "") for f in result.deployment.files}
    assert want and {k: roles.get(k) for k in want} == want
    # Without a deployment (a result built elsewhere) the roles are discovered from the snapshot: the same.
    bare = dataclasses.replace(result, deployment=None)
    assert _item_roles(render_html([bare], context([bare]))) == roles
    assert len(calls) == 1


CHROMIUM = next(
    (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None
)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (Debian package: chromium)")
def test_renders_in_headless_chromium(tmp_path: Path) -> None:
    results = make_results(hostile=True)
    page = tmp_path / "report.html"
    page.write_text(render_html(results, context(results, config=_config())), encoding="utf-8")
    shot = tmp_path / "report.png"
    width, height = 900, 1200
    assert CHROMIUM is not None
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            f"--window-size={width},{height}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.is_file(), proc.stderr.decode(errors="replace")[-2000:]
    blob = shot.read_bytes()
    assert len(blob) > 20_000  # a blank page compresses to a few kB
    img = read_png(blob)
    assert (img.width, img.height) == (width, height)
    step = 3
    pixels = [img.pixel(x, y)[:3] for y in range(0, height, step) for x in range(0, width, step)]
    non_white = sum(1 for p in pixels if p != (255, 255, 255))
    assert non_white / len(pixels) > 0.03
    assert len(set(pixels)) > 50

    # the page was styled: the red "No" and the gate box colours are present
    def near(rgb: tuple[int, ...], target: tuple[int, int, int], tol: int = 12) -> bool:
        return all(abs(a - b) <= tol for a, b in zip(rgb, target, strict=True))

    assert any(near(p, (0xFF, 0xEB, 0xE9)) for p in pixels), "no styled (pink) box rendered"
