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
    "room_policy",
    "jwt",
    "sso",
    "ldap",
    "moderation",
    "prosody_tls",
    "jicofo",
    "videobridge",
    "web_client",
    "nginx",
    "certificates",
    "coturn",
    "jibri",
    "secret_hygiene",
    "docker_env",
    "live_tls", "live_http", "live_exposure", "live_xmpp",
    "versions",
)
