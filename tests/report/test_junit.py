"""JUnit XML: parsed back, one testcase per check and target, failures vs errors, unclear is an error."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from auditor.gating.gate import GateConfig
from auditor.gating.thresholds import MinScores
from auditor.gating.waivers import parse_waivers
from auditor.model import Severity, Status
from auditor.report.junit import render_junit
from tests.report.fixtures import NOW, context, make_results


def _parse(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def _case(root: ET.Element, suite: str, check: str) -> ET.Element:
    for s in root.iter("testsuite"):
        if s.get("name") == suite:
            for c in s.iter("testcase"):
                if (c.get("name") or "").startswith(check + ":") or c.get("name") == check:
                    return c
    raise AssertionError(f"no testcase {check} in {suite}")


def test_one_testcase_per_check_and_target() -> None:
    results = make_results()
    root = _parse(render_junit(results, context(results)))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [r.target for r in results]
    for s, r in zip(suites, results, strict=True):
        cases = s.findall("testcase")
        expected = len(r.findings) + (1 if r.error else 0)
        assert len(cases) == expected == int(s.get("tests", "-1"))
        assert {c.get("classname") for c in cases} == {r.target}
    assert int(root.get("tests", "0")) == sum(int(s.get("tests", "0")) for s in suites)


def test_outcomes_are_distinct() -> None:
    results = make_results()
    root = _parse(render_junit(results, context(results)))
    tls = _case(root, "config-repo", "web.tls_configuration")
    assert tls.find("failure") is not None and tls.find("error") is None
    assert tls.find("failure").get("type") == "high"  # type: ignore[union-attr]
    assert "gates the run" in (tls.find("failure").get("message") or "")  # type: ignore[union-attr]
    lobby = _case(root, "config-repo", "rooms.lobby_available")  # unclear
    assert lobby.find("error") is not None and lobby.find("failure") is None
    assert lobby.find("error").get("type") == "unclear"  # type: ignore[union-attr]
    passed = _case(root, "config-repo", "xmpp.c2s_encryption")
    assert passed.find("failure") is None and passed.find("error") is None and passed.find("skipped") is None
    na = _case(root, "config-repo", "recording.server_side")
    assert na.find("skipped") is not None
    low = _case(root, "config-repo", "rooms.welcome_page_open")
    assert "below --fail-on" in (low.find("failure").get("message") or "")  # type: ignore[union-attr]
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["criterion.enc.algorithm"] == "Fully"
    assert any(v and v.endswith("(declared)") for k, v in props.items() if (k or "").startswith("criterion."))
    down = _case(root, "down.example.org", "audit")
    assert down.find("error").get("type") == "incomplete"  # type: ignore[union-attr]
    suite = root.find("testsuite")
    assert suite is not None
    r = results[0]
    assert int(suite.get("failures", "0")) == sum(1 for f in r.findings if f.status is Status.FAIL)
    assert int(suite.get("errors", "0")) == sum(1 for f in r.findings if f.status is Status.UNCLEAR)


def test_waived_is_skipped_with_justification_and_min_score_is_a_testcase() -> None:
    results = make_results()
    waivers = parse_waivers(
        "waivers:\n  - {check: web.tls_configuration, justification: 'legacy clients until Q3', "
        "expires: 2025-09-30, approver: 'J. Doe'}\n",
        "w.yaml",
    )
    cfg = GateConfig(
        fail_on=Severity.HIGH,
        waivers=waivers,
        min_scores=MinScores(90.0, {"encryption": 10.0}),
        today=NOW.date(),
    )
    root = _parse(render_junit(results, context(results, config=cfg)))
    tls = _case(root, "config-repo", "web.tls_configuration")
    skipped = tls.find("skipped")
    assert skipped is not None and tls.find("failure") is None
    assert "waived: legacy clients until Q3" in (skipped.get("message") or "")
    assert "2025-09-30" in (skipped.get("message") or "")
    overall = _case(root, "config-repo", "score.overall")
    assert overall.find("failure") is not None
    assert _case(root, "config-repo", "score.encryption").find("failure") is None


def test_hostile_values_make_well_formed_xml() -> None:
    results = make_results(hostile=True)
    text = render_junit(results, context(results))
    root = _parse(text)
    assert "\x1b" not in text and "\x00" not in text
    names = [s.get("name") or "" for s in root.iter("testsuite")]
    assert any("<script>" in n for n in names)  # data, escaped by the serializer
    assert "<script>" not in text
