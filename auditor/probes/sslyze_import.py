"""Import sslyze without building the pydantic models of its JSON output.

Each sslyze plugin defines pydantic models for sslyze's own JSON output (`sslyze --json_out`), and
pydantic builds a model's validator and serializer when the class is created: ~0.1 s of CPU in every
audit's import of sslyze, on the TLS probe's critical path. jitsi-audit never validates or serializes
them, so they are created with pydantic's documented `defer_build` (built on first use, which stays
possible). Models that other threads create meanwhile are deferred too, which only moves their build
to their first use.

Import this module before anything else from sslyze (auditor.probes.tls does).
"""

from __future__ import annotations

import sys
import threading

import pydantic

_lock = threading.Lock()


def import_sslyze() -> None:
    """Import the sslyze package with pydantic model builds deferred (no-op once it is imported)."""
    with _lock:
        if "sslyze" in sys.modules:
            return
        config = pydantic.BaseModel.model_config
        previous = config.get("defer_build", None)
        config["defer_build"] = True
        try:
            import sslyze  # noqa: F401
        finally:
            if previous is None:
                config.pop("defer_build", None)
            else:
                config["defer_build"] = previous


import_sslyze()
