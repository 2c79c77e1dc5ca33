"""jitsi-audit: audit the live security configuration of self-hosted Jitsi Meet deployments."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("jitsi-audit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
