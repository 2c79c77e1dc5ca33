"""Live probes: what a stranger on the network gets from a Jitsi host (TLS, HTTP, exposure, XMPP).

`run_probes(target, options)` returns a frozen, JSON-serialisable `ProbeResults` that holds no secret
value; the engine hands it to the checks as `AuditContext.probes[LIVE_KEY]`. Checks never see sockets.
"""

from auditor.probes.model import LIVE_KEY, ProbeOptions, ProbeResults, ProbeRun, ProbeTarget
from auditor.probes.runner import run_probes

__all__ = ["LIVE_KEY", "ProbeOptions", "ProbeResults", "ProbeRun", "ProbeTarget", "run_probes"]
