"""The JSON report's text is exactly what `json.dumps(..., indent=2, ensure_ascii=False)` writes, whichever
serializer wrote it (pydantic's for the usual report, json's for values pydantic writes differently)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from auditor.report.json_report import report_dict
from auditor.report.jsontext import dumps_indented
from tests.report.fixtures import context, make_results


def _reference(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("hostile", [False, True])
def test_a_whole_report_is_written_as_json_writes_it(hostile: bool) -> None:
    results = make_results(hostile=hostile)
    ctx = context(results)
    data = report_dict(results, ctx.profile, ctx.fail_on.value, ctx.exit_code, ctx.gate)
    assert dumps_indented(data) == _reference(data)


@pytest.mark.parametrize(
    "value",
    [
        {"text": "é ü 中 \U0001f512 \u2028 \x7f \x00 \x1b[31m \t\n\r\b\f \" \\ / </script>", "empty": {}, "list": []},
        {"scores": [0.0, -0.0, 1.0, 83.3, 99.99999, 0.001, 0.0001, 123456789012345.0, 1e15]},
        {"exponents": [1e-05, 2.5e-7, 1e16, 1e20, -3e-9]},  # json: 1e-05, pydantic: 1e-5
        {"nan": float("nan"), "inf": [float("inf"), float("-inf")]},
        {"surrogate": "\udcff"},  # a lone surrogate pydantic cannot encode
        {"big": 2**70, "neg": -(2**64)},
        {1: "int key", "t": (1, 2)},
        [True, False, None, 0, -1, "x"],
        "just a string",
    ],
)
def test_values_pydantic_would_write_otherwise_are_written_as_json_writes_them(value: Any) -> None:
    assert dumps_indented(value) == _reference(value)
