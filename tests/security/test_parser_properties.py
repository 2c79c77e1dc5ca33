"""Property-based tests that fill the gaps of tests/parsers/test_fuzz.py (which covers every parser
with arbitrary and mutated text, one file at a time):

- nginx include resolution over random include graphs (cycles, globs, absolute, relative and `..`
  paths, paths outside /etc/nginx, URLs): never raises anything but ConfigParseError, ends within a
  bound, and only ever resolves to files it was given;
- prosody_effective over random Include graphs between several parsed files: the same;
- certificates from random and bit-flipped DER inside PEM armour, and from random bytes;
- compose files generated as YAML structures with anchors, aliases and merge keys;
- the whole audit (discovery, deployment, facts, every check, ratings, scores) over snapshots
  whose role files hold random or mutated content: it always yields a result, no check crashes.

Failures found are kept as explicit regression examples (`@example`) next to the property.
"""

from __future__ import annotations

import base64
import datetime as dt
import string
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from auditor.criteria import load_profile
from auditor.engine import audit_snapshot
from auditor.model import Status
from auditor.parsers.base import ConfigParseError
from auditor.parsers.certificate import parse_certificates, private_key_blocks
from auditor.parsers.compose import parse_compose
from auditor.parsers.nginx import parse_nginx
from auditor.parsers.prosody import parse_prosody
from auditor.parsers.prosody_effective import build_effective
from auditor.registry import all_checks
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot
from tests.parsers.helpers import fixture, mutations, only_parse_errors

PROPS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- nginx include graphs ------------------------------------------------------------------------
NGINX_FILES = [
    "/etc/nginx/nginx.conf",
    "/etc/nginx/conf.d/a.conf",
    "/etc/nginx/conf.d/b.conf",
    "/etc/nginx/sites-enabled/meet.conf",
    "/etc/nginx/snippets/ssl.conf",
    "/etc/nginx/mime.types",
]
INCLUDE_PATTERNS = [
    *NGINX_FILES,
    "conf.d/*.conf",
    "/etc/nginx/conf.d/*",
    "sites-enabled/*",
    "/etc/nginx/*/*.conf",
    "snippets/ssl.conf",
    "../nginx/nginx.conf",
    "/etc/nginx/../nginx/conf.d/a.conf",
    "../../../../etc/shadow",
    "/etc/passwd",
    "/tmp/outside/*.conf",
    "http://127.0.0.1:9/x.conf",
    "*",
    "/*",
    "**/*.conf",
    "/etc/nginx/[a-z]*.conf",
    "/etc/nginx/conf.d/{a,b}.conf",
    "",
    '"sites-enabled/*"',
]
NGINX_BODIES = [
    "server { listen 443 ssl; server_name x; ssl_protocols TLSv1.2; location / { } }",
    "http { INCLUDE }",
    "events { } http { INCLUDE server { INCLUDE } }",
    "location / { INCLUDE }",
    "ssl_protocols TLSv1;",
    "server { INCLUDE listen 80; }",
    "types { text/html html; }",
]


@st.composite
def nginx_trees(draw: st.DrawFn) -> dict[str, str]:
    files: dict[str, str] = {}
    for path in draw(st.lists(st.sampled_from(NGINX_FILES), min_size=1, max_size=6, unique=True)):
        parts = []
        for _ in range(draw(st.integers(1, 4))):
            body = draw(st.sampled_from(NGINX_BODIES))
            while "INCLUDE" in body:
                body = body.replace("INCLUDE", f"include {draw(st.sampled_from(INCLUDE_PATTERNS))};", 1)
            parts.append(body)
        files[path] = "\n".join(parts) + "\n"
    return files


@PROPS
@given(nginx_trees(), st.data())
@example({"/etc/nginx/nginx.conf": "http { include /etc/nginx/nginx.conf; }\n"}, None)  # self-include
@example({"/etc/nginx/nginx.conf": "http { include *; }\n", "/etc/nginx/mime.types": "include /*;\n"}, None)
def test_nginx_include_resolution(files: dict[str, str], data: st.DataObject | None) -> None:
    entry = data.draw(st.sampled_from(sorted(files))) if data is not None else sorted(files)[0]

    def run() -> None:
        cfg = parse_nginx(files, entry)
        assert set(cfg.files) <= set(files), cfg.files
        for inc in cfg.includes:
            assert set(inc.matched) <= set(files), inc
            assert all(m.startswith("/etc/nginx/") for m in inc.matched), inc
        for server in cfg.servers:
            server.directive("ssl_protocols")

    only_parse_errors(run)


