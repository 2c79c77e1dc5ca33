"""JSON text of the reports: what `json.dumps(data, indent=2, ensure_ascii=False)` writes, faster."""

from __future__ import annotations

import json
import re
from typing import Any

import pydantic_core

# Where pydantic's float text differs from json's: small floats (pydantic 0.00001 / 1e-9, json 1e-05 /
# 1e-09). Searched in the whole text, strings included: a string that looks so only costs the slow path.
# (The pattern starts with a literal for speed; the digit before it is checked by hand.)
_SHORT_EXPONENT = re.compile(r"e-[0-9](?![0-9])")


def _float_form_differs(text: str) -> bool:
    return "0.0000" in text or any(m.start() > 0 and text[m.start() - 1] in "0123456789"
                                   for m in _SHORT_EXPONENT.finditer(text))


def dumps_indented(data: Any) -> str:
    """`json.dumps(data, indent=2, ensure_ascii=False)`, written by pydantic's serializer (Rust) when it
    gives the same text: json's own encoder is pure Python once indenting (~9 ms per host of a fleet,
    against ~1.5 ms). A float pydantic writes otherwise, a lone surrogate or anything else it refuses
    goes to json."""
    try:
        text = pydantic_core.to_json(data, indent=2, inf_nan_mode="constants").decode("utf-8")
    except (pydantic_core.PydanticSerializationError, UnicodeDecodeError, ValueError, OverflowError):
        text = None
    if text is None or _float_form_differs(text):
        return json.dumps(data, indent=2, ensure_ascii=False)
    return text
