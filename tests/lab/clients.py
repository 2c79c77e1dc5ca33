"""Real clients for a lab host, configured the strict way (pinned host keys, verified TLS with SNI).

Other tests can use these instead of re-deriving the connection details from a LabHost.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import paramiko

from .model import LabHost

BOSH_NS = "http://jabber.org/protocol/httpbind"


def ssh_client(host: LabHost, *, known_hosts: str | None = None, timeout: float = 10.0) -> paramiko.SSHClient:
    """An SSH session as the audit user; unknown or changed host keys are refused (RejectPolicy)."""
    client = paramiko.SSHClient()
    client.get_host_keys().load(known_hosts or host.known_hosts)  # load() never writes the file back
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    key = paramiko.Ed25519Key.from_private_key_file(host.ssh_key)
    client.connect(
        host.address,
        port=host.ssh_port,
        username=host.ssh_user,
        pkey=key,
        timeout=timeout,
        banner_timeout=timeout,
        auth_timeout=timeout,
        allow_agent=False,
        look_for_keys=False,
    )
    return client


def ssh_run(host: LabHost, command: str, timeout: float = 20.0) -> tuple[int, str, str]:
    """Run one command over SSH; (exit status, stdout, stderr)."""
    client = ssh_client(host)
    try:
        _, out, err = client.exec_command(command, timeout=timeout)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        return out.channel.recv_exit_status(), stdout, stderr
    finally:
        client.close()


def tls_context(host: LabHost) -> ssl.SSLContext:
    """Verifies the web certificate against the host's trust anchor (lab CA or the self-signed cert)."""
    return ssl.create_default_context(cafile=host.ca_cert)


def https_client(
    host: LabHost, *, verify: bool | ssl.SSLContext = True, timeout: float = 10.0, **kw: Any
) -> httpx.Client:
    """An httpx client that connects to the host's address but speaks to its domain (SNI + Host).

    Use relative URLs: `https_client(h).get("/config.js")`.
    """
    domain = host.domain

    def set_sni(request: httpx.Request) -> None:
        request.extensions["sni_hostname"] = domain
        request.headers["Host"] = domain if host.web_port == 443 else f"{domain}:{host.web_port}"

    ctx: bool | ssl.SSLContext = tls_context(host) if verify is True else verify
    return httpx.Client(
        base_url=f"https://{host.address}:{host.web_port}",
        verify=ctx,
        timeout=timeout,
        event_hooks={"request": [set_sni]},
        **kw,
    )


def bosh_body(to: str, rid: int = 1) -> str:
    return (
        f"<body rid='{rid}' xmlns='{BOSH_NS}' to='{to}' xml:lang='en' wait='30' hold='1' ver='1.6' "
        "xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'/>"
    )


def bosh_session_start(host: LabHost, to: str | None = None) -> str:
    """POST a BOSH session request through nginx's /http-bind; returns prosody's <body> reply."""
    xmpp_domain = to or str(host.extra.get("xmpp_domain") or host.domain)
    with https_client(host) as client:
        resp = client.post(
            "/http-bind", content=bosh_body(xmpp_domain), headers={"Content-Type": "text/xml; charset=utf-8"}
        )
        resp.raise_for_status()
        return resp.text


def sasl_mechanisms(body: str) -> list[str]:
    """The SASL mechanisms offered in a BOSH session reply."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(body)
    return [m.text or "" for m in root.iter("{urn:ietf:params:xml:ns:xmpp-sasl}mechanism")]
