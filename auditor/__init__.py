"""jitsi-audit: audit the live security configuration of self-hosted Jitsi Meet deployments."""

from typing import Any

_found: list[str] = []


def __getattr__(name: str) -> Any:
    """`__version__`, read from the installed metadata on first use (importlib.metadata costs ~30 ms of
    start-up that an audit would pay before its first connection)."""
    if name != "__version__":
        raise AttributeError(f"module 'auditor' has no attribute {name!r}")
    if not _found:
        from importlib.metadata import PackageNotFoundError, version

        try:
            _found.append(version("jitsi-audit"))
        except PackageNotFoundError:  # running from a source tree that is not installed
            _found.append("0.0.0+source")
    return _found[0]
