"""Live probes: what a stranger on the network gets from a Jitsi host (TLS, HTTP, exposure, XMPP).

`run_probes(target, options)` returns a frozen, JSON-serialisable `ProbeResults` that holds no secret
value; the engine hands it to the checks as `AuditContext.probes[LIVE_KEY]`. Checks never see sockets.
Importing this package is cheap: the probe modules (sslyze, httpx) load when `run_probes` is first used.
"""

from typing import TYPE_CHECKING, Any

from auditor.probes.model import LIVE_KEY, ProbeOptions, ProbeResults, ProbeRun, ProbeTarget

if TYPE_CHECKING:
    from auditor.probes.runner import run_probes
else:

    def __getattr__(name: str) -> Any:
        if name == "run_probes":
            from auditor.probes.runner import run_probes

            return run_probes
        raise AttributeError(f"module 'auditor.probes' has no attribute {name!r}")


__all__ = ["LIVE_KEY", "ProbeOptions", "ProbeResults", "ProbeRun", "ProbeTarget", "run_probes"]
