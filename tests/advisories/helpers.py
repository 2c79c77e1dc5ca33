"""Snapshots for the advisory tests: dpkg-query output written inline, compose/.env files, prosodyctl about."""

from __future__ import annotations

from auditor.snapshot import CollectedItem, ItemStatus, Snapshot


def dpkg(*rows: tuple[str, str] | tuple[str, str, str]) -> str:
    """dpkg-query -W -f='${Package}\\t${Version}\\t${db:Status-Abbrev}\\n' output."""
    return "".join(f"{r[0]}\t{r[1]}\t{r[2] if len(r) > 2 else 'ii '}\n" for r in rows)


def snapshot(
    files: dict[str, str] | None = None, *, dpkg_output: str | None = None, prosodyctl: str | None = None
) -> Snapshot:
    snap = Snapshot("test-host", "ssh")
    for key, text in (files or {}).items():
        snap.add(CollectedItem(key, "file", ItemStatus.OK, text.encode(), size=len(text), mode=0o644))
    if dpkg_output is not None:
        snap.add(CollectedItem("cmd:dpkg-query", "command", ItemStatus.OK, dpkg_output.encode(), exit_code=0))
    if prosodyctl is not None:
        snap.add(CollectedItem("cmd:prosodyctl-about", "command", ItemStatus.OK, prosodyctl.encode(), exit_code=0))
    return snap


COMPOSE = """\
services:
    web:
        image: jitsi/web:${JITSI_IMAGE_VERSION:-unstable}
        ports:
            - '443:443'
    prosody:
        image: jitsi/prosody:${JITSI_IMAGE_VERSION:-unstable}
    jicofo:
        image: jitsi/jicofo:${JITSI_IMAGE_VERSION:-unstable}
    jvb:
        image: jitsi/jvb:${JITSI_IMAGE_VERSION:-unstable}
"""

PROSODYCTL_ABOUT = """\
Prosody 0.12.4

# Prosody directories
Data directory:     /var/lib/prosody
Config directory:   /etc/prosody
"""
