"""secrets.file_permissions: only markers outside whole-line comments make a file secret-bearing (in each
format's own comment syntax), and a world-readable file inside a directory others cannot search is not
readable by them (the collector reports the modes of the directories above the files)."""

from __future__ import annotations

import pytest

from auditor.discovery import Role
from auditor.redaction import PEM_MARKER
from auditor.snapshot import CollectedItem, ItemStatus
from checks.secret_hygiene import closed_directory, directory_modes, live_secrets
from tests.checks.base import JICOFO, PROSODY_SITE, base_files, findings, snapshot

M = "JAUDIT_REDACTED_default_8_g2"


@pytest.mark.parametrize(
    ("role", "text", "live"),
    [
        # Lua: "--" comments; "#" is not a comment in Lua, so a "#" line counts
        (Role.PROSODY_MAIN, f'--\tcomponent_secret = "{M}"\n  -- password = "{M}"\n', 0),
        (Role.PROSODY_INCLUDE, f'component_secret = "{M}" -- the jicofo component\n', 1),
        (Role.PROSODY_INCLUDE, f'# component_secret = "{M}"\n', 1),
        (Role.PROSODY_INCLUDE, f'--[[\ncomponent_secret = "{M}"\n]]\n', 1),  # block comment: counted
        # JavaScript: "//" comments
        (Role.CONFIG_JS, f"// password: '{M}',\n", 0),
        (Role.CONFIG_JS, f"    password: '{M}', // {M}\n", 2),
        (Role.CONFIG_JS, f"/*\n password: '{M}'\n*/\n", 1),
        # HOCON: "#" and "//"
        (Role.JICOFO_CONF, f'# password = "{M}"\n// password = "{M}"\npassword = "{M}"\n', 1),
        # Java properties: "#" and "!"
        (Role.JVB_PROPERTIES, f"! org.jitsi.x.PASSWORD={M}\n#org.jitsi.x.PASSWORD={M}\n", 0),
        (Role.JIGASI_PROPERTIES, f"org.jitsi.jigasi.xmpp.acc.PASS={M}\n", 1),
        # "#" formats (nginx, coturn, dotenv, files without a role); "--" and "//" are not comments there
        (Role.TURNSERVER, f"#static-auth-secret={M}\nstatic-auth-secret={M}\n", 1),
        (Role.DOCKER_ENV, f"  # JICOFO_AUTH_PASSWORD={M}\n", 0),
        (None, f"-- secret {M}\n// secret {M}\n", 2),
        # a private key block is a secret wherever the file has it
        (None, f"{PEM_MARKER}\n", 1),
        (Role.PROSODY_MAIN, "no marker at all\n", 0),
    ],
)
def test_live_secrets_skip_whole_line_comments(role: Role | None, text: str, live: int) -> None:
    assert live_secrets(text, role) == live


DIRS = "755:directory:/etc\n755:directory:/etc/jitsi\n750:directory:/etc/jitsi/jicofo\n"


def _audit(dir_modes: str | None, modes: dict[str, int], prefix: str | None = None) -> tuple[str, str]:
    files = base_files()
    snap = snapshot(files, modes={**{p: 0o640 for p in files}, **modes})
    if dir_modes is not None:
        snap.facts["dir_modes"] = dir_modes
    if prefix is not None:
        snap.facts["root_prefix"] = prefix
    f = findings(snap)["secrets.file_permissions"]
    return f.status.value, f.message


def test_a_world_readable_file_in_a_closed_directory_is_not_readable_by_others() -> None:
    status, message = _audit(DIRS, {JICOFO: 0o644})
    assert status == "pass" and "none readable by others" in message and "/etc/jitsi/jicofo, 0750" in message


