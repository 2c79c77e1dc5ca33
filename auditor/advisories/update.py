"""`jitsi-audit advisories --update`: refresh the advisory data from a public source (the only network use).

A source is either
- a GitHub contents listing of `jitsi/security-advisories/advisories` (the default): each `JSA-*.md`
  is fetched and parsed; advisories not yet in the data are added (a range that cannot be read from
  the text is added unconfirmed, so the audit says Unclear for it), curated entries are kept; or
- a complete data file in this package's format (a mirror, or a newer jitsi-audit's data).
Nothing is written unless the result validates; the new file gets a newer data version.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from auditor import __version__, json_input
from auditor.advisories.data import AdvisoryData, AdvisoryDataError, next_version, validate_data
from auditor.advisories.versions import COMPONENT_SCHEMES, parse_bound

DEFAULT_SOURCE = "https://api.github.com/repos/jitsi/security-advisories/contents/advisories"
JSA_BASE = "https://github.com/jitsi/security-advisories/blob/master/advisories/"
MAX_RESPONSE = 2 * 1024 * 1024
MAX_FILES = 300
TIMEOUT = 20.0
_JSA_FILE_RE = re.compile(r"^JSA-(\d{4})-(\d{1,4})\.md$")
# Blanks, not \s: \s runs over the following empty lines, quadratic over a long document
_FIELD_RE = re.compile(r"^[ \t]*[*-][ \t]+\*\*(.+?)\*\*[ \t]*:[ \t]*(.*?)[ \t]*$", re.M)
_CVE_RE = re.compile(r"CVE-\d{4}-\d{4,}")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PROJECTS = {
    "jitsi-meet": "jitsi-meet",
    "lib-jitsi-meet": "jitsi-meet",
    "jicofo": "jicofo",
    "jitsi-videobridge": "jitsi-videobridge",
    "jigasi": "jigasi",
    "jibri": "jibri",
    "docker-jitsi-meet": "docker-jitsi-meet",
    "jitsi-meet-electron": "jitsi-meet-electron",
}
_SEVERITIES = {
    "critical": "critical",
    "high": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "minor": "low",
}


class UpdateError(Exception):
    """The update failed; the message is one line and nothing was written."""


@dataclass(slots=True)
class UpdateResult:
    data: AdvisoryData
    added: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_url(url: str) -> None:
    """https anywhere; plain http only to a loopback address (a local mirror, the tests)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # `https://[x`: an unclosed IPv6 literal
        raise UpdateError(f"refusing {url!r}: not a URL ({exc})") from None
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return
    if parts.scheme == "http" and _loopback(host):
        return
    raise UpdateError(f"refusing {url!r}: the source must be https (plain http only on loopback)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fetch(client: httpx.Client, url: str) -> bytes:
    check_url(url)
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                raise UpdateError(f"{url}: HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE:
                    raise UpdateError(f"{url}: response larger than {MAX_RESPONSE} bytes")
            return bytes(body)
    except httpx.TransportError as exc:
        raise UpdateError(f"cannot reach {url} (offline?): {type(exc).__name__}: {_short(str(exc))}") from None
    except httpx.HTTPError as exc:
        raise UpdateError(f"{url}: {type(exc).__name__}: {_short(str(exc))}") from None


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line[:160] or "no details"


def make_client(*, trust_env: bool = True) -> httpx.Client:
    """Redirects are followed, each hop held to the same https/loopback rule; `trust_env`: proxy variables."""
    headers = {"User-Agent": f"jitsi-audit/{__version__}", "Accept": "application/vnd.github+json"}

    def hop(request: httpx.Request) -> None:
        check_url(str(request.url))

    return httpx.Client(
        timeout=TIMEOUT,
        headers=headers,
        follow_redirects=True,
        max_redirects=5,
        event_hooks={"request": [hop]},
        trust_env=trust_env,
    )


def update(
    source: str, current: AdvisoryData, *, client: httpx.Client | None = None, today: date | None = None
) -> UpdateResult:
    own = client is None
    check_url(source)  # before urlsplit below: a malformed URL is one line, not a traceback
    http = make_client(trust_env=not _loopback(urlsplit(source).hostname or "")) if client is None else client
    try:
        body = fetch(http, source)
        try:
            doc = json_input.loads(body.decode("utf-8", "replace"))
        except json.JSONDecodeError as exc:
            raise UpdateError(f"{source}: not JSON (line {exc.lineno}: {exc.msg})") from None
        except ValueError as exc:
            raise UpdateError(f"{source}: not JSON ({exc})") from None
        if isinstance(doc, dict) and "format" in doc:
            return _full_file(doc, source, current)
        if isinstance(doc, list):
            return _from_listing(http, doc, source, current, today)
        raise UpdateError(f"{source}: neither an advisory data file nor a GitHub contents listing")
    finally:
        if own:
            http.close()


def _full_file(doc: dict[str, Any], source: str, current: AdvisoryData) -> UpdateResult:
    try:
        new = validate_data(doc, source)
    except AdvisoryDataError as exc:
        raise UpdateError(f"invalid data, nothing written: {exc}") from None
    if new.version_tuple < current.version_tuple:
        raise UpdateError(f"{source} has data {new.version}, older than the current {current.version}")
    known = {i for a in current.advisories for i in a.all_ids}
    return UpdateResult(new, [a.id for a in new.advisories if a.id not in known])


def _from_listing(
    http: httpx.Client, listing: list[Any], source: str, current: AdvisoryData, today: date | None
) -> UpdateResult:
    files: list[tuple[str, str, str | None]] = []
    for entry in listing:
        if not isinstance(entry, dict):
            continue
        name, url = entry.get("name"), entry.get("download_url")
        if not isinstance(name, str) or not isinstance(url, str):
            continue
        m = _JSA_FILE_RE.match(name)
        if m is None or m.group(1) == "0000":
            continue  # not an advisory, or the JSA-0000-0000 template
        html = entry.get("html_url")
        files.append((name, urljoin(source, url), html if isinstance(html, str) else None))
    if not files:
        raise UpdateError(f"{source}: the listing names no JSA-*.md advisory")
    if len(files) > MAX_FILES:
        raise UpdateError(f"{source}: more than {MAX_FILES} advisories listed")
    known = {i for a in current.advisories for i in a.all_ids}
    raw = current.model_dump(mode="json", exclude_defaults=True)
    result_notes: list[str] = []
    added: list[str] = []
    for name, url, html in sorted(files):
        text = fetch(http, url).decode("utf-8", "replace")
        adv, note = parse_jsa(text, name, html)
        if note:
            result_notes.append(note)
        if adv is None:
            continue
        if adv["id"] in known:
            old = current.get(adv["id"])
            if old is not None and adv.get("fixed") and old.fixed and _norm(adv["fixed"]) != _norm(old.fixed):
                result_notes.append(f"{adv['id']}: upstream now says fixed in {adv['fixed']} (kept {old.fixed})")
            continue
        raw["advisories"].append(adv)
        known.update([adv["id"], *adv.get("aliases", [])])
        added.append(adv["id"])
    raw["version"] = next_version(current.version, today)
    raw["updated"] = (today or date.today()).isoformat()
    sources = list(raw.get("sources", []))
    if source not in sources:
        sources.append(source)
    raw["sources"] = sources
    try:
        new = validate_data(raw, "updated data")
    except AdvisoryDataError as exc:
        raise UpdateError(f"the merged data is invalid, nothing written: {exc}") from None
    return UpdateResult(new, added, result_notes)


def _norm(version: str) -> str:
    return version.strip().removeprefix("stable-").removeprefix("2.0.").split("-")[0]


def parse_jsa(text: str, file_name: str, html_url: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """One JSA markdown file → an advisory entry (or None and why it was skipped)."""
    m = _JSA_FILE_RE.match(file_name)
    if m is None:
        return None, f"{file_name}: not a JSA file name"
    adv_id = f"JSA-{m.group(1)}-{int(m.group(2)):04d}"
    fields = {k.strip().lower(): v.strip() for k, v in _FIELD_RE.findall(text)}
    project = fields.get("project", "").split(",")[0].strip().lower()
    component = _PROJECTS.get(project)
    if component is None:
        return None, f"{adv_id}: project {project or '(none)'!r} is not a component this tool knows; skipped"
    severity = _SEVERITIES.get(fields.get("severity", "").lower())
    cves = _CVE_RE.findall(fields.get("cve", ""))
    fixed = fields.get("fixed version") or fields.get("fixed in") or None
    affected_text = fields.get("affected versions", "")
    bound = _bound(affected_text, fixed)
    scheme = COMPONENT_SCHEMES[component]
    adv: dict[str, Any] = {
        "id": adv_id,
        "component": component,
        "title": (fields.get("summary") or f"{project} advisory {adv_id}")[:200],
        "severity": severity or "unrated",
        "severity_source": f"JSA: {fields.get('severity') or 'not stated'}"[:200],
        "link": html_url if html_url and html_url.startswith("https://") else JSA_BASE + file_name,
    }
    if cves:
        adv["aliases"] = sorted(set(cves))
    if component == "jitsi-meet-electron":
        adv["scope"] = "client"
    date_text = fields.get("fixed date", "")
    if _DATE_RE.match(date_text):
        adv["published"] = date_text
    if fixed:
        adv["fixed"] = fixed[:60]
    try:
        if bound is None:
            raise ValueError("no bound")
        parse_bound(scheme, bound)
        adv["affected"] = [{"below": bound}]
    except ValueError:
        adv["affected"] = []
        adv["confirmed"] = False
        adv["note"] = f"Affected versions not machine-readable: {affected_text or '(missing)'!r}"[:200]
    return adv, None


def _bound(affected: str, fixed: str | None) -> str | None:
    m = re.search(r"<\s*([0-9][0-9A-Za-z.+~-]*|stable-[0-9-]+)", affected)
    if m:
        return m.group(1).rstrip(".")
    if affected.strip().lower() in ("all", "all versions") and fixed:
        return fixed.split()[0]
    return None
