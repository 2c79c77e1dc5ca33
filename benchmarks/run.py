#!/usr/bin/env python3
"""Benchmark jitsi-audit on the project's lab and compare it with sslyze, testssl.sh and ssh-audit.

Prints figures; asserts nothing about time. Needs root (the lab: tests/lab). From the repository:

    sudo .venv/bin/python benchmarks/run.py                      # everything (testssl.sh takes ~1 min)
    sudo .venv/bin/python benchmarks/run.py --fleets 1,4 --repeat 1 --no-testssl --json out.json

What is measured, all as wall time of a fresh process (what a user waits for), with the child's
CPU time and peak RSS from wait4() (the largest process) and sampled from /proc (the whole process tree).
Every tool is started through GNU time (/usr/bin/time, Debian package `time`): a process execed from
this runner starts with the runner's resident set as its peak (Linux carries it over at exec), so the
tool is forked by GNU time's ~1-2 MB process instead, and its peak RSS is GNU time's %M:
1. one full audit of one lab host (SSH collection, TLS on every TLS port that answers, HTTP,
   exposure, XMPP), and in the same run, interleaved: sslyze's own CLI on port 443 alone
   (`python -m sslyze 'DOMAIN:443{ADDR}'`), ssh-audit on the SSH port, testssl.sh on 443
   (Debian packages testssl.sh and ssh-audit, installed with apt-get when missing);
2. SSH sessions and exec requests per audit, from the lab's command log (every session of the
   audit account goes through a logging ForceCommand);
3. fleets of 1, 4 and 16 lab hosts audited by one run (--inventory, --max-hosts N);
4. the same fleets behind 50 ms of added latency (the lab's slow-link mechanism: tc netem, or
   its userspace delay wire when the kernel has no netem);
5. one host behind 1, 5 and 10 ms of added latency: the full audit against sslyze's CLI on 443.
Lab hosts are named `<prefix>-N` / `<prefix>d-N` / `<prefix>r-MS`, started for the run and stopped at its end
(--keep leaves them up). A host is never probed after it was stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PY = sys.executable
# What a user runs: the installed console script (it ends without the interpreter's teardown).
_SCRIPT = Path(PY).parent / "jitsi-audit"
AUDIT = [str(_SCRIPT)] if _SCRIPT.exists() else [PY, "-c", "import sys; from auditor.cli import entry; entry()"]


@dataclass
class Run:
    what: str
    wall: float
    cpu: float  # user + sys of the tool and its reaped children (testssl.sh's work), and GNU time's ~2 ms
    rss_mb: float  # the tool's own peak resident set (GNU time's wait4: the largest single process)
    code: int
    note: str = ""
    tree_mb: float = 0.0  # peak of the summed resident sets of the child and all its descendants (sampled)
    machine_cpu: float = 0.0  # CPU seconds the whole machine spent meanwhile (/proc/stat): the tool + the lab
    lab: dict[str, float] = field(default_factory=dict)  # lab daemons' CPU seconds meanwhile, by kind


@dataclass
class Report:
    variant: str
    single: dict[str, list[Run]] = field(default_factory=dict)
    single_delayed: dict[str, list[Run]] = field(default_factory=dict)
    # added latency in ms -> the full audit and sslyze's CLI on one host behind it
    rtt: dict[str, dict[str, list[Run]]] = field(default_factory=dict)
    exec_requests: dict[str, Any] = field(default_factory=dict)
    fleets: dict[str, list[Run]] = field(default_factory=dict)
    breakdown: dict[str, Any] = field(default_factory=dict)
    tools: dict[str, str] = field(default_factory=dict)


# GNU time forks the tool from its own small process and reports the tool's wait4() peak RSS (%M, KB).
# ru_maxrss of a process forked or vforked from this runner and then execed starts at the runner's resident
# set (Linux keeps the old address space's high-water mark at exec): a `sleep 1` timed directly would show
# the runner's 50-85 MB. -q: no "Command exited with non-zero status" line.
LAUNCHER = "/usr/bin/time"


def timed(what: str, argv: list[str], *, cwd: Path | None = None, timeout: float = 900) -> Run:
    """Run argv as a fresh process, forked by GNU time: wall time and CPU from this runner (wait4 of the
    launcher: the tool, its reaped children and GNU time's own ~2 ms), peak RSS the tool's own (GNU time's
    %M), the tree's summed RSS sampled from /proc without the launcher."""
    fd, rss_file = tempfile.mkstemp(prefix="jaudit-bench-rss-")
    os.close(fd)
    busy_before = machine_busy()
    start = time.monotonic()
    proc = subprocess.Popen([LAUNCHER, "-q", "-f", "%M", "-o", rss_file, "--", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=cwd, start_new_session=True)
    deadline = start + timeout
    done = threading.Event()
    tree_kb = [0]

    def sample() -> None:  # beside the blocking wait4(), which then sees the exit at once (no polling step)
        while not done.wait(0.005):
            tree_kb[0] = max(tree_kb[0], tree_rss_kb(proc.pid, include_root=False))
            if time.monotonic() > deadline and not done.is_set():
                os.killpg(proc.pid, signal.SIGKILL)  # the launcher and the tool: one process group
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    done.set()
    sampler.join()
    machine = machine_busy() - busy_before
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace").strip().splitlines() if proc.stderr else []
    if proc.stderr:
        proc.stderr.close()
    try:
        rss_kb = int(Path(rss_file).read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        rss_kb = 0  # the tool never ran (GNU time could not start it, or was killed)
    finally:
        Path(rss_file).unlink(missing_ok=True)
    # wait4 of the launcher: the tool's CPU with that of its reaped children (testssl.sh's work is in them)
    return Run(what, round(wall, 3), round(usage.ru_utime + usage.ru_stime, 3), round(rss_kb / 1024, 1),
               proc.returncode, err[-1][:160] if err and proc.returncode not in (0, 1, 3) else "",
               round(max(tree_kb[0], rss_kb) / 1024, 1), round(machine, 2))


def machine_busy() -> float:
    """CPU seconds spent by every process of the machine since boot (all cores, idle and iowait excluded).

    The lab's hosts run on the same CPUs as the tool: over a run, this minus the tool's own CPU is what
    the lab's daemons (sshd and the collector, nginx, prosody, coturn) and anything else took."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(x) for x in fields]
    busy = sum(ticks[:8]) - ticks[3] - ticks[4]  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def tree_rss_kb(root: int, include_root: bool = True) -> int:
    """Resident set of `root` plus every descendant right now, from /proc (0 once it is gone); without
    `root`'s own with include_root=False (the launcher).

    wait4()'s ru_maxrss is the largest single process, so a tool that spreads its work over worker
    processes would look smaller than it is; the summed tree is what the machine has to hold."""
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            if pid != root or include_root:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def _proc_cpu(pid: int) -> tuple[float, list[int]]:
    """utime+stime+cutime+cstime of `pid` (its reaped children included) and its live children."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2:].split()
        ticks = sum(int(x) for x in fields[11:15])
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
    except (OSError, ValueError):
        return 0.0, []
    return ticks / os.sysconf("SC_CLK_TCK"), children


def lab_cpu(hosts: list[Any]) -> dict[str, float]:
    """CPU seconds so far of each kind of lab daemon over `hosts`, their process trees included (sshd's
    covers every audit session and the collector it ran, once reaped)."""
    from tests.lab.model import LAB_DIR

    kinds = {"jicofo": "stand-ins", "jvb": "stand-ins", "sshd": "sshd + collector"}
    out: dict[str, float] = {}
    for host in hosts:
        try:
            state = json.loads((LAB_DIR / host.name / "state.json").read_text())
        except (OSError, ValueError):
            continue
        for daemon in state.get("daemons", []):
            todo, seen, total = [int(daemon["pid"])], set(), 0.0
            while todo:
                pid = todo.pop()
                if pid not in seen:
                    seen.add(pid)
                    cpu, children = _proc_cpu(pid)
                    total += cpu
                    todo += children
            kind = kinds.get(daemon["name"], daemon["name"])
            out[kind] = out.get(kind, 0.0) + total
    return out


def ensure_tools(install: bool) -> dict[str, str]:
    missing = [pkg for tool, pkg in (("testssl", "testssl.sh"), ("ssh-audit", "ssh-audit"), (LAUNCHER, "time"))
               if not shutil.which(tool)]
    if missing and install:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", *missing], env=env, check=False,
                       stdout=subprocess.DEVNULL)
    versions = {}
    for pkg in ("testssl.sh", "ssh-audit"):
        out = subprocess.run(["dpkg-query", "-W", "--showformat=${Version}", pkg], capture_output=True, text=True)
        versions[pkg] = f"Debian {out.stdout}" if out.returncode == 0 and out.stdout else "missing"
    from sslyze.__version__ import __version__ as sslyze_version

    versions["sslyze"] = str(sslyze_version)
    return versions


def lab_hosts(prefix: str, variant: str, count: int, delay_ms: int | None) -> list[Any]:
    from tests.lab import up

    hosts = []
    for i in range(1, count + 1):
        hosts.append(up(variant, f"{prefix}-{i}", delay_ms=delay_ms, verbose=False))
    return hosts


def lab_down(prefix: str, count: int) -> None:
    from tests.lab import down

    for i in range(1, count + 1):
        down(f"{prefix}-{i}")


def inventory(hosts: list[Any], directory: Path) -> tuple[Path, Path]:
    """An Ansible INI inventory of the lab hosts and one known_hosts file for all of them."""
    known = directory / "known_hosts"
    known.write_text("".join(Path(h.known_hosts).read_text() for h in hosts))
    lines = ["[lab]"]
    for h in hosts:
        lines.append(f"{h.name} ansible_host={h.address} ansible_port={h.ssh_port} ansible_user={h.ssh_user} "
                     f"ansible_ssh_private_key_file={h.ssh_key} jitsi_audit_domain={h.domain} "
                     f"jitsi_audit_ca_bundle={h.ca_cert}")
    inv = directory / f"lab-{len(hosts)}.ini"
    inv.write_text("\n".join(lines) + "\n")
    return inv, known


def audit_argv(inv: Path, known: Path, n: int, out: Path) -> list[str]:
    return [*AUDIT, "--inventory", str(inv), "--known-hosts", str(known), "--max-hosts", str(n),
            "-f", "json", "-o", str(out), "-q"]


def exec_log(host: Any) -> list[dict[str, Any]]:
    path = Path(host.command_log)
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


# the tools compared on one host, as the report names them
FULL_AUDIT, SSLYZE_443, SSH_AUDIT = "jitsi-audit (full audit)", "sslyze CLI (443 only)", "ssh-audit (SSH only)"


def audit_against_sslyze(host: Any, work: Path, out: Path, repeat: int,
                         ssh_audit: bool = False) -> dict[str, list[Run]]:
    """The full audit of `host` and sslyze's CLI on its 443 (and ssh-audit on its SSH port), fresh
    processes: the audit and sslyze run once first to warm the page cache, then `repeat` rounds of
    all of them interleaved."""
    inv, known = inventory([host], work)
    web = f"{host.domain}:{host.web_port}{{{host.address}}}"
    argvs = {FULL_AUDIT: audit_argv(inv, known, 1, out), SSLYZE_443: [PY, "-m", "sslyze", web]}
    runs: dict[str, list[Run]] = {FULL_AUDIT: [], SSLYZE_443: []}
    if ssh_audit:
        runs[SSH_AUDIT] = []
        if shutil.which("ssh-audit"):
            argvs[SSH_AUDIT] = ["ssh-audit", "-p", str(host.ssh_port), host.address]
    timed("warm", argvs[FULL_AUDIT])
    timed("warm", argvs[SSLYZE_443])
    for _ in range(repeat):
        for name, argv in argvs.items():
            runs[name].append(timed(name.split(" ")[0], argv))
    return runs


def single_host(report: Report, host: Any, work: Path, repeat: int, testssl: bool, delayed: bool = False) -> None:
    out = work / "single.json"
    addr, dom = host.address, host.domain
    before = len(exec_log(host))
    runs = audit_against_sslyze(host, work, out, repeat, ssh_audit=True)
    audits = 1 + repeat
    if testssl and shutil.which("testssl"):
        runs["testssl.sh (443 only)"] = [timed("testssl.sh", [
            "testssl", "--quiet", "--color", "0", "--warnings", "off", "--ip", addr, f"{dom}:{host.web_port}"])]
    if delayed:
        report.single_delayed = runs
        return
    report.single = runs
    sessions = exec_log(host)[before:]
    report.exec_requests = {
        "audits": audits,
        "sessions": len(sessions),
        "exec_requests": sum(1 for s in sessions if s.get("kind") == "exec"),
        "other_sessions": sorted({s.get("kind", "?") for s in sessions if s.get("kind") != "exec"}),
        "per_audit": round(len(sessions) / audits, 2),
        "commands": sorted({str(s.get("command")) for s in sessions}),
    }
    data = json.loads(out.read_text())
    target = data["targets"][0]
    live = (target.get("probes") or {}).get("live") or {}
    report.breakdown = {
        "target_seconds": _seconds(target["started_at"], target["finished_at"]),
        "probes_seconds": live.get("seconds"),
        "probe_runs": {r["name"]: r["seconds"] for r in live.get("runs", [])},
        "tls_ports": {str(e["port"]): [e["status"], e["seconds"], e.get("suite_scan")]
                      for e in (live.get("tls") or {}).get("endpoints", [])},
        "complete": target["complete"],
        "checks": len(target["findings"]),
    }


def rtt_sweep(report: Report, variant: str, prefix: str, delays: list[int], work: Path, repeat: int,
              keep: bool) -> None:
    """One host behind each added latency in turn: the full audit and sslyze's CLI on 443, interleaved.
    Where the two cross tells from what round trip on the audit is the faster (hundreds of sslyze
    handshakes each pay the round trip; the audit's elimination makes one per accepted suite)."""
    from tests.lab import down, up

    for delay in delays:
        name = f"{prefix}r-{delay}"
        host = up(variant, name, delay_ms=delay, verbose=False)
        try:
            report.rtt[str(delay)] = audit_against_sslyze(host, work, work / f"rtt-{delay}.json", repeat)
        finally:
            if not keep:
                down(name)


def _seconds(a: str, b: str) -> float:
    from datetime import datetime

    return round((datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds(), 3)


def fleets(report: Report, label: str, hosts: list[Any], sizes: list[int], work: Path, repeat: int,
           bounded: int) -> None:
    """Each fleet size with every host at once (--max-hosts N); the largest also with --max-hosts `bounded`."""
    plan = [(n, n) for n in sizes] + ([(sizes[-1], bounded)] if bounded and bounded < sizes[-1] else [])
    for n, at_once in plan:
        inv, known = inventory(hosts[:n], work)
        out = work / f"fleet-{label}-{n}.json"
        runs = []
        for _ in range(repeat):
            before = lab_cpu(hosts[:n])
            run = timed(f"{n} hosts", audit_argv(inv, known, at_once, out))
            after = lab_cpu(hosts[:n])
            run.lab = {k: round(after[k] - before.get(k, 0.0), 2) for k in sorted(after)}
            data = json.loads(out.read_text())
            done = sum(1 for t in data["targets"] if t["complete"])
            run.note = f"{done}/{len(data['targets'])} complete, --max-hosts {at_once}"
            runs.append(run)
        report.fleets[f"{label}:{n}" + ("" if at_once == n else f"/{at_once}")] = runs


def med(runs: list[Run], attr: str) -> float:
    return round(float(statistics.median(float(getattr(r, attr)) for r in runs)), 2)


def show_single(title: str, single: dict[str, list[Run]]) -> None:
    print(f"\n== {title} (medians)")
    print(f"{'tool':34} {'wall s':>8} {'cpu s':>8} {'machine s':>10} {'peak RSS MB':>12} {'tree MB':>8} {'runs':>5}")
    for name, runs in single.items():
        if runs:
            print(f"{name:34} {med(runs, 'wall'):8.2f} {med(runs, 'cpu'):8.2f} {med(runs, 'machine_cpu'):10.2f} "
                  f"{med(runs, 'rss_mb'):12.1f} "
                  f"{med(runs, 'tree_mb'):8.1f} {len(runs):5}")
    audit = single.get(FULL_AUDIT) or []
    sslyze = single.get(SSLYZE_443) or []
    if audit and sslyze:
        print(f"full audit / sslyze CLI on 443: {med(audit, 'wall') / med(sslyze, 'wall'):.2f}x")


def show(report: Report) -> None:
    show_single(f"one full audit of one {report.variant} lab host, and the peers on the same host", report.single)
    if report.single_delayed:
        show_single(f"the same behind {report.tools.get('delay', 'added latency')}", report.single_delayed)
    b = report.breakdown
    if b:
        print(f"inside the audit: target {b['target_seconds']} s (collection and probes side by side), "
              f"probes {b['probes_seconds']} s: " + ", ".join(f"{k} {v}" for k, v in b["probe_runs"].items()))
        print("  TLS ports: " + ", ".join(f"{p} {s[0]} {s[1]} s" for p, s in b["tls_ports"].items()))
    e = report.exec_requests
    if e:
        print(f"SSH: {e['sessions']} sessions for {e['audits']} audits = {e['per_audit']} per audit; exec requests "
              f"{e['exec_requests']}; other session kinds: {e['other_sessions'] or 'none'}; commands: {e['commands']}")
    if report.rtt:
        print("\n== one host behind added latency (medians): full audit against sslyze's CLI on 443 alone")
        print(f"{'added latency':14} {'audit wall s':>13} {'sslyze wall s':>14} {'audit / sslyze':>15}")
        for delay, by_tool in report.rtt.items():
            a_s, s_s = med(by_tool[FULL_AUDIT], "wall"), med(by_tool[SSLYZE_443], "wall")
            print(f"{'+' + delay + ' ms':14} {a_s:13.2f} {s_s:14.2f} {a_s / s_s:14.2f}x")
    print("\n== fleets (one run, --max-hosts N; medians)")
    print(f"{'fleet':18} {'wall s':>8} {'x one':>7} {'cpu s':>8} {'machine s':>10} {'floor s':>8} "
          f"{'peak RSS MB':>12} {'tree MB':>8}  targets")
    for key, runs in report.fleets.items():
        label, n = key.split(":")
        one = report.fleets.get(f"{label}:1")
        n = n.split("/")[0]
        ratio = med(runs, "wall") / med(one, "wall") if one else float("nan")
        cores = os.cpu_count() or 1
        print(f"{label + ' x' + n:18} {med(runs, 'wall'):8.2f} {ratio:7.2f} {med(runs, 'cpu'):8.2f} "
              f"{med(runs, 'machine_cpu'):10.2f} {med(runs, 'machine_cpu') / cores:8.2f} "
              f"{max(r.rss_mb for r in runs):12.1f} {max(r.tree_mb for r in runs):8.1f}  {runs[-1].note}")
    for key, runs in report.fleets.items():
        if runs[-1].lab:
            print(f"  lab CPU during {key}: " + ", ".join(
                f"{k} {statistics.median(r.lab.get(k, 0.0) for r in runs):.2f} s" for k in runs[-1].lab))
    print("machine s: CPU of the whole machine during the run (the tool and the lab's daemons on the same "
          "CPUs); floor s: that spread over every core, the least wall time the run could take here")
    show_targets(report)
    print("\ntools: " + ", ".join(f"{k} {v}" for k, v in report.tools.items()))


def show_targets(report: Report) -> None:
    """Issue #8's targets against this run's medians (figures only: nothing is asserted)."""
    print("\n== targets (issue #8)")

    def line(what: str, ok: bool | None, figures: str) -> None:
        verdict = "n/a" if ok is None else ("reached" if ok else "NOT reached")
        print(f"{what:58} {verdict:12} {figures}")

    singles = [("direct", report.single), ("delayed", report.single_delayed),
               *((f"+{delay} ms", runs) for delay, runs in report.rtt.items())]
    for title, single in singles:
        audit, sslyze = single.get(FULL_AUDIT) or [], single.get(SSLYZE_443) or []
        if audit and sslyze:
            a, b = med(audit, "wall"), med(sslyze, "wall")
            line(f"one full audit <= sslyze CLI on 443 alone ({title})", a <= b, f"{a:.2f} s vs {b:.2f} s")
    e = report.exec_requests
    if e:
        per = e["exec_requests"] / max(1, e["audits"])
        line("at most 2 SSH exec requests per host", per <= 2, f"{per:.2f} exec requests per audit")
    sizes: dict[str, list[int]] = {}
    for key in report.fleets:
        label, n = key.split(":")
        if "/" not in n:
            sizes.setdefault(label, []).append(int(n))
    for label, ns in sizes.items():
        one, big = report.fleets.get(f"{label}:1"), max(ns)
        if one and big > 1:
            ratio = med(report.fleets[f"{label}:{big}"], "wall") / med(one, "wall")
            line(f"{big} hosts in at most 3x the time of one ({label})", ratio <= 3, f"{ratio:.2f}x")
        runs = report.fleets.get(f"{label}:{big}")
        if runs and big >= 16:
            peak = max(max(r.rss_mb, r.tree_mb) for r in runs)
            line(f"peak RSS under 150 MB for {big} hosts ({label}, whole process tree)", peak < 150, f"{peak:.0f} MB")


def byte_compile() -> str:
    """Compile the project's modules to bytecode first, as `pip install` does: an editable checkout run with
    PYTHONDONTWRITEBYTECODE=1 (set on some machines) would otherwise compile every module from source
    in every run (~0.3 s of CPU here), which no installed copy does. sslyze and the other peers come
    byte-compiled from their own installation."""
    run = subprocess.run([PY, "-m", "compileall", "-q", "-j", "0", str(ROOT / "auditor"), str(ROOT / "checks")],
                         capture_output=True, text=True, check=False)
    state = "compiled (compileall)" if run.returncode == 0 else f"compileall failed: {run.stderr.strip()[:200]}"
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        state += "; PYTHONDONTWRITEBYTECODE is set"
    return state


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", default="legacy-2020", help="lab variant of every host (default legacy-2020)")
    ap.add_argument("--fleets", default="1,4,16", help="fleet sizes (default 1,4,16)")
    ap.add_argument("--delay-ms", type=int, default=50, help="added latency for the slow fleets; 0 skips them")
    ap.add_argument("--rtt-ms", default="1,5,10",
                    help="one host behind each of these added latencies: the audit against sslyze's CLI "
                         "(default 1,5,10; empty skips)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement (medians are shown)")
    ap.add_argument("--no-testssl", action="store_true", help="skip testssl.sh (about a minute per run)")
    ap.add_argument("--no-install", action="store_true", help="do not apt-get install missing peers")
    ap.add_argument("--prefix", default="bench", help="lab host name prefix")
    ap.add_argument("--bounded", type=int, default=4,
                    help="also audit the largest fleet with --max-hosts N (default 4; 0 skips)")
    ap.add_argument("--keep", action="store_true", help="leave the lab hosts up")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("benchmarks/run.py needs root (the lab)", file=sys.stderr)
        return 2
    sizes = sorted({int(x) for x in args.fleets.split(",") if x.strip()})
    report = Report(args.variant, tools=ensure_tools(not args.no_install))
    if not shutil.which(LAUNCHER):
        print(f"benchmarks/run.py measures every tool through GNU time: {LAUNCHER} is missing (apt-get install time)",
              file=sys.stderr)
        return 2
    report.tools["peak RSS"] = f"the tool's own, from GNU time's %M ({LAUNCHER} forks it)"
    report.tools["bytecode"] = byte_compile()
    report.tools["cpus"] = str(os.cpu_count())
    report.tools["load average at start"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="jaudit-bench-"))
    plain = f"{args.prefix}"
    slow = f"{args.prefix}d"
    try:
        t = time.monotonic()
        hosts = lab_hosts(plain, args.variant, max(sizes), None)
        print(f"lab: {len(hosts)} {args.variant} hosts up in {time.monotonic() - t:.1f} s", file=sys.stderr)
        single_host(report, hosts[0], work, args.repeat, not args.no_testssl)
        fleets(report, "direct", hosts, sizes, work, args.repeat, args.bounded)
        if not args.keep:
            lab_down(plain, max(sizes))
        delays = sorted({int(x) for x in args.rtt_ms.split(",") if x.strip()})
        if delays:
            rtt_sweep(report, args.variant, args.prefix, delays, work, args.repeat, args.keep)
        if args.delay_ms:
            t = time.monotonic()
            slow_hosts = lab_hosts(slow, args.variant, max(sizes), args.delay_ms)
            link = slow_hosts[0].link
            print(f"lab: {len(slow_hosts)} hosts with +{args.delay_ms} ms ({link}) up in {time.monotonic() - t:.1f} s",
                  file=sys.stderr)
            report.tools["delay"] = f"+{args.delay_ms} ms towards each host ({link})"
            single_host(report, slow_hosts[0], work, args.repeat, False, delayed=True)
            fleets(report, f"+{args.delay_ms}ms", slow_hosts, sizes, work, args.repeat, args.bounded)
            if not args.keep:
                lab_down(slow, max(sizes))
    finally:
        if not args.keep:
            lab_down(plain, max(sizes))
            if args.delay_ms:
                lab_down(slow, max(sizes))
        shutil.rmtree(work, ignore_errors=True)
    show(report)
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
