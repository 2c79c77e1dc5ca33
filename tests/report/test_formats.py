"""Every format is registered, chosen by extension, and renders any result set."""

from __future__ import annotations

import pytest

from auditor.report.formats import EXTENSIONS, RENDERERS
from tests.report.fixtures import context, make_results


def test_formats_and_extensions() -> None:
    for name in ("table", "json", "sarif", "junit", "html", "markdown", "csv"):
        assert name in RENDERERS
    assert EXTENSIONS[".sarif"] == "sarif" and EXTENSIONS[".xml"] == "junit" and EXTENSIONS[".html"] == "html"
    assert EXTENSIONS[".md"] == "markdown" and EXTENSIONS[".csv"] == "csv"


@pytest.mark.parametrize("name", ["table", "sarif", "junit", "html", "markdown", "csv"])
@pytest.mark.parametrize("hostile", [False, True])
def test_each_renderer_handles_every_kind_of_result(name: str, hostile: bool) -> None:
    results = make_results(hostile=hostile)
    out = RENDERERS[name](results, context(results))
    assert isinstance(out, str) and out.endswith("\n")
    if name != "table":
        assert RENDERERS[name]([], context([]))  # an empty run still renders a document