# -- prosody Include graphs ----------------------------------------------------------------------
PROSODY_FILES = [
    "/etc/prosody/prosody.cfg.lua",
    "/etc/prosody/conf.d/a.cfg.lua",
    "/etc/prosody/conf.d/b.cfg.lua",
    "/etc/prosody/conf.avail/meet.cfg.lua",
]
PROSODY_INCLUDES = [
    *PROSODY_FILES,
    "conf.d/*.cfg.lua",
    "conf.avail/*.cfg.lua",
    "../prosody/prosody.cfg.lua",
    "/etc/prosody/conf.d/*",
    "*",
    "/etc/shadow",
    "../../../../tmp/outside/*.cfg.lua",
    "",
]
PROSODY_BODIES = [
    'VirtualHost "meet.example.com"\n    authentication = "jitsi-anonymous"\n',
    'Component "conference.meet.example.com" "muc"\n    modules_enabled = { "muc_meeting_id" }\n',
    'modules_enabled = { "bosh" }\nc2s_require_encryption = true\n',
    'VirtualHost "guest.meet.example.com"\n    authentication = "anonymous"\n',
    'Include "INCLUDE"\n',
]


@st.composite
def prosody_trees(draw: st.DrawFn) -> dict[str, str]:
    files = {}
    for path in draw(st.lists(st.sampled_from(PROSODY_FILES), min_size=1, max_size=4, unique=True)):
        bodies = draw(st.lists(st.sampled_from(PROSODY_BODIES), min_size=1, max_size=4))
        text = "".join(bodies)
        while "INCLUDE" in text:
            text = text.replace("INCLUDE", draw(st.sampled_from(PROSODY_INCLUDES)), 1)
        files[path] = text
    return files


@PROPS
@given(prosody_trees(), st.booleans(), st.lists(st.sampled_from(PROSODY_FILES), max_size=2))
@example({PROSODY_FILES[0]: f'Include "{PROSODY_FILES[0]}"\n'}, True, [])  # includes itself
def test_prosody_include_graphs(files: dict[str, str], with_main: bool, unparsed: list[str]) -> None:
    def run() -> None:
        configs = {p: parse_prosody(t, p) for p, t in files.items()}
        main = PROSODY_FILES[0] if with_main and PROSODY_FILES[0] in configs else None
        eff = build_effective(configs, main, unparsed=unparsed)
        assert set(eff.files) <= set(configs)
        for inc in eff.includes:
            assert set(inc.matched) <= set(configs), inc
        for host in [None, *eff.hosts, *eff.components]:
            eff.enabled_modules(host)
            eff.get(host, "authentication")

    only_parse_errors(run)


# -- certificates ----------------------------------------------------------------------------------
def _cert_der() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "meet.example.com")])
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("meet.example.com")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


CERT_DER = _cert_der()


def _pem(der: bytes, label: str = "CERTIFICATE") -> str:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


