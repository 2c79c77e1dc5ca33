"""An unreadable web certificate is named: discovery knows a certificate by its content, so one it could not
read was "not in the evidence" (or "nginx configuration not in the evidence") in the cert.* checks."""

from __future__ import annotations

from auditor.model import Status
from tests.checks import base


def test_an_unreadable_certificate_where_jitsi_puts_it_is_named() -> None:
    files = {base.CONFIG_JS: base.CONFIG_JS_TEXT, base.CERT: "unreadable"}
    found = base.findings(base.snapshot(files, denied=[base.CERT]))
    judged = {c: f for c, f in found.items() if c.startswith("cert.")}
    assert judged
    for check_id, f in judged.items():
        assert f.status is Status.UNCLEAR, (check_id, f.message)
        assert f"{base.CERT}: permission denied" in f.message, (check_id, f.message)


def test_a_missing_certificate_is_not_called_unreadable() -> None:
    found = base.findings(base.snapshot({base.CONFIG_JS: base.CONFIG_JS_TEXT}, missing=[base.CERT]))
    for check_id, f in found.items():
        if check_id.startswith("cert."):
            assert "could not be read" not in f.message, (check_id, f.message)
