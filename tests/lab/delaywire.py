"""A slow wire between two TAP devices, for kernels without sch_netem (tc netem).

Usage: delaywire.py HOSTDEV NSDEV DELAY_MS

Creates the TAP devices HOSTDEV and NSDEV (the lab then moves NSDEV into the host's namespace) and
copies Ethernet frames between them; frames travelling towards NSDEV are held DELAY_MS first, which
is what `tc qdisc add dev HOSTDEV root netem delay DELAY_MS` would do on a veth. The devices vanish
when this process ends. Standard library only (runs with the system python3).
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import os
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def open_tap(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def drain(fd: int, limit: int = 256) -> list[bytes]:
    """Every frame waiting on `fd` (at most `limit`): one wake-up per burst instead of one per frame,
    which is most of this process's CPU in a benchmark fleet of 16 delayed hosts."""
    frames: list[bytes] = []
    while len(frames) < limit:
        try:
            frames.append(os.read(fd, 65536))
        except BlockingIOError:
            break
        except OSError:
            break  # the peer device is down or being moved: drop, like a cable would
    return frames


def main() -> None:
    host_dev, ns_dev, delay_ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
    delay = delay_ms / 1000.0
    host_fd, ns_fd = open_tap(host_dev), open_tap(ns_dev)
    print(f"delaywire {host_dev} <-> {ns_dev}, +{delay_ms} ms towards {ns_dev}", flush=True)
    queue: list[tuple[float, int, bytes]] = []  # (due, seq, frame) towards ns_fd
    seq = 0
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        ready, _, _ = select.select([host_fd, ns_fd], [], [], timeout)
        now = time.monotonic()
        for fd in ready:
            for frame in drain(fd):
                if fd == host_fd:
                    seq += 1
                    heapq.heappush(queue, (now + delay, seq, frame))
                else:
                    with contextlib.suppress(OSError):
                        os.write(host_fd, frame)
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, frame = heapq.heappop(queue)
            with contextlib.suppress(OSError):
                os.write(ns_fd, frame)


if __name__ == "__main__":
    main()
