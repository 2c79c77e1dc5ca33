"""A saved snapshot (--snapshot) may come from anywhere: JSON of the wrong shape, fields of the wrong type,
more items than any collection makes. Each is one line of error at load time (the target is incomplete,
the other targets of the run are audited), never a traceback, nor a wrong type that a check trips on
later ("check failed to run")."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import auditor.snapshot as snapshot_module
from auditor.cli import main
from auditor.snapshot import CollectedItem, ItemStatus, Snapshot, SnapshotError

_CONFIG_JS = "/etc/jitsi/meet/x-config.js"


def _good() -> dict[str, Any]:
    snap = Snapshot("saved-host", "dir", root="/srv/cfg")
    text = b"var config = {};\n"
    snap.add(CollectedItem(_CONFIG_JS, "file", ItemStatus.OK, text, size=len(text), mode=0o644, owner="root"))
    snap.add(CollectedItem("cmd:hostname", "command", ItemStatus.OK, b"meet\n", exit_code=0))
    return snap.to_json()


def _item(data: dict[str, Any], **fields: Any) -> None:
    data["items"][0].update(fields)


_MUTATIONS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "top-level list": lambda d: [d],
    "top-level null": lambda d: None,
    "items an object": lambda d: d.update(items={"a": 1}),
    "item a number": lambda d: d["items"].append(5),
    "item without key": lambda d: d["items"][0].pop("key"),
    "key a list": lambda d: _item(d, key=["/etc/x"]),
    "status a number": lambda d: _item(d, status=1),
    "kind unknown": lambda d: _item(d, kind="socket"),
    "content not base64": lambda d: _item(d, content_b64="!!!"),
    "content a number": lambda d: _item(d, content_b64=12),
    "size a string": lambda d: _item(d, size="big"),
    "size a float": lambda d: _item(d, size=1e308),
    "size negative": lambda d: _item(d, size=-1),
    "mode not octal": lambda d: _item(d, mode="zz"),
    "mode huge": lambda d: _item(d, mode="7" * 5000),
    "owner a number": lambda d: _item(d, owner=0),
    "group a list": lambda d: _item(d, group=[1]),
    "error an object": lambda d: _item(d, error={"x": 1}, status="error"),
    "redactions a list": lambda d: _item(d, redactions=[1]),
    "exit code a string": lambda d: _item(d, exit_code="zero"),
    "boolean for a number": lambda d: _item(d, size=True),
    "target an object": lambda d: d.update(target={"a": 1}),
    "root a number": lambda d: d.update(root=5),
    "started_at missing": lambda d: d.pop("started_at"),
    "started_at a number": lambda d: d.update(started_at=5),
    "finished_at not a time": lambda d: d.update(finished_at="yesterday"),
    "host_key a string": lambda d: d.update(host_key="abc"),
    "host_key incomplete": lambda d: d.update(host_key={"type": "ssh-ed25519"}),
    "facts a list": lambda d: d.update(facts=[1, 2]),
    "fact value an object": lambda d: d.update(facts={"a": {"b": 1}}),
    "errors a string": lambda d: d.update(errors="abc"),
    "transport a list": lambda d: d.update(transport=[1]),
}


@pytest.mark.parametrize("name", sorted(_MUTATIONS))
def test_a_malformed_snapshot_is_one_line_of_error(tmp_path: Path, name: str) -> None:
    data = _good()
    replaced = _MUTATIONS[name](data)
    if name.startswith("top-level"):
        data = replaced
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SnapshotError) as info:
        Snapshot.load(path)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400


def test_the_good_snapshot_loads_and_a_naive_time_is_utc(tmp_path: Path) -> None:
    data = _good()
    data["started_at"] = "2020-01-01T00:00:00"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    snap = Snapshot.load(path)
    assert snap.started_at.tzinfo is not None and snap.root == "/srv/cfg"
    item = snap.items[_CONFIG_JS]
    assert item.mode == 0o644 and item.owner == "root" and item.content == b"var config = {};\n"


def test_not_json_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(b"\xff\xfe{not json")
    with pytest.raises(SnapshotError, match=r"^not valid JSON"):
        Snapshot.load(path)


def test_more_items_than_any_collection_are_refused_before_use(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot_module, "MAX_SNAPSHOT_ITEMS", 10)
    data = _good()
    data["items"] = [dict(data["items"][0], key=f"/etc/x/{i}.conf") for i in range(11)]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SnapshotError, match=r"more than 10 items"):
        Snapshot.load(path)


def test_a_bad_snapshot_costs_its_own_target_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """End to end: wrong types in one saved snapshot, a good one beside it; no traceback, the good one
    is audited, the run is incomplete (3)."""
    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    broken = copy.deepcopy(_good())
    broken["items"][0]["owner"] = 0  # crashed the JSON reporter's validation before
    bad.write_text(json.dumps([broken]))  # and a list at the top: AttributeError before
    good.write_text(json.dumps(_good()))
    report = tmp_path / "r.json"
    started = time.monotonic()
    with pytest.raises(SystemExit) as stop:
        main(["--snapshot", str(bad), "--snapshot", str(good), "--no-probes", "-q", "-f", "json", "-o", str(report)])
    assert stop.value.code == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and "cannot load snapshot: not a jitsi-audit snapshot" in err
    targets = json.loads(report.read_text())["targets"]
    assert [t["target"] for t in targets if t["findings"]] == ["saved-host"]
    assert time.monotonic() - started < 60
