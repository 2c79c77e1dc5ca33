"""The terminal fleet summary: one row per target; a long roles label wraps between roles."""

from __future__ import annotations

import io
from dataclasses import replace

from auditor.report.fleet import render_fleet_summary
from auditor.roles import HostRoles
from tests.report.fixtures import make_results


def test_roles_wrap_between_roles_not_inside_one() -> None:
    results = make_results()
    roles = HostRoles(("web", "prosody", "jicofo", "jvb", "coturn"), "detected")
    results = [replace(r, roles=roles) for r in results]
    out = io.StringIO()
    render_fleet_summary(results, out, color=False, width=100)
    text = out.getvalue()
    assert f"Fleet: {len(results)} targets" in text
    cells = " ".join(line.split("│")[3].strip() for line in text.splitlines() if line.count("│") > 3)
    assert cells.split() == ["web,", "prosody,", "jicofo,", "jvb,", "coturn"] * len(results), cells
