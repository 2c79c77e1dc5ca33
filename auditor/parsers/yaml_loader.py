"""PyYAML's safe loader, libyaml's C implementation where PyYAML was built with it: faster, and it
refuses a nesting deeper than 1000 levels (a RecursionError in the pure-Python loader). One place for
the choice: compose files, inventories, profiles, waivers and declarations all load through it."""

from __future__ import annotations

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
