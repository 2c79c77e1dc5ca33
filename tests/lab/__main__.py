"""python -m tests.lab up VARIANT [--name N] [--delay-ms MS] | down [--name N | --all] | status | variants"""

from __future__ import annotations

import argparse
import json
import sys

from .lab import down, down_all, status, up
from .model import LabError
from .variants import VARIANTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lab", description="jitsi-audit lab hosts")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up", help="start a lab host (idempotent)")
    p_up.add_argument("variant", choices=sorted(VARIANTS))
    p_up.add_argument("--name", help="host name (default: the variant)")
    p_up.add_argument("--delay-ms", type=int, default=None, help="added link latency (slow-link: 50)")
    p_up.add_argument("--json", action="store_true", help="print the host's state as JSON")
    p_down = sub.add_parser("down", help="stop lab hosts and remove everything they created")
    group = p_down.add_mutually_exclusive_group()
    group.add_argument("--name")
    group.add_argument("--all", action="store_true", help="every host (the default)")
    p_status = sub.add_parser("status", help="list running hosts")
    p_status.add_argument("--json", action="store_true")
    sub.add_parser("variants", help="list the variants")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "up":
            host = up(args.variant, args.name, delay_ms=args.delay_ms)
            if args.json:
                print(json.dumps(host.to_json(), indent=2))
            else:
                print(
                    f"{host.name}\t{host.variant}\t{host.address}\t{host.domain}\tssh -i {host.ssh_key} "
                    f"-o UserKnownHostsFile={host.known_hosts} -p {host.ssh_port} "
                    f"{host.ssh_user}@{host.address}"
                )
        elif args.cmd == "down":
            if args.name:
                down(args.name)
                print(f"down: {args.name}")
            else:
                names = down_all()
                print(f"down: {', '.join(names) if names else '(nothing was up)'}")
        elif args.cmd == "status":
            rows = status()
            if args.json:
                print(
                    json.dumps(
                        [{"name": n, "problems": p, "host": h.to_json() if h else None} for h, n, p in rows],
                        indent=2,
                    )
                )
            elif not rows:
                print("no lab host is up")
            else:
                for running, name, problems in rows:
                    where = f"{running.variant}\t{running.address}\t{running.domain}" if running else "-"
                    print(f"{name}\t{where}\t{'ok' if not problems else '; '.join(problems)}")
        else:
            for v in VARIANTS.values():
                print(f"{v.name:18} {v.summary}")
    except LabError as exc:
        print(f"jitsi-lab: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
