"""paramiko, imported without `invoke`.

paramiko's config module imports invoke (which pulls unittest.mock and asyncio: ~75 ms, half of
paramiko's import) only to run the commands of `Match exec` lines in an ssh_config. The import is
skipped here; `enable_match_exec` imports invoke when a config file really has such a line.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

_absent = "invoke" not in sys.modules
if _absent:
    sys.modules["invoke"] = None  # type: ignore[assignment]  # makes `import invoke` fail fast
try:
    import paramiko as paramiko
    import paramiko.config
finally:
    if _absent and "invoke" in sys.modules and sys.modules["invoke"] is None:
        del sys.modules["invoke"]

# paramiko's transport thread logs what ended a handshake (a silent server: "Exception (client): Error reading
# SSH protocol banner" and a traceback) at ERROR level. With no handler configured, Python's last-resort
# handler would print that to stderr beside the one line the audit gives for the host; a handler of its own
# keeps it out, and the records still reach the handlers of whoever configures logging.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

_MATCH_EXEC = re.compile(rb"^[ \t]*match\b[^\n]*\bexec\b", re.I | re.M)


def enable_match_exec(path: Path) -> None:
    """Give paramiko invoke when the ssh_config at `path` has a `Match exec` line (unreadable: nothing)."""
    if getattr(paramiko.config, "invoke", None) is not None:
        return
    try:
        if not _MATCH_EXEC.search(path.read_bytes()):
            return
        import invoke
    except (OSError, ImportError):
        return
    paramiko.config.invoke = invoke  # type: ignore[attr-defined]
