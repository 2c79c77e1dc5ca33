"""The live checks and their helpers judge probe results without the probe libraries: an offline audit
(--root, --snapshot) and the checks' registration must not import sslyze, nassl, httpx or httpcore."""

from __future__ import annotations

import subprocess
import sys

PROBE_LIBRARIES = ("sslyze", "nassl", "httpx", "httpcore")


def test_live_checks_import_no_probe_library() -> None:
    code = (
        "import sys, checks.live_tls, checks.live_http, checks.live_xmpp, checks.live_exposure, "
        "auditor.probes.judge\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({PROBE_LIBRARIES!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_constants_are_the_probes_own() -> None:
    from auditor.probes import http, model, tls

    # http imports PROXY_PATHS for its own use (not an export); the test checks it is model's object
    assert http.PROXY_PATHS is model.PROXY_PATHS  # type: ignore[attr-defined]
    assert "TLSv1.1" in model.WEAK_PROTOCOLS and "TLSv1.2" not in model.WEAK_PROTOCOLS
    assert not hasattr(tls, "WEAK_PROTOCOLS") or tls.WEAK_PROTOCOLS is model.WEAK_PROTOCOLS
