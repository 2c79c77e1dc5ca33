"""The files in examples/ are valid: waivers, declarations, profile, CI pipelines, inventory."""

from __future__ import annotations

import yaml

from auditor.criteria import load_declarations, load_profile
from auditor.gating.waivers import load_waivers
from auditor.model import Basis
from auditor.registry import all_checks
from tests.report.fixtures import repo_root

EXAMPLES = repo_root() / "examples"


def test_waivers_and_declarations() -> None:
    prof = load_profile("default")
    ids = [c.id for c in all_checks(prof.criterion_ids)]
    assert load_waivers(EXAMPLES / "waivers.yaml", ids).waivers
    decl = load_declarations(EXAMPLES / "declarations.yaml", prof)
    assert {
        "jur.data_location",
        "jur.certifications",
        "jur.transparency",
        "vuln.bug_bounty",
        "mgmt.ediscovery",
    } <= set(decl)
    assert Basis.DECLARED.value == "declared"


def test_custom_profile() -> None:
    prof = load_profile(str(EXAMPLES / "profile-custom.yaml"))
    assert prof.name == "our-jitsi" and prof.fail_on == "medium"
    checks = prof.apply_to_checks(all_checks(prof.criterion_ids))
    assert "rooms.welcome_page_open" not in {c.id for c in checks}
    assert prof.min_scores.overall == 45


def test_pipelines_and_inventory_parse() -> None:
    gha = yaml.safe_load((EXAMPLES / "ci" / "github-actions.yml").read_text(encoding="utf-8"))
    steps = gha["jobs"]["audit"]["steps"]
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps)
    audit = next(s for s in steps if s.get("id") == "audit")["run"]
    assert "--root ." in audit and "jitsi-audit.sarif" in audit and "--baseline" in audit
    gl = yaml.safe_load((EXAMPLES / "ci" / "gitlab-ci.yml").read_text(encoding="utf-8"))
    assert gl["jitsi-audit"]["artifacts"]["reports"]["junit"] == "jitsi-audit.xml"
    inv = yaml.safe_load((EXAMPLES / "inventory.yaml").read_text(encoding="utf-8"))
    assert "jitsi_web" in inv["all"]["children"]