@pytest.mark.parametrize(
    ("dir_modes", "why"),
    [
        (DIRS.replace("750:directory:/etc/jitsi/jicofo", "755:directory:/etc/jitsi/jicofo"), "open directories"),
        (DIRS.replace("755:directory:/etc\n", ""), "/etc not reported: the chain is not known"),
        (DIRS.replace("755:directory:/etc/jitsi\n", "777:symbolic link:/etc/jitsi\n"), "a symlink on the way"),
        (None, "an older collector: no directory modes"),
        ("750:directory:/etc/jitsi/jicofo", "only the closed directory, not the ones above"),
        ("garbage\n750:/etc/jitsi/jicofo\n", "malformed lines"),
    ],
)
def test_world_readable_unless_the_closed_directory_is_certain(dir_modes: str | None, why: str) -> None:
    status, message = _audit(dir_modes, {JICOFO: 0o644})
    assert status == "fail" and "world-readable" in message, why


def test_the_test_prefix_is_taken_off_the_reported_paths() -> None:
    prefixed = "".join(f"{line.split(':', 2)[0]}:directory:/tmp/root{line.split(':', 2)[2]}\n"
                       for line in DIRS.splitlines())
    assert _audit(prefixed, {JICOFO: 0o644}, prefix="/tmp/root")[0] == "pass"
    assert _audit(prefixed, {JICOFO: 0o644}, prefix="/tmp/other")[0] == "fail"


def _item(key: str, link: str | None = None) -> CollectedItem:
    return CollectedItem(key, "file", ItemStatus.OK, b"x", size=1, mode=0o644, link_target=link)


def test_a_symlink_counts_through_its_collected_target() -> None:
    """conf.d/x -> ../conf.avail/x: closed when conf.avail is, and only when the target is a file of the
    evidence (not itself a link) and the link's own directories are known."""
    snap = snapshot({})
    site = PROSODY_SITE.rsplit("/", 1)[1]
    link = _item(f"/etc/prosody/conf.d/{site}", f"../conf.avail/{site}")
    target = _item(f"/etc/prosody/conf.avail/{site}")
    snap.add(link)
    snap.add(target)
    dirs = directory_modes(snap)
    assert dirs == {}
    snap.facts["dir_modes"] = ("755:directory:/etc\n755:directory:/etc/prosody\n"
                               "755:directory:/etc/prosody/conf.d\n750:directory:/etc/prosody/conf.avail\n")
    dirs = directory_modes(snap)
    assert closed_directory(snap, dirs, link) == ("/etc/prosody/conf.avail", 0o750)
    assert closed_directory(snap, dirs, target) == ("/etc/prosody/conf.avail", 0o750)
    chained = _item(f"/etc/prosody/conf.avail/{site}", "/srv/elsewhere/x.cfg.lua")  # the target is a link again
    snap.add(chained)
    assert closed_directory(snap, dirs, link) is None
    snap.add(target)
    assert closed_directory(snap, dirs, link) == ("/etc/prosody/conf.avail", 0o750)
    del dirs["/etc/prosody/conf.d"]  # the link's directory not known: its `..` cannot be trusted
    assert closed_directory(snap, dirs, link) is None


def test_a_fact_cut_by_the_decoder_loses_its_last_line() -> None:
    """The decoder keeps 4096 characters of a fact: a line cut there could name a shorter path (here
    /etc/jitsi/jicofo, cut from /etc/jitsi/jicofo-extra) with another directory's mode, so it is dropped."""
    last = "700:directory:/etc/jitsi/jicofo"
    room = 4096 - len(last)
    lines = [f"755:directory:/srv/{'d' * 180}{i:03}\n" for i in range(room // 250)]
    pad = room - sum(map(len, lines))
    lines.append(f"755:directory:/srv/{'p' * (pad - len('755:directory:/srv/') - 1)}\n")
    whole = "".join(lines) + last + "-extra\n"
    snap = snapshot({})
    snap.facts["dir_modes"] = whole[:4096]  # what the stream decoder keeps
    assert snap.facts["dir_modes"].endswith("\n" + last)
    assert "/etc/jitsi/jicofo" not in directory_modes(snap)
    snap.facts["dir_modes"] = "".join(lines[:3]) + last + "\n"  # whole: kept
    assert directory_modes(snap)["/etc/jitsi/jicofo"] == (0o700, True)
