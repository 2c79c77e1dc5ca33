"""XMPP as a stranger sees it: SASL mechanisms over BOSH and on port 5222, without logging in.

The only probes that log in are the intrusive ones (known default passwords), run when asked for.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import re
import secrets
from xml.sax.saxutils import quoteattr

import httpx

from auditor.probes.model import LoginAttempt, ProbeOptions, ProbeTarget, StreamInfo, XmppResult
from auditor.probes.net import converse, sanitize
from auditor.probes.webclient import WebClient

BOSH_NS = "http://jabber.org/protocol/httpbind"
SASL_NS = "urn:ietf:params:xml:ns:xmpp-sasl"
# docker-jitsi-meet's env.example shipped these until 2020 (CVE-2020-11878); the password is not recorded.
DEFAULT_ACCOUNTS = (("focus", "passw0rd"), ("jvb", "passw0rd"))
DEFAULT_SOURCE = "docker-jitsi-meet default (CVE-2020-11878)"

_SID = re.compile(r"\bsid=(['\"])([^'\"]{1,128})\1")
_MECH = re.compile(r"<mechanism>([A-Za-z0-9_-]{1,40})</mechanism>")
_CONDITION = re.compile(r"\bcondition=(['\"])([a-z-]{1,40})\1")
_STARTTLS = re.compile(r"<starttls\b[^>]*?(/>|>(.*?)</starttls>)", re.S)


def features(text: str) -> tuple[tuple[str, ...], bool | None, bool | None]:
    """(SASL mechanisms, STARTTLS offered, STARTTLS required) from a stream's features."""
    mechs = tuple(dict.fromkeys(_MECH.findall(text)))
    m = _STARTTLS.search(text)
    if m is None:
        return mechs, False, False
    return mechs, True, bool(m.group(2) and "<required" in m.group(2))


class BoshSession:
    """A minimal XEP-0124/0206 client: open a session, send stanzas, terminate."""

    def __init__(self, client: WebClient, port: int, path: str, domain: str) -> None:
        self.client, self.port, self.path, self.domain = client, port, path, domain
        self.rid = secrets.randbelow(10**9) + 10**6
        self.sid: str | None = None

    def _post(self, body: str) -> str:
        got = self.client.request("POST", "https", self.port, self.path, body=body.encode(),
                                  headers={"Content-Type": "text/xml; charset=utf-8"}, limit=64 * 1024)
        if got.status != 200:
            raise OSError(f"BOSH answered HTTP {got.status}")
        text = got.body.decode("utf-8", "replace")
        if "<!doctype" in text[:200].lower() or "<!entity" in text.lower():
            raise OSError("BOSH answer is not a BOSH body")
        return text

    def open(self) -> str:
        body = (f"<body content='text/xml; charset=utf-8' hold='1' rid='{self.rid}' "
                f"to={quoteattr(self.domain)} ver='1.6' wait='5' xml:lang='en' xmpp:version='1.0' "
                f"xmlns='{BOSH_NS}' xmlns:xmpp='urn:xmpp:xbosh'/>")
        text = self._post(body)
        m = _SID.search(text)
        if "type='terminate'" in text or 'type="terminate"' in text or m is None:
            cond = _CONDITION.search(text)
            raise OSError(f"BOSH session refused ({cond.group(2) if cond else 'no session id'})")
        self.sid = m.group(2)
        if "<mechanisms" not in text and "<stream:features" not in text:
            text += self.send("")
        return text

    def send(self, payload: str) -> str:
        self.rid += 1
        sid = quoteattr(self.sid or "")
        return self._post(f"<body rid='{self.rid}' sid={sid} xmlns='{BOSH_NS}'>{payload}</body>")

    def close(self) -> None:
        if self.sid is None:
            return
        self.rid += 1
        with contextlib.suppress(httpx.HTTPError, OSError):
            sid = quoteattr(self.sid)
            self._post(f"<body rid='{self.rid}' sid={sid} type='terminate' xmlns='{BOSH_NS}'/>")


def bosh_features(client: WebClient, port: int, path: str, domain: str) -> StreamInfo:
    session = BoshSession(client, port, path, domain)
    try:
        text = session.open()
    except httpx.TimeoutException:
        return StreamInfo("bosh", domain, False, "timed out")
    except (httpx.HTTPError, OSError) as exc:
        return StreamInfo("bosh", domain, False, sanitize(str(exc), 160))
    finally:
        session.close()
    mechs, _, _ = features(text)
    return StreamInfo("bosh", domain, True, None, mechs)


