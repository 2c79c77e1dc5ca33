"""Every advisory test runs on the bundled data: no user-updated file, no $JITSI_AUDIT_ADVISORIES."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.advisories import data as data_module


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    monkeypatch.delenv(data_module.ENV_VAR, raising=False)
    data_module._cache.clear()
    yield xdg
    data_module._cache.clear()
