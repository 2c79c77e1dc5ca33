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


def test_reading_the_command_line_builds_no_pydantic_validators() -> None:
    """typer 0.29 and later build a pydantic TypeAdapter for every option while parsing (~0.15 s of CPU
    before the first host is contacted; pyproject keeps typer below it). Parse a full command line up to
    the first thing an audit reads (a missing inventory: exit 2) and look at what was imported."""
    code = (
        "import sys\nfrom auditor.cli import main\n"
        "sys.argv = ['jitsi-audit', '--inventory', '/nonexistent/inventory', '--max-hosts', '3', '--timeout', '5',"
        " '-f', 'json', '-q']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code\n"
        f"later = {(*LATER, 'pydantic')!r}\n"
        "print(code, sorted(m for m in sys.modules if any(m == n or m.startswith(n + '.') for n in later)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "2 []", out.stdout + out.stderr