@st.composite
def flipped_der(draw: st.DrawFn) -> bytes:
    der = bytearray(CERT_DER)
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(der) - 1))
        der[pos] ^= 1 << draw(st.integers(0, 7))
    cut = draw(st.integers(len(der) // 2, len(der)))
    return bytes(der[:cut])


@PROPS
@given(
    flipped_der() | st.binary(max_size=600),
    st.sampled_from(["CERTIFICATE", "TRUSTED CERTIFICATE", "PRIVATE KEY", "EC PRIVATE KEY", "X509 CRL"]),
)
@example(CERT_DER[:10], "CERTIFICATE")  # a truncated header
def test_certificates_from_broken_der(der: bytes, label: str) -> None:
    text = _pem(der, label) + _pem(CERT_DER)  # a broken block first, then a good one
    only_parse_errors(lambda: parse_certificates(text, "/etc/ssl/x.crt"))
    only_parse_errors(lambda: private_key_blocks(text, "/etc/ssl/x.key"))


@PROPS
@given(st.binary(max_size=2000))
def test_certificates_from_random_bytes(blob: bytes) -> None:
    text = blob.decode("utf-8", errors="replace")
    only_parse_errors(lambda: parse_certificates(text, "/etc/ssl/x.crt"))


# -- compose as YAML structures ----------------------------------------------------------------------
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
    st.text(string.printable, max_size=20),
)  # fmt: skip
YAML_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(string.ascii_letters, max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


@st.composite
def compose_docs(draw: st.DrawFn) -> str:
    services = draw(
        st.dictionaries(
            st.sampled_from(["web", "prosody", "jicofo", "jvb", "x"]),
            st.fixed_dictionaries(
                {},
                optional={
                    "image": SCALARS | YAML_VALUES,
                    "ports": st.lists(
                        st.sampled_from(["443:443", "8443:443/tcp", "10000:10000/udp", "80"]) | YAML_VALUES, max_size=4
                    ),
                    "environment": st.dictionaries(
                        st.text(string.ascii_uppercase + "_", min_size=1, max_size=10), SCALARS, max_size=4
                    )
                    | st.lists(st.text(max_size=20), max_size=4),
                    "volumes": YAML_VALUES,
                },
            ),
            max_size=4,
        )
    )
    text = yaml.safe_dump({"services": services, "x-extra": draw(YAML_VALUES)}, allow_unicode=True)
    if draw(st.booleans()):  # anchors, aliases and a merge key, as docker-jitsi-meet's files use
        text = "x-common: &common\n  restart: always\n  environment: &env\n    A: 1\n" + text.replace(
            "services:\n", "services:\n  base:\n    <<: *common\n    environment: *env\n", 1
        )
    return text


@PROPS
@given(compose_docs() | mutations(fixture("docker/docker-compose.yml"), "&*<>:{}[]-| \n"))
def test_compose_structures(text: str) -> None:
    only_parse_errors(lambda: parse_compose(text, "/opt/jitsi/docker-compose.yml"))


# -- the whole audit ---------------------------------------------------------------------------------
ROLE_PATHS = {
    "/etc/prosody/prosody.cfg.lua": "prosody/prosody.cfg.lua",
    "/etc/prosody/conf.d/meet.example.org.cfg.lua": "prosody/meet-2020.cfg.lua",
    "/etc/jitsi/meet/meet.example.org-config.js": "js/config.js",
    "/etc/jitsi/jicofo/jicofo.conf": "hocon/jicofo.conf",
    "/etc/nginx/sites-enabled/meet.example.org.conf": "nginx/meet.example.org.conf",
    "/etc/nginx/nginx.conf": "nginx/nginx.conf",
    "/etc/apache2/apache2.conf": "apache/apache2.conf",
    "/etc/apache2/sites-enabled/meet.example.org.conf": "apache/meet.example.org.conf",
    "/etc/jitsi/videobridge/sip-communicator.properties": "properties/sip-communicator.properties",
    "/etc/turnserver.conf": "kv/turnserver.conf",
    "/opt/jitsi/.env": "docker/env",
    "/opt/jitsi/docker-compose.yml": "docker/docker-compose.yml",
}
_PROFILE = load_profile("default")
_CHECKS = _PROFILE.apply_to_checks(all_checks(_PROFILE.criterion_ids))
ANY_ALPHABET = string.printable + "\x00\x1b\u202e{}[]\"'=;:#"


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    snap = Snapshot("fuzz", "dir")
    for path, name in ROLE_PATHS.items():
        kind = draw(st.sampled_from(["real", "mutated", "random", "absent", "unreadable"]))
        if kind == "absent":
            continue
        if kind == "unreadable":
            snap.add(CollectedItem(path, "file", ItemStatus.PERMISSION_DENIED, None, size=100))
            continue
        text = fixture(name)
        if kind == "mutated":
            text = draw(mutations(text, ANY_ALPHABET))
        elif kind == "random":
            text = draw(st.text(ANY_ALPHABET, max_size=300))
        snap.add(CollectedItem(path, "file", ItemStatus.OK, text.encode("utf-8", "surrogatepass"), size=len(text)))
    return snap


@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(snapshots())
def test_the_whole_audit_always_yields_a_result(snap: Snapshot) -> None:
    result = audit_snapshot(snap, _PROFILE, _CHECKS)
    assert result.facts is not None and result.scores is not None
    assert len(result.findings) == len(_CHECKS)
    crashed = [f.check_id for f in result.findings if f.message.startswith("check failed to run")]
    assert crashed == [], crashed
    for f in result.findings:
        assert isinstance(f.status, Status) and "\n" not in f.message
    for note in result.notes:
        assert "\n" not in note


def test_the_properties_reject_nothing_but_parse_errors() -> None:
    """The helper used above lets only ConfigParseError through; anything else fails the test."""
    caught: list[Any] = []
    try:
        only_parse_errors(lambda: (_ for _ in ()).throw(ValueError("boom")))
    except ValueError as exc:
        caught.append(exc)
    assert caught
    only_parse_errors(lambda: (_ for _ in ()).throw(ConfigParseError("/x", "bad", 1)))
