"""nginx and Apache read included files one by one: each file within its cap, and all the files of one
parse within MAX_TOTAL_BYTES together (parsers.base.TextBudget), so many includes of files just under
the per-file cap cannot add up to an unbounded parse."""

from __future__ import annotations

import pytest

from auditor.parsers import apache, nginx
from auditor.parsers.base import ConfigParseError, TextBudget

# A comment line is parsed quickly and adds no directive: the total is what is tested, not the statements.
FILLER = "# " + "x" * 1021 + "\n"


def _filler(kib: int) -> str:
    return FILLER * kib


def test_text_budget_counts_every_read() -> None:
    budget = TextBudget({"/a": "12345", "/b": "6789"}, max_bytes=100, max_total=8)
    assert budget.read("/a") == "12345" and budget.total == 5
    with pytest.raises(ConfigParseError, match="included files exceed 8 bytes together"):
        budget.read("/b")


def test_nginx_includes_past_the_total_are_refused() -> None:
    files = {f"/etc/nginx/conf.d/{i}.conf": _filler(400) for i in range(6)}  # 6 x 400 KiB > 2 MiB
    files["/etc/nginx/nginx.conf"] = "http {\n    include /etc/nginx/conf.d/*.conf;\n}\n"
    with pytest.raises(ConfigParseError, match=f"exceed {nginx.MAX_TOTAL_BYTES} bytes together"):
        nginx.parse_nginx(files, "/etc/nginx/nginx.conf")
    del files["/etc/nginx/conf.d/5.conf"], files["/etc/nginx/conf.d/4.conf"]  # 4 x 400 KiB: within the total
    assert nginx.parse_nginx(files, "/etc/nginx/nginx.conf").servers == []


def test_apache_includes_past_the_total_are_refused() -> None:
    files = {f"/etc/apache2/conf-enabled/{i}.conf": _filler(400) for i in range(6)}
    files["/etc/apache2/apache2.conf"] = "IncludeOptional conf-enabled/*.conf\n"
    with pytest.raises(ConfigParseError, match=f"exceed {apache.MAX_TOTAL_BYTES} bytes together"):
        apache.parse_apache(files, "/etc/apache2/apache2.conf", server_root="/etc/apache2")
    del files["/etc/apache2/conf-enabled/5.conf"], files["/etc/apache2/conf-enabled/4.conf"]
    assert apache.parse_apache(files, "/etc/apache2/apache2.conf", server_root="/etc/apache2") is not None
