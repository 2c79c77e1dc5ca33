"""Known vulnerabilities: the bundled advisory data, Debian version comparison and matching.

The audit only reads local data (`active_data()`); `jitsi-audit advisories --update` is the one
thing that goes online (auditor.advisories.update).
"""

from auditor.advisories.data import (
    ActiveData,
    Advisory,
    AdvisoryData,
    AdvisoryDataError,
    active_data,
    load_file,
    parse_data,
)
from auditor.advisories.debversion import DebVersion, compare_versions, upstream_of
from auditor.advisories.docker import ImageRef, parse_image
from auditor.advisories.matching import (
    Installed,
    Inventory,
    Match,
    Verdict,
    deployment_inventory,
    match,
    match_inventory,
)

__all__ = [
    "ActiveData",
    "Advisory",
    "AdvisoryData",
    "AdvisoryDataError",
    "DebVersion",
    "ImageRef",
    "Installed",
    "Inventory",
    "Match",
    "Verdict",
    "active_data",
    "compare_versions",
    "deployment_inventory",
    "load_file",
    "match",
    "match_inventory",
    "parse_data",
    "parse_image",
    "upstream_of",
]
