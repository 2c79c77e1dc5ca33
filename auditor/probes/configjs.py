"""The public /config.js: parsed like the copy read over SSH, flattened, secrets reduced to verdicts."""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Iterator
from typing import Any

from auditor.probes.model import ConfigJsInfo, PublicSecret
from auditor.redaction import MARKER_RE, SecretVerdict, classify, is_secret_name

MAX_KEYS = 3000
MAX_VALUE = 200


def parse_js_config(text: str, path: str) -> tuple[dict[str, Any] | None, str | None]:
    """config.js values with the project's parser (sandboxed), or None and a safe one-line reason."""
    try:
        module = importlib.import_module("auditor.parsers.javascript")
    except ImportError:
        return None, "the config.js parser is not available"
    try:
        parsed = module.parse_config_js(text, path, variable="config")
    except Exception as exc:  # never echo the parser's excerpt: it could hold a secret value
        line = getattr(exc, "line", None)
        where = f" at line {line}" if line else ""
        return None, f"config.js could not be parsed ({type(exc).__name__}{where})"
    values = getattr(parsed, "values", None)
    if not isinstance(values, dict):
        return None, "config.js did not define a config object"
    return values, None


def walk(value: Any, prefix: str = "", turn: bool = False) -> Iterator[tuple[str, Any, bool]]:
    """(dotted name, leaf value, inside a TURN/ICE server entry) for every leaf."""
    if isinstance(value, dict):
        here = turn or any(isinstance(v, str) and v.lower().startswith(("turn:", "turns:")) for v in
                           _flat_strings(value.get("urls", value.get("url"))))
        for k, v in value.items():
            yield from walk(v, f"{prefix}.{k}" if prefix else str(k), here)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{prefix}[{i}]", turn)
    else:
        yield prefix, value, turn


def _flat_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def encode(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    if len(text) <= MAX_VALUE:
        return text
    return text[:150] + "…sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def secret_verdict(value: Any) -> tuple[str, int]:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    marker = SecretVerdict.from_marker(text) if MARKER_RE.fullmatch(text) else None
    if marker is not None:
        return marker.secret_class, marker.length
    return classify(text), len(text)


def flatten(values: dict[str, Any]) -> tuple[dict[str, str], list[PublicSecret]]:
    """Non-secret settings as dotted key -> JSON text; secret-named, non-empty settings as verdicts only."""
    plain: dict[str, str] = {}
    secrets: list[PublicSecret] = []
    for name, value, turn in walk(values):
        if len(plain) + len(secrets) >= MAX_KEYS:
            break
        if is_secret_name(name) and value not in (None, "", False):
            cls, length = secret_verdict(value)
            secrets.append(PublicSecret(name, cls, length, turn))
        else:
            plain[name] = encode(value)
    return plain, secrets


def config_js_info(status: int | None, body: bytes, truncated: bool) -> ConfigJsInfo:
    digest = hashlib.sha256(body).hexdigest() if body else None
    if status != 200 or not body:
        return ConfigJsInfo(status, len(body), digest, False, f"HTTP {status}" if status else "no answer")
    if truncated:
        return ConfigJsInfo(status, len(body), digest, False, "config.js larger than the probe reads")
    values, error = parse_js_config(body.decode("utf-8", "replace"), "https:/config.js")
    if values is None:
        return ConfigJsInfo(status, len(body), digest, False, error)
    plain, secrets = flatten(values)
    return ConfigJsInfo(status, len(body), digest, True, None, tuple(sorted(plain.items())), tuple(secrets))


def compare(public: ConfigJsInfo, ssh_values: dict[str, Any]) -> list[str]:
    """Names of the settings that differ between the public config.js and the copy read over SSH."""
    ssh_plain, ssh_secrets = flatten(ssh_values)
    pub_plain = dict(public.values)
    diffs = [k for k in sorted(set(pub_plain) | set(ssh_plain)) if pub_plain.get(k) != ssh_plain.get(k)]
    pub_sec = {s.name: (s.secret_class, s.length) for s in public.secrets}
    ssh_sec = {s.name: (s.secret_class, s.length) for s in ssh_secrets}
    diffs += [k for k in sorted(set(pub_sec) | set(ssh_sec)) if pub_sec.get(k) != ssh_sec.get(k)]
    return diffs
