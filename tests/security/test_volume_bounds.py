"""Volume from the target: how many files, how many includes, how slow each file is to parse. Every parser
bounds one file; these bound what the target multiplies: discovery over thousands of files, a parse
budget per target, include resolution against thousands of collected files, and the records an include
keeps. Each would have taken minutes (or gigabytes) before its fix."""

from __future__ import annotations

import contextlib
import random
import re
import resource
from collections.abc import Mapping
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import auditor.deployment as deployment_module
import auditor.parsers.nginx as nginx_module
from auditor.deployment import build_deployment
from auditor.discovery import _SNIFF_RULES, Role, _role_by_content, discover
from auditor.parsers._paths import PathIndex, normalize
from auditor.parsers.apache import parse_apache
from auditor.parsers.base import ConfigParseError
from auditor.parsers.dotenv import reads_as_dotenv
from auditor.parsers.nginx import parse_nginx
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot
from tests.parsers.helpers import FUZZ, within
from tests.parsers.path_oracle import expand


def _snapshot(files: Mapping[str, tuple[bytes, str | None]]) -> Snapshot:
    snap = Snapshot("volume", "snapshot")
    for key, (content, link) in files.items():
        snap.add(CollectedItem(key, "file", ItemStatus.OK, content, size=len(content), link_target=link))
    return snap


def test_discovery_is_not_quadratic_in_the_number_of_files() -> None:
    """Each sites-available file looked through every other file for its enabled twin: 8 000 files took
    80 s. The verdicts stay: linked files are active, the others not."""
    files: dict[str, tuple[bytes, str | None]] = {}
    for i in range(4000):
        files[f"/etc/nginx/sites-available/s{i}"] = (b"# site\n", None)
        if i % 2 == 0:
            files[f"/etc/nginx/sites-enabled/s{i}"] = (b"# site\n", f"../sites-available/s{i}")
    with within(5.0):
        found = discover(_snapshot(files))
    active = {f.path for f in found if f.active and "sites-available" in f.path}
    assert "/etc/nginx/sites-available/s0" in active and "/etc/nginx/sites-available/s1" not in active
    assert len(active) == 2000


def test_discovery_of_deep_keys_costs_no_memory_per_ancestor() -> None:
    """A key may have thousands of segments (a saved snapshot, the collector's stream): nothing is kept
    per ancestor directory of each key."""
    deep = "/".join(["a"] * 1500)
    files = {f"/k{i}/{deep}/sites-available/s": (b"server { }\n", None) for i in range(2000)}
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with within(5.0):
        found = discover(_snapshot(files))
    assert len(found) == 2000
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB


def _reference_sniff(head: str) -> Any:
    """_role_by_content without the literal prefilter (keys and certificates aside); an env file must also
    read as one (a script setting the variables is none)."""
    for regex, role, _literals in _SNIFF_RULES:
        if regex.search(head) and (role is not Role.DOCKER_ENV or reads_as_dotenv(head)):
            return role
    return None


_SNIPPETS = ["VirtualHost 'x'", "Component \"c\"", "jicofo {", "videobridge.x", "jibri {", "org.jitsi.jicofo.a",
             "org.jitsi.videobridge.b", "org.jitsi.jigasi.c", "var interfaceConfig =", "let config = {",
             "server {", "<virtualhost *:443>", "<VIRTUALHOST>", "static-auth-secret", "listening-port=1",
             "ENABLE_AUTH=1", "PUBLIC_URL =", "ldap_servers: x", "config", "server", "jicofo", "x"]


@FUZZ
@given(st.lists(st.sampled_from(_SNIPPETS) | st.text(" \t\n{.=:'\"<>", max_size=4), max_size=8))
def test_the_sniffing_prefilter_changes_no_verdict(parts: list[str]) -> None:
    head = "\n".join(parts)
    assert _role_by_content(head) == _reference_sniff(head)


def test_the_sniffing_of_many_large_files_is_bounded() -> None:
    """2 000 files of 30 KB named as .env took 13 s to sniff by content."""
    body = "".join(f"K{j}=v{j}\n" for j in range(3000)).encode()
    files = {f"/srv/e{i}/.env": (body, None) for i in range(2000)}
    with within(4.0):
        assert len(discover(_snapshot(files))) == 2000


def test_a_target_cannot_make_parsing_unbounded(monkeypatch: Any) -> None:
    """Files sniffed as configuration, each as slow to parse as its parser allows: one target's parses
    share a budget, files past it are kept unparsed with the reason (and junk sniffed by content cannot
    starve the files known by name). Before, every file was parsed: 100 such files cost minutes."""
    monkeypatch.setattr(deployment_module, "PARSE_CPU_BUDGET", 1.0)
    files: dict[str, tuple[bytes, str | None]] = {
        "/etc/jitsi/jicofo/jicofo.conf": (b"jicofo { sctp { enabled = false } }\n", None),
    }
    for i in range(40):  # sorted before /etc: parsed first if the order were the paths'
        files[f"/aaa/{i:02d}.js"] = (b"var config = {};\nwhile (true) {}\n", None)
    with within(8.0):
        dep = build_deployment(_snapshot(files))
    jicofo = dep.jicofo
    assert jicofo is not None and jicofo.ok  # known by name: parsed first
    refused = [p for p in dep.errors() if "not parsed" in (p.error or "")]
    assert refused and all("parse budget" in (p.error or "") for p in refused)


