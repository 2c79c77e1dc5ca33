"""`advisories --update` against a local HTTP server on 127.0.0.1 (never the internet), and `--list`."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from auditor import cli
from auditor.advisories.data import bundled_path, load_file, user_data_path
from auditor.advisories.update import UpdateError, check_url, parse_jsa, update

JSA_2021_0001 = """## Overview
* **Project**: jitsi-meet
* **Summary**:  Incorrect Default Permissions
* **Severity**: Medium
* **Affected versions**: All < 2.0.5963-1
* **Fixed date**: 2021-06-10
* **Fixed version**: 2.0.5963-1
* **CVE**: CVE-2021-33506
"""
# Test-only advisories (not real ones): a new parseable one, an unreadable range, an unknown project.
JSA_NEW = """## Overview

* **Project**: jicofo
* **Summary**: Test advisory: something in jicofo
* **Severity**: High
* **Affected versions**: < 1.0-1200
* **Fixed date**: 2026-10-01
* **Fixed version**: 1.0-1200
* **CVE**: CVE-2026-99999
"""
JSA_VAGUE = """## Overview
* **Project**: jitsi-videobridge
* **Summary**: Test advisory with a range in words
* **Severity**: Whatever
* **Affected versions**: versions from last spring
* **Fixed version**: see the release notes
* **CVE**: [pending]
"""
JSA_OTHER = """## Overview
* **Project**: jitsi-meet-sdk-android
* **Summary**: Test advisory for a component this tool does not audit
* **Severity**: Low
* **Affected versions**: < 9.0.0
"""
TEMPLATE = """## Overview
* **Project**: jitsi-meet
* **Summary**:  Unauthenticated user can type emoji
* **Severity**: Critical
* **Affected versions**: All
* **Fixed in**: stable-1234
"""


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, bytes]]] = {}

    def do_GET(self) -> None:
        status, body = self.routes.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, dict[str, tuple[int, bytes]]]]:
    routes: dict[str, tuple[int, bytes]] = {}
    handler = type("H", (_Handler,), {"routes": routes})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield base, routes
    finally:
        httpd.shutdown()
        httpd.server_close()


def _listing(base: str, routes: dict[str, tuple[int, bytes]], files: dict[str, str]) -> str:
    entries = [{"name": "README.md", "download_url": f"{base}/raw/README.md", "type": "file"}]
    for name, text in files.items():
        routes[f"/raw/{name}"] = (200, text.encode())
        entries.append({
            "name": name,
            "download_url": f"{base}/raw/{name}",
            "html_url": f"https://github.com/jitsi/security-advisories/blob/master/advisories/{name}",
            "type": "file",
        })  # fmt: skip
    routes["/repos/jitsi/security-advisories/contents/advisories"] = (200, json.dumps(entries).encode())
    return f"{base}/repos/jitsi/security-advisories/contents/advisories"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_update_from_a_listing_adds_new_advisories_and_keeps_curated_ones(
    server: tuple[str, dict[str, tuple[int, bytes]]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, routes = server
    source = _listing(base, routes, {
        "JSA-0000-0000.md": TEMPLATE,
        "JSA-2021-0001.md": JSA_2021_0001,
        "JSA-2026-0001.md": JSA_NEW,
        "JSA-2026-02.md": JSA_VAGUE,  # short number in the file name, like upstream's JSA-2022-001.md
        "JSA-2026-0003.md": JSA_OTHER,
    })  # fmt: skip
    out_file = tmp_path / "adv.json"
    code, out, err = run(["advisories", "--update", "--source", source, "--output", str(out_file)], capsys)
    assert code == 0, err
    assert "written to" in out and "new: JSA-2026-0001, JSA-2026-0002" in out
    assert "JSA-2026-0003: project 'jitsi-meet-sdk-android'" in err
    data = load_file(out_file)
    bundled = load_file(bundled_path())
    assert data.version_tuple > bundled.version_tuple
    assert len(data.advisories) == len(bundled.advisories) + 2
    assert data.get("JSA-2021-0001") == bundled.get("JSA-2021-0001")  # curated entry kept
    new = data.get("CVE-2026-99999")
    assert new is not None and new.id == "JSA-2026-0001" and new.severity == "high" and new.confirmed
    assert new.link.endswith("JSA-2026-0001.md") and new.published == "2026-10-01"
    vague = data.get("JSA-2026-0002")
    assert vague is not None and not vague.confirmed and not vague.affected and vague.severity == "unrated"
    assert source in data.sources
    # the audit would now use it through $JITSI_AUDIT_ADVISORIES, and the new jicofo advisory matches
    from auditor.advisories import match

    assert "JSA-2026-0001" in {m.advisory.id for m in match({"jicofo": "1.0-1189-1"}, data=data) if m.certain}


def test_update_writes_the_user_data_file_by_default(
    server: tuple[str, dict[str, tuple[int, bytes]]], capsys: pytest.CaptureFixture[str]
) -> None:
    base, routes = server
    source = _listing(base, routes, {"JSA-2026-0001.md": JSA_NEW})
    code, out, _ = run(["advisories", "--update", "--source", source], capsys)
    assert code == 0 and str(user_data_path()) in out
    code, out, _ = run(["advisories", "--list"], capsys)
    assert code == 0 and f"(updated {user_data_path()})" in out and "JSA-2026-0001" in out


def test_update_from_a_full_data_file(server: tuple[str, dict[str, tuple[int, bytes]]], tmp_path: Path) -> None:
    base, routes = server
    raw = json.loads(bundled_path().read_text(encoding="utf-8"))
    raw["version"] = "2030.01.01"
    routes["/data.json"] = (200, json.dumps(raw).encode())
    result = update(f"{base}/data.json", load_file(bundled_path()))
    assert result.data.version == "2030.01.01" and result.added == []
    raw["version"] = "2000.01.01"
    routes["/old.json"] = (200, json.dumps(raw).encode())
    with pytest.raises(UpdateError, match="older than the current"):
        update(f"{base}/old.json", load_file(bundled_path()))


@pytest.mark.parametrize(
    ("route", "body", "status", "expected"),
    [
        (
            "/bad.json",
            json.dumps({"format": "jitsi-audit-advisories/1", "version": "x"}),
            200,
            "invalid data, nothing written",
        ),
        ("/garbage", "<html>rate limited</html>", 200, "not JSON"),
        ("/empty", "[]", 200, "names no JSA-*.md advisory"),
        ("/forbidden", "{}", 403, "HTTP 403"),
        ("/object", '{"message": "Not Found"}', 200, "neither an advisory data file nor a GitHub contents listing"),
    ],
)
def test_bad_sources_write_nothing_and_exit_2(
    server: tuple[str, dict[str, tuple[int, bytes]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    route: str,
    body: str,
    status: int,
    expected: str,
) -> None:
    base, routes = server
    routes[route] = (status, body.encode())
    out_file = tmp_path / "adv.json"
    code, out, err = run(["advisories", "--update", "--source", base + route, "--output", str(out_file)], capsys)
    assert code == 2 and out == ""
    assert expected in err and err.count("\n") == 1, err
    assert not out_file.exists()


def test_offline_fails_with_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out_file = tmp_path / "adv.json"
    code, out, err = run(
        ["advisories", "--update", "--source", f"http://127.0.0.1:{port}/x", "--output", str(out_file)], capsys
    )
    assert code == 2 and out == "" and not out_file.exists()
    assert err.startswith("jitsi-audit: advisories --update: cannot reach http://127.0.0.1:") and "offline?" in err
    assert err.count("\n") == 1


def test_only_https_or_loopback_sources() -> None:
    check_url("https://api.github.com/repos/jitsi/security-advisories/contents/advisories")
    check_url("http://localhost:8000/x")
    check_url("http://[::1]:8000/x")
    for bad in ("http://example.org/data.json", "file:///etc/passwd", "ftp://x/y", "https://"):
        with pytest.raises(UpdateError, match="must be https"):
            check_url(bad)
    with pytest.raises(UpdateError, match="not a URL"):
        check_url("https://[x/data.json")  # urlsplit raises on an unclosed IPv6 literal


def test_a_malformed_source_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "adv.json"
    code, out, err = run(["advisories", "--update", "--source", "https://[x/data.json", "--output", str(out_file)],
                         capsys)
    assert code == 2 and out == "" and not out_file.exists()
    assert err == "jitsi-audit: advisories --update: refusing 'https://[x/data.json': not a URL (Invalid IPv6 URL)\n"


def test_parse_jsa_fields() -> None:
    adv, note = parse_jsa(JSA_2021_0001, "JSA-2021-0001.md")
    assert note is None and adv is not None
    assert adv["aliases"] == ["CVE-2021-33506"] and adv["affected"] == [{"below": "2.0.5963-1"}]
    adv, _ = parse_jsa(
        TEMPLATE.replace("Project**: jitsi-meet", "Project**: jitsi-meet, lib-jitsi-meet"), "JSA-2030-0001.md"
    )
    assert adv is not None and adv["affected"] == [{"below": "stable-1234"}] and adv["severity"] == "critical"
    assert parse_jsa("x", "README.md") == (None, "README.md: not a JSA file name")


def test_list_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["advisories"], capsys)
    assert code == 0
    first = out.splitlines()[0]
    version = load_file(bundled_path()).version
    assert first.startswith(f"advisory data {version} (bundled)") and "stable-release mapping 830-" in first
    assert any(line.startswith("JSA-2021-0002 ") and "CVE-2021-39215" in line for line in out.splitlines())
    assert "[unconfirmed, client]" in out and "[unconfirmed, disputed]" in out
    code, out, _ = run(["advisories", "--json"], capsys)
    assert code == 0 and json.loads(out)["version"] == version
    code, _, err = run(["advisories", "--list", "--update"], capsys)
    assert code == 2 and "not both" in err
    code, _, err = run(["advisories", "--source", "https://x"], capsys)
    assert code == 2 and "go with --update" in err


def test_update_never_runs_during_an_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the audit went online")

    monkeypatch.setattr(httpx.Client, "send", refuse)
    from .helpers import snapshot
    from .test_checks import CURRENT, _audit

    assert _audit(snapshot(dpkg_output=CURRENT)).findings


def test_next_version_of_an_update_is_dated(server: tuple[str, dict[str, tuple[int, bytes]]]) -> None:
    base, routes = server
    source = _listing(base, routes, {"JSA-2026-0001.md": JSA_NEW})
    result = update(source, load_file(bundled_path()), today=date(2027, 1, 2))
    assert result.data.version == "2027.01.02" and result.data.updated == "2027-01-02"
