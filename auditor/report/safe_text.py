"""`safe`: text from a target made inert for a terminal (a module of its own so that the command
line's error messages need no report or rich import)."""

from __future__ import annotations

import re

CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def safe(value: object) -> str:
    """Text from a target, made inert for a terminal: no escape sequences, no bidi overrides."""
    return CONTROL_RE.sub("�", str(value))