def test_files_of_one_role_past_the_count_are_not_parsed() -> None:
    files = {f"/srv/x/{i:03d}.properties": (b"org.jitsi.videobridge.x=1\n", None) for i in range(100)}
    dep = build_deployment(_snapshot(files))
    parsed = dep.of(Role.JVB_PROPERTIES)
    assert len(parsed) == 100 and sum(p.ok for p in parsed) == deployment_module.MAX_FILES_PER_ROLE
    assert [p.path for p in parsed] == sorted(p.path for p in parsed)  # path order kept
    assert all(re.search(r"not parsed: more than \d+ files found as jvb_properties", p.error or "")
               for p in parsed if not p.ok)


def test_nginx_sites_without_nginx_conf_share_the_budget() -> None:
    """Without nginx.conf each enabled site is parsed on its own; 300 sites that include each other took
    more than a minute."""
    files = {f"/etc/nginx/sites-enabled/s{i:03d}": (b"server { listen 80; include /etc/nginx/sites-enabled/*; }\n",
                                                   None) for i in range(300)}
    with within(15.0):
        dep = build_deployment(_snapshot(files))
    sites = dep.of(Role.NGINX_SITE)
    assert len(sites) == 300 and not any(p.ok for p in sites[:1])  # a failed parse ranks first: unclear


_PATHS = st.lists(st.sampled_from(["/etc", "/etc/nginx", "a", ".", "..", "/", "x.conf", ".hidden", "*", "sites-enabled",
                                   "[ab]", "b"]), min_size=1, max_size=5).map(lambda parts: "/".join(parts))


@FUZZ
@given(st.lists(_PATHS, max_size=12), st.lists(_PATHS, min_size=1, max_size=6))
def test_the_path_index_answers_as_expand(available: list[str], patterns: list[str]) -> None:
    index = PathIndex(available)
    for pattern in patterns + patterns:  # twice: the cached answers too
        assert index.expand(pattern) == expand(pattern, available)
        prefix = pattern.rstrip("/") + "/"  # apache's directory include, as it was written
        assert index.below(pattern) == sorted(p for p in available if normalize(p).startswith(prefix))


def test_apache_includes_against_many_files_are_bounded() -> None:
    """5 000 include lines against 2 000 collected files took 40 s (every path normalised and compared
    for every include), and the parse had no time bound at all."""
    files = {f"/etc/apache2/sites-available/s{i}.conf": "ServerTokens Prod\n" for i in range(2000)}
    files["/etc/apache2/apache2.conf"] = "".join(f"IncludeOptional /etc/apache2/none{i}/*.conf\n" for i in range(5000))
    with within(6.0):
        parse_apache(files, "/etc/apache2/apache2.conf")
    # distinct globs that each compare every file: the time bound ends them
    files["/etc/apache2/apache2.conf"] = "".join(f"IncludeOptional /*/*/x{i}*/*\n" for i in range(20000))
    with within(8.0), contextlib.suppress(ConfigParseError):
        parse_apache(files, "/etc/apache2/apache2.conf", max_seconds=2.0)


def test_nginx_includes_not_followed_keep_bounded_records() -> None:
    """Includes past the depth limit expand nothing but each kept the list of files its glob named:
    35 000 of them naming 5 000 files each held 1.4 GB."""
    files = {f"/etc/nginx/c/{i:02d}.conf": f"include /etc/nginx/c/{i + 1:02d}.conf;\n" for i in range(14)}
    files["/etc/nginx/c/14.conf"] = "include /b/*;\n" * 35_000
    files.update({f"/b/{i}": "x 1;\n" for i in range(5000)})
    files["/etc/nginx/nginx.conf"] = "include /etc/nginx/c/00.conf;\n"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with within(6.0):
        try:
            parse_nginx(files, "/etc/nginx/nginx.conf")
        except ConfigParseError as exc:
            assert "includes name more than" in str(exc) or "took longer" in str(exc)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 300 * 1024  # KiB


def test_a_random_include_forest_resolves_as_before(monkeypatch: Any) -> None:
    """PathIndex inside the nginx parser: the same files are read and each include names the same files
    as with expand (a seeded sample)."""
    rng = random.Random(7)
    files = {"/etc/nginx/nginx.conf": "http { include conf.d/*.conf; include sites-enabled/*; }\n"}
    for i in range(30):
        target = rng.choice([f"snippets/s{rng.randrange(10)}.conf", "/etc/nginx/snippets/*", "snippets/s[0-4]*",
                             "/etc/nginx/./snippets/../snippets/s1.conf", "missing/*", "/etc/nginx/snippets/s9.conf"])
        files[rng.choice(["/etc/nginx/conf.d/", "/etc/nginx/sites-enabled/"]) + f"f{i}.conf"] = (
            f"server {{ listen {8000 + i}; include {target}; }}\n")
    for i in range(10):
        files[f"/etc/nginx/snippets/s{i}.conf"] = f"add_header X-{i} v;\n"
    indexed = parse_nginx(files, "/etc/nginx/nginx.conf")

    class Plain:
        def __init__(self, available: Any) -> None:
            self.available = list(available)

        def expand(self, pattern: str) -> list[str]:
            return expand(pattern, self.available)

    monkeypatch.setattr(nginx_module, "PathIndex", Plain)
    plain = parse_nginx(files, "/etc/nginx/nginx.conf")
    assert indexed.files == plain.files and len(indexed.files) > 20
    assert [i.matched for i in indexed.includes] == [i.matched for i in plain.includes]