def c2s_features(address: str, domain: str, timeout: float, port: int = 5222) -> StreamInfo:
    header = (f"<?xml version='1.0'?><stream:stream to={quoteattr(domain)} xmlns='jabber:client' "
              "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
    try:
        data = converse(address, port, header.encode(), timeout, limit=16384, until=b"</stream:features>")
    except OSError as exc:
        return StreamInfo("c2s", domain, False, sanitize(f"{type(exc).__name__}: {exc}", 160))
    text = data.decode("utf-8", "replace")
    if "<stream:features" not in text:
        err = re.search(r"<([a-z-]{1,40}) xmlns=['\"]urn:ietf:params:xml:ns:xmpp-streams", text)
        why = f"stream error {err.group(1)}" if err else "no stream features"
        return StreamInfo("c2s", domain, False, why)
    mechs, tls, required = features(text)
    return StreamInfo("c2s", domain, True, None, mechs, tls, required)


def _scram_sha1(session: BoshSession, user: str, password: str) -> str:
    cnonce = base64.b64encode(secrets.token_bytes(18)).decode()
    first_bare = f"n={user},r={cnonce}"
    text = session.send(f"<auth xmlns='{SASL_NS}' mechanism='SCRAM-SHA-1'>"
                        f"{base64.b64encode(('n,,' + first_bare).encode()).decode()}</auth>")
    m = re.search(r"<challenge[^>]*>([A-Za-z0-9+/=]{1,2048})</challenge>", text)
    if m is None:
        return "rejected" if "<failure" in text else "error"
    server_first = base64.b64decode(m.group(1)).decode("utf-8", "replace")
    fields = dict(kv.split("=", 1) for kv in server_first.split(",") if "=" in kv)
    nonce, salt, iterations = fields.get("r", ""), fields.get("s", ""), int(fields.get("i", "0") or 0)
    if not nonce.startswith(cnonce) or not salt or not 0 < iterations <= 100_000:
        return "error"
    salted = hashlib.pbkdf2_hmac("sha1", password.encode(), base64.b64decode(salt), iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha1).digest()
    final_bare = f"c=biws,r={nonce}"
    auth_message = f"{first_bare},{server_first},{final_bare}".encode()
    signature = hmac.new(hashlib.sha1(client_key).digest(), auth_message, hashlib.sha1).digest()
    proof = base64.b64encode(bytes(a ^ b for a, b in zip(client_key, signature, strict=True))).decode()
    final = base64.b64encode(f"{final_bare},p={proof}".encode()).decode()
    text = session.send(f"<response xmlns='{SASL_NS}'>{final}</response>")
    return "accepted" if "<success" in text else "rejected" if "<failure" in text else "error"


def _plain(session: BoshSession, user: str, password: str) -> str:
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    text = session.send(f"<auth xmlns='{SASL_NS}' mechanism='PLAIN'>{token}</auth>")
    return "accepted" if "<success" in text else "rejected" if "<failure" in text else "error"


def try_default_logins(client: WebClient, port: int, path: str, auth_domain: str) -> list[LoginAttempt]:
    """Intrusive: log in as the component users with the known default password (then leave at once)."""
    attempts: list[LoginAttempt] = []
    for user, password in DEFAULT_ACCOUNTS:
        account = f"{user}@{auth_domain}"
        session = BoshSession(client, port, path, auth_domain)
        try:
            mechs, _, _ = features(session.open())
            if "SCRAM-SHA-1" in mechs:
                outcome, mech = _scram_sha1(session, user, password), "SCRAM-SHA-1"
            elif "PLAIN" in mechs:
                outcome, mech = _plain(session, user, password), "PLAIN"
            else:
                attempts.append(LoginAttempt(account, DEFAULT_SOURCE, None, "error",
                                             f"no password mechanism offered ({' '.join(mechs) or 'none'})"))
                continue
            attempts.append(LoginAttempt(account, DEFAULT_SOURCE, mech, outcome))
        except (httpx.HTTPError, OSError, ValueError) as exc:
            attempts.append(LoginAttempt(account, DEFAULT_SOURCE, None, "error", sanitize(str(exc), 120)))
        finally:
            session.close()
    return attempts


def probe_xmpp(target: ProbeTarget, address: str, options: ProbeOptions, domain: str, bosh_path: str,
               c2s_open: bool | None) -> XmppResult:
    with WebClient(target.domain, address, options.io_timeout) as client:
        bosh = bosh_features(client, target.https_port, bosh_path, domain)
        logins: list[LoginAttempt] = []
        if target.intrusive:
            logins = try_default_logins(client, target.https_port, bosh_path, f"auth.{domain}")
    c2s = c2s_features(address, domain, options.io_timeout) if c2s_open else None
    return XmppResult(domain, bosh, c2s, tuple(logins))
