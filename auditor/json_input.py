"""JSON that comes from outside the program (user files, evidence bundles, saved snapshots, a target's
tools, the network): `json.loads`, with a nesting too deep for the decoder reported as the ValueError
that any other bad JSON raises (json raises RecursionError there, which no caller expects)."""

from __future__ import annotations

import json
from typing import Any


def loads(data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("nested too deeply") from None
