"""SARIF 2.1.0: schema-valid, locations that land on config lines, stable fingerprints, rule metadata."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from auditor.gating.baseline import parse_baseline
from auditor.gating.gate import GateConfig
from auditor.gating.waivers import parse_waivers
from auditor.model import Severity
from auditor.report.sarif import FINGERPRINT_KEY, render_sarif, sarif_dict
from tests.report.fixtures import NOW, context, make_results

HERE = Path(__file__).resolve().parent


def sarif_schema() -> dict[str, Any]:
    """The official schema from the shared read-only tree beside the clone, else the committed copy."""
    shared = HERE.parents[1].parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
    path = shared if shared.is_file() else HERE / "data" / "sarif-schema-2.1.0.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = sarif_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def _validate(validator: jsonschema.Draft7Validator, doc: dict[str, Any]) -> None:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def _gated_config(results_baseline: bool = True) -> GateConfig:
    waivers = parse_waivers(
        "waivers:\n  - check: web.hsts\n    justification: CDN sets HSTS\n    expires: 2099-01-01\n"
        "    approver: CISO\n  - check: secrets.weak_or_default\n    target: meet.*\n"
        "    justification: rotated next week\n    expires: 2025-06-30\n    approver: CISO\n",
        "waivers.yaml",
    )
    baseline = parse_baseline(
        {
            "schema_version": "1.0",
            "targets": [
                {
                    "target": "config-repo",
                    "complete": True,
                    "findings": [
                        {"check_id": "web.tls_configuration", "status": "fail"},
                        {
                            "check_id": "xmpp.c2s_encryption",
                            "status": "fail",
                            "title": "XMPP",
                            "severity": "medium",
                        },
                    ],
                },
            ],
        },
        "previous.json",
    )
    return GateConfig(
        fail_on=Severity.MEDIUM,
        waivers=waivers,
        baseline=baseline if results_baseline else None,
        today=NOW.date(),
    )


@pytest.mark.parametrize("hostile", [False, True])
def test_valid_against_the_official_schema(validator: jsonschema.Draft7Validator, hostile: bool) -> None:
    results = make_results(hostile=hostile)
    for cfg in (None, _gated_config()):
        doc = json.loads(render_sarif(results, context(results, config=cfg)))
        _validate(validator, doc)
        assert doc["version"] == "2.1.0"


def test_directory_audit_has_file_locations_with_lines() -> None:
    results = make_results()
    doc = sarif_dict(results, context(results))
    run = doc["runs"][0]
    tls = next(
        r
        for r in run["results"]
        if r["ruleId"] == "web.tls_configuration" and r["properties"]["target"] == "config-repo"
    )
    phys = tls["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"] == {
        "uri": "etc/nginx/sites-available/meet.example.org.conf",
        "uriBaseId": "AUDITROOT",
    }
    assert phys["region"]["startLine"] == 12
    assert "ssl_protocols" in tls["locations"][0]["message"]["text"]
    assert tls["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 13
    assert run["originalUriBaseIds"]["AUDITROOT"]["uri"].startswith("file:///")
    assert run["originalUriBaseIds"]["AUDITROOT"]["uri"].endswith("/")


def test_live_host_findings_have_logical_locations() -> None:
    results = make_results()
    run = sarif_dict(results, context(results))["runs"][0]
    live = [r for r in run["results"] if r["properties"]["target"] == "meet.example.org"]
    tls = next(r for r in live if r["ruleId"] == "web.tls_configuration")
    loc = tls["locations"][0]
    assert "physicalLocation" not in loc
    logical = loc["logicalLocations"][0]
    assert (
        logical["fullyQualifiedName"] == "meet.example.org:/etc/nginx/sites-available/meet.example.org.conf"
    )
    assert logical["properties"]["line"] == 12
    probe = next(r for r in live if r["ruleId"] == "exposure.jvb_rest_api")
    assert probe["locations"][0]["logicalLocations"][0]["name"] == "probe:tcp meet.example.org:8080"


def test_fingerprints_are_stable_when_lines_and_messages_change() -> None:
    a = make_results()
    b = make_results()
    f = b[0].findings[0]
    moved = tuple(
        replace(e, location=replace(e.location, line=(e.location.line or 0) + 40)) for e in f.evidence
    )
    b[0].findings[0] = replace(f, message="something else entirely", evidence=moved)

    def prints(results: list[Any]) -> dict[tuple[str, str], str]:
        run = sarif_dict(results, context(results))["runs"][0]
        return {
            (r["properties"]["target"], r["ruleId"]): r["partialFingerprints"][FINGERPRINT_KEY]
            for r in run["results"]
        }

    pa, pb = prints(a), prints(b)
    assert pa == pb
    assert pa[("config-repo", "web.tls_configuration")] != pa[("meet.example.org", "web.tls_configuration")]
    assert len(set(pa.values())) == len(pa)


def test_rules_carry_help_and_severity() -> None:
    results = make_results()
    run = sarif_dict(results, context(results))["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    tls = rules["web.tls_configuration"]
    assert tls["shortDescription"]["text"]
    assert "ssl_protocols" in tls["help"]["text"] and tls["help"]["markdown"]
    assert tls["defaultConfiguration"]["level"] == "error"
    assert tls["properties"]["security-severity"] == "8.0"
    assert rules["secrets.weak_or_default"]["properties"]["security-severity"] == "9.5"
    assert rules["web.hsts"]["defaultConfiguration"]["level"] == "warning"
    assert tls["helpUri"].startswith("https://")
    for res in run["results"]:
        assert run["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]


def test_unclear_is_a_review_result_and_passes_are_left_out() -> None:
    results = make_results()
    run = sarif_dict(results, context(results))["runs"][0]
    lobby = [r for r in run["results"] if r["ruleId"] == "rooms.lobby_available"]
    assert lobby and all(r["kind"] == "review" and r["level"] == "none" for r in lobby)
    assert not [r for r in run["results"] if r["ruleId"] in ("xmpp.c2s_encryption", "recording.server_side")]
    crit = run["properties"]["targets"][0]["criteria"]
    assert len(crit) == 33 and {c["basis"] for c in crit} == {"verified", "declared"}
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert any("down.example.org" in n["message"]["text"] for n in inv["toolExecutionNotifications"])


def test_waivers_and_baseline_are_marked() -> None:
    results = make_results()
    run = sarif_dict(results, context(results, config=_gated_config()))["runs"][0]
    by = {(r["properties"].get("target"), r["ruleId"]): r for r in run["results"]}
    hsts = by[("config-repo", "web.hsts")]
    assert hsts["suppressions"][0]["kind"] == "external"
    assert hsts["suppressions"][0]["justification"] == "CDN sets HSTS"
    assert hsts["properties"]["gates"] is False
    assert by[("config-repo", "web.tls_configuration")]["baselineState"] == "unchanged"
    assert by[("config-repo", "secrets.weak_or_default")]["baselineState"] == "new"
    assert by[("config-repo", "secrets.weak_or_default")]["properties"]["gates"] is True
    # the waiver for meet.* expired yesterday? No: 2025-06-30 is today, so it still applies (inclusive).
    assert "suppressions" in by[("meet.example.org", "secrets.weak_or_default")]
    fixed = by[("config-repo", "xmpp.c2s_encryption")]
    assert fixed["baselineState"] == "absent" and fixed["kind"] == "pass"
    # the target absent from the baseline: all its failures are new
    assert by[("meet.example.org", "web.tls_configuration")]["baselineState"] == "new"


def test_expired_waiver_is_a_configuration_notification() -> None:
    results = make_results()
    cfg = replace(_gated_config(), today=NOW.date().replace(day=30, month=7))
    run = sarif_dict(results, context(results, config=cfg))["runs"][0]
    notes = run["invocations"][0]["toolConfigurationNotifications"]
    assert any(
        "secrets.weak_or_default" in n["message"]["text"] and "expired" in n["message"]["text"] for n in notes
    )
    meet = next(
        r
        for r in run["results"]
        if r["properties"].get("target") == "meet.example.org" and r["ruleId"] == "secrets.weak_or_default"
    )
    assert "suppressions" not in meet and meet["properties"]["gates"] is True


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(k) + _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def test_hostile_values_do_not_leak_control_characters() -> None:
    results = make_results(hostile=True)
    doc = json.loads(render_sarif(results, context(results)))
    strings = _strings(doc)
    assert any("<script>" in s for s in strings)  # kept as data: SARIF viewers escape it themselves
    assert not [s for s in strings if "\x1b" in s or "\u202e" in s]
