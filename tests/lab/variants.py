"""The lab's variants: each a realistic Jitsi deployment (or a fault) the auditor must judge.

A variant picks a *family* of configuration files (how the host was installed) and a few knobs
(faults). The files themselves are written by tests.lab.configs (Debian layout) and
tests.lab.docker (docker-jitsi-meet layout).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Family = Literal["hardened", "debian", "legacy2020", "jwt", "docker"]
CertKind = Literal["lab-ca", "expired", "self-signed"]
ALL_IN_ONE = ("web", "prosody", "jicofo", "jvb")
# The public domain both hosts of a split deployment serve (split-web + split-signalling). Not under
# DOMAIN_SUFFIX: the auditor joins the hosts of one deployment only by names no other deployment can have,
# never by reserved ones (.test, .example, .invalid, .local ...). `.zz` is an ISO 3166 user-assigned code,
# never delegated in the DNS either; the lab has no DNS and the auditor is given the hosts' addresses.
SPLIT_DOMAIN = "meet.split.jitsi-lab.zz"


@dataclass(frozen=True)
class Variant:
    name: str
    family: Family
    summary: str
    sudo: bool = True  # sudoers allows `sudo -n` of the read-only collector
    turn: bool = False  # coturn runs
    ssh: bool = True  # sshd runs
    cert: CertKind = "lab-ca"
    prosody_host_file_root_only: bool = False  # conf.avail/<domain>.cfg.lua is root:root 0600
    delay_ms: int = 0  # added latency on the link (netem, or a userspace delay wire)
    components: tuple[str, ...] = ALL_IN_ONE  # what the host runs (configs, daemons, dpkg records)
    domain: str = ""  # the public domain; "" = meet.<name>.<DOMAIN_SUFFIX>, one per host


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in [
        Variant(
            "hardened",
            "hardened",
            "secure domain + guests, lobby, TLS1.2+ Mozilla intermediate, HSTS, "
            "internal ports on 127.0.0.1, strong secrets",
            turn=True,
        ),
        Variant(
            "debian-default",
            "debian",
            "today's quick-install defaults (jitsi-anonymous, TLS1.2/1.3, 8x8 STUN, JVB public 9090)",
            turn=True,
        ),
        Variant(
            "legacy-2020",
            "legacy2020",
            "a 2020 quick-install never changed (TLSv1/1.1, anonymous, "
            "internal_plain, ALWAYS_TRUST_MODE, jicofo REST and prosody HTTP on all interfaces)",
            sudo=False,
            cert="self-signed",
        ),
        Variant("jwt", "jwt", "token authentication (HS256 app_secret, token_verification)", turn=True),
        Variant(
            "docker-style",
            "docker",
            "docker-jitsi-meet: CONFIG dir /root/.jitsi-meet-cfg, .env and "
            "compose in /opt/docker-jitsi-meet, web on 8000/8443",
        ),
        Variant(
            "expired-cert", "hardened", "hardened, but the web certificate expired", turn=True, cert="expired"
        ),
        Variant(
            "unreadable-config",
            "debian",
            "debian-default, prosody host file root-only 0600, no sudo",
            turn=True,
            sudo=False,
            prosody_host_file_root_only=True,
        ),
        Variant("ssh-down", "debian", "debian-default with sshd not running", turn=True, ssh=False),
        Variant("slow-link", "debian", "debian-default behind a 50 ms link", turn=True, delay_ms=50),
        Variant(
            "split-web",
            "debian",
            f"web front of a split debian-default deployment ({SPLIT_DOMAIN}): nginx + config.js only",
            components=("web",),
            domain=SPLIT_DOMAIN,
        ),
        Variant(
            "split-signalling",
            "debian",
            f"signalling host of a split debian-default deployment ({SPLIT_DOMAIN}): prosody + jicofo only",
            components=("prosody", "jicofo"),
            domain=SPLIT_DOMAIN,
        ),
    ]
}


def get_variant(name: str, delay_ms: int | None = None) -> Variant:
    try:
        v = VARIANTS[name]
    except KeyError:
        raise KeyError(f"unknown lab variant {name!r}; known: {', '.join(VARIANTS)}") from None
    if delay_ms is not None and delay_ms != v.delay_ms:
        from dataclasses import replace

        v = replace(v, delay_ms=delay_ms)
    return v
