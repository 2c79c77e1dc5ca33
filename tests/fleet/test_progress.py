"""The progress display: silent off a terminal and with --quiet; on a terminal, hosts come and go."""

from __future__ import annotations

import io

from auditor.progress import FleetProgress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal() -> None:
    out = io.StringIO()
    with FleetProgress(3, stream=out) as progress:
        assert not progress.enabled
        progress("a", "collect")
        progress("a", "done")
    assert out.getvalue() == "" and progress.finished == 0


def test_quiet_wins_over_a_terminal() -> None:
    out = Tty()
    with FleetProgress(2, enabled=False, stream=out) as progress:
        progress("a", "collect")
    assert out.getvalue() == ""


def test_terminal_shows_stages_and_counts_hosts_once() -> None:
    out = Tty()
    with FleetProgress(2, stream=out) as progress:
        assert progress.enabled
        progress("meet1\x1b[31m", "collect")  # a hostile name is shown inert
        progress("meet1\x1b[31m", "probes")
        progress("jvb1", "collect")
        progress("jvb1", "failed")
        progress("jvb1", "done")  # after the end: ignored
        progress("meet1\x1b[31m", "done")
        assert progress.finished == 2
    assert "meet1\x1b" not in out.getvalue()  # the escape from the name never reaches the terminal
