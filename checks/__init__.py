"""Built-in checks, grouped by what they judge.

Each module holds `Check` values made with `auditor.registry.check`; the registry collects them from
the modules listed here (no registration by import side effect).
"""

BUILTIN_MODULES: tuple[str, ...] = (
    "authentication",
    "rooms",
    "transport",
    "privacy",
    "exposure",
    "secrets",
    "recording",
    "live_tls", "live_http", "live_exposure", "live_xmpp",
)
