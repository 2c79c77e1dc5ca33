"""Apache as the web front, as the facts and the checks read it: the configuration that counts, the
virtual host that serves HTTPS for the domain, its TLS protocols and TLS 1.2 cipher string.

Apache counts only when no nginx configuration was collected (nginx's, when both are there, is the one
the checks have always judged). jitsi-meet-web-config writes one site with a `:80` virtual host that
redirects and a `:443` one with `SSLEngine on`.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.deployment import Deployment, ParsedFile
from auditor.parsers.apache import PROTOCOLS, ApacheConfig, ApacheDirective, ApacheVirtualHost, ssl_protocols

PROTOCOL_DEFAULT = ("SSLProtocol not set; Apache 2.4's default (all -SSLv3: TLS 1.0 to 1.3 with OpenSSL 1.1+) "
                    "is narrowed by the host's OpenSSL policy, which is not in the evidence")
CIPHER_DEFAULT = "DEFAULT"  # mod_ssl hands OpenSSL's default list to the library when SSLCipherSuite is unset
NO_TLS_VHOST = "no HTTPS virtual host (SSLEngine on) in the Apache configuration"


def apache_file(dep: Deployment) -> ParsedFile[ApacheConfig] | None:
    """The parsed Apache configuration (or why it is unusable) when Apache is the web front."""
    return dep.apache if dep.nginx is None else None


def apache_config(dep: Deployment) -> ApacheConfig | None:
    pf = apache_file(dep)
    return pf.value if pf is not None else None


def tls_vhost(conf: ApacheConfig, own_domain: str | None) -> ApacheVirtualHost | None:
    """The virtual host with `SSLEngine on` (or on port 443) named for the domain, else the first one."""
    candidates = [v for v in conf.virtual_hosts if v.tls or 443 in v.ports]
    for vhost in candidates:
        if own_domain and own_domain.lower() in vhost.server_names:
            return vhost
    return candidates[0] if candidates else None


@dataclass(frozen=True, slots=True)
class Protocols:
    """What SSLProtocol enables for a virtual host: `enabled` None when unset or not understood."""

    directive: ApacheDirective | None
    enabled: tuple[str, ...] | None
    problem: str | None = None  # why `enabled` is None, or the override warning httpd logs

    @property
    def excerpt(self) -> str:
        return self.directive.text if self.directive is not None else "SSLProtocol not set"


def protocols(vhost: ApacheVirtualHost) -> Protocols:
    d = vhost.directive("SSLProtocol")
    if d is None:
        return Protocols(None, None, PROTOCOL_DEFAULT)
    try:
        enabled, replaced = ssl_protocols(d.args)
    except ValueError as exc:
        return Protocols(d, None, f"SSLProtocol names {str(exc)[:20]!r}, which Apache refuses")
    ordered = tuple(p for p in PROTOCOLS if p in enabled)
    note = "a protocol without + or - replaces the ones before it" if replaced else None
    return Protocols(d, ordered, note)


def tls12_ciphers(vhost: ApacheVirtualHost) -> ApacheDirective | None:
    """The effective SSLCipherSuite for TLS 1.2 and below (`SSLCipherSuite TLSv1.3 ...` sets TLS 1.3's)."""
    own = [d for d in vhost.own("SSLCipherSuite") if _for_tls12(d)]
    if own:
        return own[-1]
    inherited = [d for d in vhost.server if d.key == "sslciphersuite" and _for_tls12(d)]
    return inherited[-1] if inherited else None


def cipher_string(d: ApacheDirective) -> str:
    return d.args[-1] if d.args else ""


def _for_tls12(d: ApacheDirective) -> bool:
    return len(d.args) == 1 or (len(d.args) == 2 and d.args[0].upper() == "SSL")
