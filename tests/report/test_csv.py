"""CSV: written with the csv module, read back identically; formula injection guarded."""

from __future__ import annotations

import csv
import io

from auditor.report.csv_report import COLUMNS, cell, csv_rows, render_csv
from tests.report.fixtures import context, make_results


def test_round_trip() -> None:
    results = make_results()
    ctx = context(results)
    text = render_csv(results, ctx)
    back = list(csv.DictReader(io.StringIO(text, newline="")))
    expected = [{k: cell(row.get(k, "")) for k in COLUMNS} for row in csv_rows(results, ctx)]
    assert back == expected
    assert back[0]["target"] == "config-repo"
    first = next(r for r in back if r["check_id"] == "web.tls_configuration" and r["target"] == "config-repo")
    assert first["evidence"] == (
        "/etc/nginx/sites-available/meet.example.org.conf:12; "
        "/etc/nginx/sites-available/meet.example.org.conf:13"
    )
    assert first["gates"] == "yes" and first["status"] == "fail"
    assert next(r for r in back if r["status"] == "incomplete")["message"] == "connection refused"
    # commas, quotes and newlines survive
    hsts = next(r for r in back if r["check_id"] == "web.hsts")
    assert hsts["remediation"] == 'add_header Strict-Transport-Security "max-age=63072000" always;'
    # the criteria ratings, with their basis (declared ones marked)
    criteria = [r for r in back if r["kind"] == "criterion" and r["target"] == "config-repo"]
    assert len(criteria) == 33
    assert {r["state"] for r in criteria} == {"verified", "declared"}
    assert {r["kind"] for r in back} == {"criterion", "finding", "incomplete"}


def test_formula_injection_guarded() -> None:
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx"):
        assert cell(bad).startswith("'")
    assert not cell("\rx").startswith("\r")  # control characters are replaced anyway
    assert cell("meet.example.org") == "meet.example.org"
    results = make_results(hostile=True)
    text = render_csv(results, context(results))
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len({len(r) for r in rows}) == 1
    for row in rows:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert any(v.startswith("'=HYPERLINK") or "=HYPERLINK" in v for r in rows for v in r)
    assert "\x1b" not in text
