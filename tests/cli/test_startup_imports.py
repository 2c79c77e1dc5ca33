"""What an audit imports before its hosts go on the network: the command line, the inventory and role
names, the live runner. The parsers, facts and checks (and the libraries under them) are imported while
the hosts' collections and probes are under way, never before their connections."""

from __future__ import annotations

import subprocess
import sys

# Imported by the parsers and facts, not needed to read a command line or an inventory.
# (auditor.parsers.base is not among them: the model's Location lives there.)
LATER = ("auditor.deployment", "auditor.engine", "auditor.facts", "auditor.parsers.prosody", "auditor.parsers.hocon",
         "auditor.parsers.nginx", "auditor.parsers.javascript", "auditor.parsers.certificate", "checks", "pyhocon",
         "pyparsing", "crossplane", "cryptography.x509", "sslyze", "paramiko")


def test_nothing_heavy_before_the_hosts_start() -> None:
    code = (
        "import sys, auditor.cli, auditor.live, auditor.inventory, auditor.roles, auditor.progress\n"
        f"later = {LATER!r}\n"
        "print(sorted(m for m in sys.modules if any(m == n or m.startswith(n + '.') for n in later)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
