"""JSON text of the reports: what `json.dumps(data, indent=2, ensure_ascii=False)` writes, faster."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Iterator
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


def list_marker() -> str:
    """A string to stand in a document where `dumps_with_list` writes a list item by item: random per
    call, so no value taken from a target can equal it."""
    return f"jitsi-audit-list-{secrets.token_hex(16)}"


def dumps_with_list(document: Any, marker: str, items: Iterable[Any]) -> Iterator[str]:
    """The text of `dumps_indented(document)` with the list `items` in place of the string `marker`
    (which stands exactly once in `document`), in pieces: the document before the list, then each
    item's text as it comes, then the rest. Only one item and its text are alive at a time, so a long
    list of large items never lives whole in memory, as values or as one text (`items` should not keep
    an item once it has yielded it: yield an expression, not a name).

    The text is the same: an item's indented text nests by indenting each of its lines (JSON strings
    hold no raw newline, so every newline in it is the indenter's)."""
    text = dumps_indented(document)
    token = f'"{marker}"'
    at = text.find(token)
    if at < 0 or text.find(token, at + 1) >= 0:
        raise ValueError("the list marker must stand exactly once in the document")
    line = text[text.rfind("\n", 0, at) + 1 : at]
    closing = "\n" + line[: len(line) - len(line.lstrip(" "))]  # where the list's "]" goes
    pad = closing + "  "
    yield text[:at]
    first = True
    for item in items:
        piece = dumps_indented(item).replace("\n", pad)
        del item  # the item's values go before its text is written
        yield ("[" if first else ",") + pad
        yield piece
        first = False
    yield ("[]" if first else closing + "]") + text[at + len(token) :]
