"""Shared pieces of the security suite: the real CLI in a subprocess, outputs, canary needles.

The CLI always runs as a separate process (`python -c ... auditor.cli.main`) with a private HOME, no
ssh-agent and, when asked, Python's root logger at DEBUG on stderr, so what paramiko (or any code of
ours, should it ever log) writes is part of the output searched for secrets. `timeout` is a hang
guard only, never a performance target: a run that exceeds it is a hang.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from auditor.snapshot import CollectedItem, ItemStatus, Snapshot

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
HANG_GUARD = 600.0  # seconds; a hang guard, not a performance bound

# Every report format, by output file name (the CLI picks the format from the extension), plus the
# terminal table on stdout.
REPORT_FILES = {
    "json": "report.json",
    "sarif": "report.sarif",
    "junit": "report.xml",
    "html": "report.html",
    "markdown": "report.md",
    "csv": "report.csv",
    "table": "report.txt",
}

_RUNNER = """\
import logging, sys
if sys.argv[1] == "--debug-logging":
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="LOG %(name)s %(levelname)s %(message)s")
    logging.getLogger().setLevel(logging.DEBUG)
from auditor.cli import main
main(sys.argv[2:])
"""

def files_snapshot(files: Mapping[str, str]) -> Snapshot:
    """A directory snapshot of `files` (path -> text), every one read."""
    snap = Snapshot("t", "dir")
    for key, text in files.items():
        snap.add(CollectedItem(key, "file", ItemStatus.OK, text.encode()))
    return snap


CANARY_RE = re.compile(r"CANARY-[A-Za-z0-9#@_-]+")
# What a terminal could interpret: C0/C1 controls (except newline and tab), DEL, bidi overrides.
UNSAFE_TERMINAL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass
class CliRun:
    args: list[str]
    code: int
    stdout: str
    stderr: str
    workdir: Path
    files: dict[str, bytes] = field(default_factory=dict)  # every file the run wrote in workdir

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.files[REPORT_FILES["json"]])
        return data

    def target(self, name: str) -> dict[str, Any]:
        found = [t for t in self.report["targets"] if t["target"] == name]
        assert len(found) == 1, f"{name!r} not once in {[t['target'] for t in self.report['targets']]}"
        target: dict[str, Any] = found[0]
        return target

    def messages(self) -> list[str]:
        """The CLI's own one-line messages on stderr (log records excluded)."""
        return [ln for ln in self.stderr.splitlines() if ln.startswith("jitsi-audit: ")]

    def error_lines(self) -> list[str]:
        """The per-target error lines (`jitsi-audit: TARGET: STAGE: reason`), not the notices."""
        notices = ("jitsi-audit: evidence bundle ", "jitsi-audit: waiver ")
        return [ln for ln in self.messages() if not ln.startswith(notices)]

    def diagnose(self) -> str:
        return f"exit {self.code}; args {self.args}\nstderr (tail):\n{self.stderr[-3000:]}"


def clean_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SSH_AUTH_SOCK", "FORCE_COLOR", "CLICOLOR_FORCE", "JITSI_AUDIT_SIGN_KEY_PASSPHRASE")
    }
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), NO_COLOR="1", COLUMNS="120", PYTHONIOENCODING="utf-8")
    return env


@dataclass
class Started:
    """A CLI run in progress (see start_cli / finish_cli)."""

    args: list[str]
    workdir: Path
    proc: subprocess.Popen[bytes]
    before: set[Path]
    timeout: float


