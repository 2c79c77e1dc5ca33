"""Waivers: accepted failures, each justified, approved and time-limited.

File format (YAML)::

    version: 1
    waivers:
      - check: web.hsts                    # check id (required, exact)
        target: "meet-*.example.org"       # optional glob on the target name (fnmatch, case-sensitive);
                                           # absent = every target (an empty target is an error)
        justification: "HSTS is set by the CDN in front of nginx (ticket SEC-123)"   # required
        expires: 2025-12-31                # required, a UTC calendar date, INCLUSIVE
        approver: "Jane Doe <ciso@example.org>"                                       # required

A profile's `max_waiver_days: N` (or `--max-waiver-days N`) bounds how far ahead a waiver may expire:
a waiver expiring more than N days after the run's UTC date is an error (exit 2), as a date in 2999
accepts a risk for good.

Expiry is inclusive and in UTC: a waiver that `expires: 2025-12-31` applies to runs up to and
including 2025-12-31T23:59:59Z, and no longer applies from 2026-01-01T00:00:00Z. An expired waiver is
announced on stderr and is ignored, so its finding gates again.

A file that cannot be read, is not valid YAML, has an unknown key, a missing or empty field, a date
that is not `YYYY-MM-DD`, or names a check that does not exist is an error (exit 2): a waiver file
never silently waives something it does not say.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from auditor.gating.yamlsrc import YamlSourceError, load_yaml, where
from auditor.user_files import read_user_text_sha256

MAX_BYTES = 4 * 1024 * 1024

_KEYS = {"check", "target", "justification", "expires", "approver"}
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CHECK_ID_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class WaiverError(ValueError):
    """A waiver file that cannot be used; the message starts with `file:line`."""


@dataclass(frozen=True, slots=True)
class Waiver:
    check_id: str
    justification: str
    expires: date  # inclusive, UTC
    approver: str
    target: str | None = None  # fnmatch glob on the target name; None = every target
    source: str = ""  # "file:line" of the entry
    check_at: str = field(default="", compare=False)  # "file:line" of its `check:` key, for errors

    def matches(self, target: str, check_id: str) -> bool:
        if check_id != self.check_id:
            return False
        return self.target is None or fnmatch.fnmatchcase(target, self.target)

    def active_on(self, today: date) -> bool:
        """Valid through the end (UTC) of the `expires` day."""
        return today <= self.expires

    def to_json(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "target": self.target,
            "justification": self.justification,
            "expires": self.expires.isoformat(),
            "approver": self.approver,
            "source": self.source,
        }


@dataclass(slots=True)
class WaiverSet:
    waivers: list[Waiver] = field(default_factory=list)
    source: str = ""
    sha256: str | None = None  # of the file's bytes, set by load_waivers: runs are compared by content (merge)

    def expired(self, today: date) -> list[Waiver]:
        return [w for w in self.waivers if not w.active_on(today)]

    def require_known(self, known_checks: Iterable[str]) -> None:
        """WaiverError for the first waiver naming a check that is not registered: the file is parsed for
        its form before the checks are loaded (~0.2 s of imports), and its check ids validated after."""
        known = set(known_checks)
        for w in self.waivers:
            if w.check_id not in known:
                raise WaiverError(f"{w.check_at or w.source}: unknown check {_shown(w.check_id)}")

    def require_within(self, max_days: int, today: date) -> None:
        """WaiverError for the first waiver that expires more than `max_days` after `today` (the policy's
        longest acceptance of a risk: a waiver to 2999 is no time limit at all)."""
        for w in self.waivers:
            if (w.expires - today).days > max_days:
                raise WaiverError(f"{w.source}: the waiver for {w.check_id} expires on {w.expires.isoformat()}, "
                                  f"{(w.expires - today).days} days after {today.isoformat()} (UTC); waivers may "
                                  f"run for at most {max_days} days (max_waiver_days)")

    def find(self, target: str, check_id: str, today: date) -> Waiver | None:
        """The first waiver in file order that applies to this target and check today."""
        for w in self.waivers:
            if w.active_on(today) and w.matches(target, check_id):
                return w
        return None


def utc_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(UTC).date()


def load_waivers(path: Path, known_checks: Iterable[str] | None = None) -> WaiverSet:
    text, sha256 = read_user_text_sha256(path, "waivers", WaiverError, max_bytes=MAX_BYTES)
    found = parse_waivers(text, str(path), known_checks)
    found.sha256 = sha256  # of the bytes parsed above
    return found


def parse_waivers(text: str, source: str, known_checks: Iterable[str] | None = None) -> WaiverSet:
    try:
        data = load_yaml(text, source)
    except YamlSourceError as exc:
        raise WaiverError(str(exc)) from None
    if isinstance(data, dict):
        unknown = set(data) - {"version", "waivers"}
        if unknown:
            key = sorted(map(str, unknown))[0]
            raise WaiverError(f"{where(source, data, key)}: unknown key {key!r} (expected version, waivers)")
        version = data.get("version", 1)
        if type(version) is not int or version != 1:  # not true, not 1.0
            raise WaiverError(
                f"{where(source, data, 'version')}: unsupported waivers version {_shown(version)} (expected 1)"
            )
        entries = data.get("waivers")
        container: Any = data
    else:
        entries, container = data, None
    if entries is None:
        raise WaiverError(f"{source}: no 'waivers' list (an empty file waives nothing: write `waivers: []`)")
    if not isinstance(entries, list):
        raise WaiverError(f"{where(source, container, 'waivers')}: 'waivers' must be a list of entries")
    found = WaiverSet([_entry(raw, source, entries, i) for i, raw in enumerate(entries)], source)
    if known_checks is not None:
        found.require_known(known_checks)
    return found


def _entry(raw: Any, source: str, entries: Any, index: int) -> Waiver:
    at = where(source, entries, index)
    if not isinstance(raw, dict):
        raise WaiverError(f"{at}: a waiver is a mapping with check, justification, expires, approver")
    unknown = set(map(str, raw)) - _KEYS
    if unknown:
        key = sorted(unknown)[0]
        expected = ", ".join(sorted(_KEYS))
        raise WaiverError(f"{where(source, raw, key)}: unknown key {key!r} (expected {expected})")

    def text(key: str, required: bool = True) -> str | None:
        value = raw.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise WaiverError(f"{at}: waiver needs a non-empty '{key}'")
            return None
        if not isinstance(value, str):
            raise WaiverError(f"{where(source, raw, key)}: '{key}' must be text")
        return " ".join(value.split())

    check_id = text("check")
    assert check_id is not None
    if not _CHECK_ID_RE.match(check_id):
        raise WaiverError(f"{where(source, raw, 'check')}: {_shown(check_id)} is not a check id (e.g. web.hsts)")
    justification = text("justification")
    approver = text("approver")
    target = text("target", required=False)
    if "target" in raw and target is None:
        raise WaiverError(
            f"{where(source, raw, 'target')}: 'target' must be a non-empty glob (leave it out to waive every target)"
        )
    expires = _date(raw.get("expires"), where(source, raw, "expires") if "expires" in raw else at)
    assert justification is not None and approver is not None
    return Waiver(check_id, justification, expires, approver, target, at, where(source, raw, "check"))


def _date(value: Any, at: str) -> date:
    if value is None:
        raise WaiverError(f"{at}: waiver needs an 'expires' date (YYYY-MM-DD, UTC, inclusive)")
    if isinstance(value, datetime):
        raise WaiverError(f"{at}: 'expires' must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_RE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise WaiverError(f"{at}: 'expires' is not a valid date {_shown(value)} (YYYY-MM-DD, UTC, inclusive)")


def _shown(value: Any) -> str:
    """A scalar for an error message, cut short; a list or mapping only by its kind (a list built from YAML
    aliases can print as gigabytes)."""
    if isinstance(value, str):
        return repr(value[:40])
    if isinstance(value, bool | int | float):
        return repr(value)
    return "(a list)" if isinstance(value, list) else "(a mapping)" if isinstance(value, dict) else "(?)"
