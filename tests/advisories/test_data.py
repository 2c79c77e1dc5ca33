"""The committed advisory data validates; malformed data is refused with a one-line reason; which file wins."""

from __future__ import annotations

import copy
import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from auditor.advisories import data as d
from auditor.advisories.data import AdvisoryDataError, active_data, dump_data, load_file, parse_data, validate_data


def _raw() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(d.bundled_path().read_text(encoding="utf-8"))
    return raw


def test_the_committed_data_file_validates_and_round_trips() -> None:
    data = load_file(d.bundled_path())
    assert data.format == d.DATA_FORMAT
    assert len(data.advisories) >= 30
    ids = {a.id for a in data.advisories}
    for jsa in ("JSA-2020-0001", "JSA-2021-0001", "JSA-2021-0002", "JSA-2021-0003", "JSA-2021-0004", "JSA-2021-0005",
                "JSA-2022-0001", "JSA-2022-0002", "JSA-2022-0003", "JSA-2022-0004", "JSA-2023-0001", "JSA-2023-0002",
                "JSA-2024-0001", "JSA-2024-0002", "JSA-2024-0003", "JSA-2025-0001"):  # fmt: skip
        assert jsa in ids
    components = {a.component for a in data.advisories}
    assert {"jitsi-meet", "jicofo", "jitsi-videobridge", "jigasi", "prosody", "docker-jitsi-meet"} <= components
    assert data.get("CVE-2021-33506") is data.get("JSA-2021-0001")  # aliases resolve
    # the file is written in the canonical layout, so --update diffs stay readable
    assert dump_data(data) == d.bundled_path().read_text(encoding="utf-8")
    assert parse_data(dump_data(data), "again") == data


def test_mapping_rows_from_the_research_appendix() -> None:
    smap = load_file(d.bundled_path()).stable_map()
    for stable, web, jicofo, jvb in [
        (5963, 5056, "1.0-756", "2.1-508-gb24f756cd"),
        (6173, 5211, "1.0-786", "2.1-538-g062e9f561"),
        (7830, 6600, "1.0-934", "2.2-43-gce94dbb2b"),
        (8044, 6776, "1.0-954", "2.2-61-g98c9f8684"),
        (9457, 7952, "1.0-1078", "2.3-105-ge155b81eb"),
        (9779, 8206, "1.0-1101", "2.3-168-g28674f78e"),
    ]:
        release = smap.get(stable)
        assert release is not None
        assert (release.web, release.jicofo, release.jvb) == (web, jicofo, jvb)


def _mutate(path: str, value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(_raw())
    node: Any = raw
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split("/")]
    for k in keys[:-1]:
        node = node[k]
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return raw


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("format", "something/2", "format must be"),
        ("version", "yesterday", "version must be YYYY.MM.DD"),
        ("advisories/0/severity", "severe", "advisories[0] (JSA-2020-0001).severity"),
        ("advisories/1/affected/0/below", "two-point-oh", "not a jitsi-meet stable number"),
        ("advisories/1/link", "http://example.org/x", "must be an https URL"),
        ("advisories/1/packages", ["jicofo"], "are not packages of jitsi-meet"),
        ("advisories/1/id", "JSA-2021-1", "id must be JSA-YYYY-NNNN"),
        ("advisories/1/id", "JSA-2021-0002", "appears twice"),
        ("advisories/1/affected", [], "needs at least one affected range"),
        ("advisories/1/affected", [{}], "needs `introduced` or `below`"),
        ("advisories/1/title", _DELETE, "title: Field required"),
        ("advisories/1/surprise", 1, "Extra inputs are not permitted"),
        ("stable_releases/3/web", "1.0.1", "web versions must not decrease"),
        ("stable_releases/3/stable", 1, "sorted by stable number"),
        ("stable_releases/3/jvb", "banana", "must be 2.x-<n>-g<hash>"),
        ("advisories/0/scope", "server", "is a client"),
    ],
)
def test_malformed_data_is_refused_with_a_clear_one_line_error(path: str, value: Any, expected: str) -> None:
    with pytest.raises(AdvisoryDataError) as err:
        validate_data(_mutate(path, value), "bad.json")
    message = str(err.value)
    assert message.startswith("bad.json: ")
    assert expected in message, message
    assert "\n" not in message


def test_not_json_and_wrong_top_level(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryDataError, match=r"x\.json: not JSON \(line 1"):
        parse_data("{nope", "x.json")
    with pytest.raises(AdvisoryDataError, match="must be a JSON object"):
        parse_data("[]", "x.json")
    with pytest.raises(AdvisoryDataError, match="cannot read"):
        load_file(tmp_path / "missing.json")


def _write(path: Path, raw: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_the_audit_prefers_a_valid_newer_updated_file(_isolated_data: Path) -> None:
    assert active_data().source == "bundled"
    newer = _raw()
    newer["version"] = "2099.01.01"
    user = _write(_isolated_data / "jitsi-audit" / "advisories.json", newer)
    got = active_data()
    assert got.data.version == "2099.01.01" and got.source == f"updated {user}"
    older = _raw()
    older["version"] = "2000.01.01"
    _write(user, older)
    os.utime(user, (1, 1))  # a different mtime: the cache notices
    got = active_data()
    assert got.source == "bundled" and "older" in (got.warning or "")


def test_an_invalid_updated_file_is_ignored_with_a_warning(_isolated_data: Path) -> None:
    user = _isolated_data / "jitsi-audit" / "advisories.json"
    user.parent.mkdir(parents=True)
    user.write_text('{"format": "jitsi-audit-advisories/1"}', encoding="utf-8")
    got = active_data()
    assert got.source == "bundled"
    assert got.warning is not None and "ignored the updated data" in got.warning


def test_the_environment_variable_names_the_file_and_errors_surface(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = _raw()
    chosen["version"] = "2030.02.03"
    path = _write(tmp_path / "mine.json", chosen)
    monkeypatch.setenv(d.ENV_VAR, str(path))
    assert active_data().data.version == "2030.02.03"
    monkeypatch.setenv(d.ENV_VAR, str(tmp_path / "absent.json"))
    with pytest.raises(AdvisoryDataError, match=r"^cannot read advisory data .*absent\.json: No such file"):
        active_data()


def test_write_data_is_atomic_and_validated(tmp_path: Path) -> None:
    data = load_file(d.bundled_path())
    target = tmp_path / "sub" / "a.json"
    d.write_data(data, target)
    assert load_file(target) == data
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]


def test_next_version() -> None:
    assert d.next_version("2026.11.27", date(2026, 12, 1)) == "2026.12.01"
    assert d.next_version("2026.11.27", date(2026, 11, 27)) == "2026.11.27.1"
    assert d.next_version("2026.11.27.1", date(2026, 11, 27)) == "2026.11.27.2"
    assert d.next_version("2026.11.27", date(2026, 11, 1)) == "2026.11.27.1"  # never goes backwards