def start_cli(
    args: Sequence[str],
    workdir: Path,
    *,
    debug_logging: bool = True,
    timeout: float = HANG_GUARD,
    prefix: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Started:
    """Start `jitsi-audit ARGS` in `workdir` (stdout and stderr go to files there)."""
    workdir.mkdir(parents=True, exist_ok=True)
    before = {p for p in workdir.rglob("*") if p.is_file()}
    argv = [*prefix, sys.executable, "-c", _RUNNER, "--debug-logging" if debug_logging else "--plain", *args]
    with open(workdir / ".stdout", "wb") as out, open(workdir / ".stderr", "wb") as err:
        proc = subprocess.Popen(
            argv,
            cwd=workdir,
            env=dict(env) if env is not None else clean_env(workdir / "home"),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    return Started(list(args), workdir, proc, before | {workdir / ".stdout", workdir / ".stderr"}, timeout)


def finish_cli(started: Started) -> CliRun:
    """Wait for a started run (hang guard: its timeout) and collect what it wrote."""
    try:
        started.proc.wait(timeout=started.timeout)
    except subprocess.TimeoutExpired:
        started.proc.kill()  # our own child, by its handle
        started.proc.wait()
        tail = (started.workdir / ".stderr").read_bytes()[-2000:].decode(errors="replace")
        raise AssertionError(
            f"hang guard: jitsi-audit {started.args} still running after {started.timeout:g} s\n{tail}"
        ) from None
    workdir = started.workdir
    run = CliRun(
        started.args,
        started.proc.returncode,
        (workdir / ".stdout").read_bytes().decode("utf-8", errors="replace"),
        (workdir / ".stderr").read_bytes().decode("utf-8", errors="replace"),
        workdir,
    )
    for path in sorted(workdir.rglob("*")):
        rel = path.relative_to(workdir)
        if path.is_file() and path not in started.before and rel.parts[0] != "home":
            run.files[str(rel)] = path.read_bytes()
    return run


def run_cli(
    args: Sequence[str],
    workdir: Path,
    *,
    debug_logging: bool = True,
    timeout: float = HANG_GUARD,
    prefix: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> CliRun:
    """Run `jitsi-audit ARGS` in `workdir` and collect what it wrote there."""
    started = start_cli(args, workdir, debug_logging=debug_logging, timeout=timeout, prefix=prefix, env=env)
    return finish_cli(started)


def report_args(*, evidence: bool = True, snapshot: bool = True) -> list[str]:
    """Every output of a run: all report formats, table on stdout, saved snapshot, evidence bundle."""
    args: list[str] = []
    for name in REPORT_FILES.values():
        args += ["-o", name]
    if snapshot:
        args += ["--save-snapshot", "snapshot.json"]
    if evidence:
        args += ["--evidence", "evidence.tar.gz"]
    return args


# -- searching outputs ---------------------------------------------------------------------------
def expand_archives(name: str, data: bytes) -> list[tuple[str, bytes]]:
    """The bytes of an output and, for gzip/tar outputs, of everything inside (recursively, bounded)."""
    out = [(name, data)]
    if data[:2] == b"\x1f\x8b":
        try:
            inner = gzip.decompress(data)
        except (OSError, EOFError):
            return out
        out.append((f"{name}!gunzip", inner))
        data = inner
    if len(data) > 262 and data[257:262] == b"ustar":
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for member in tar.getmembers():
                handle = tar.extractfile(member) if member.isfile() else None
                if handle is not None:
                    out += expand_archives(f"{name}!{member.name}", handle.read())
    return out


def _b64_forms(raw: bytes) -> set[bytes]:
    """Base64 of `raw` as it appears inside any larger base64 text, whatever its offset (mod 3)."""
    forms: set[bytes] = set()
    for offset in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            enc = encode(b"\0" * offset + raw)
            core = enc[4 if offset else 0 : -4]  # drop the groups that depend on neighbouring bytes
            if len(core) >= 8:
                forms.add(core)
    return forms


NEEDLE_KINDS = (
    "plain",
    "UTF-16",
    "hex (lower and upper case)",
    "base64 and base64url at every alignment",
    "URL-encoded",
    "JSON-escaped",
    "HTML entities",
)


def needle_forms(secret: str) -> dict[bytes, str]:
    """Byte patterns that betray `secret`: plain, UTF-16, hex, base64 (any alignment), URL- and JSON-escaped."""
    raw = secret.encode()
    forms: dict[bytes, str] = {raw: "plain", secret.encode("utf-16-le"): "utf-16"}
    forms[raw.hex().encode()] = "hex"
    forms[raw.hex().upper().encode()] = "HEX"
    forms[quote(secret, safe="").encode()] = "url-encoded"
    forms[json.dumps(secret, ensure_ascii=True)[1:-1].encode()] = "json"
    forms[secret.replace("#", "&#35;").replace("@", "&#64;").encode()] = "html-entities"
    for b64 in _b64_forms(raw):
        forms.setdefault(b64, "base64")
    return forms


def find_leaks(secrets: Iterable[str], outputs: Mapping[str, bytes]) -> list[str]:
    """`where: form of secret` for every secret found in any output (archives searched inside)."""
    needles = {form: (secret, kind) for secret in set(secrets) for form, kind in needle_forms(secret).items()}
    leaks: list[str] = []
    for name, data in outputs.items():
        for where, blob in expand_archives(name, data):
            for form, (secret, kind) in needles.items():
                if form in blob:
                    leaks.append(f"{where}: {kind} form of {secret}")
    return sorted(set(leaks))


def canaries_in_tree(root: Path) -> list[str]:
    """CANARY-... values planted in a fixture tree, and their random tails (catch partial redaction)."""
    found: set[str] = set()
    for path in root.rglob("*"):
        if path.is_file():
            found.update(CANARY_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
    tails = {re.split(r"[-#@]", c)[-1] for c in found}
    return sorted(found | {t for t in tails if len(t) >= 8})


PEM_BODY_RE = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\s+(.*?)-----END", re.DOTALL)


def private_key_material(paths: Iterable[Path]) -> list[str]:
    """Lines of base64 key material from PEM/OpenSSH private keys (each long enough to be unique)."""
    found: set[str] = set()
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for body in PEM_BODY_RE.findall(data):
            for line in body.split():
                text = line.decode("ascii", errors="replace")
                if len(text) >= 40 and ":" not in text:
                    found.add(text)
    return sorted(found)


def all_outputs(run: CliRun) -> dict[str, bytes]:
    """stdout, stderr (with the DEBUG log records) and every file written."""
    return {"stdout": run.stdout.encode(), "stderr": run.stderr.encode(), **run.files}
