"""Small socket and thread helpers shared by the probes. Every blocking call here has a timeout."""

from __future__ import annotations

import errno
import os
import queue
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_UNPRINTABLE = re.compile(r"[^\x20-\x7e]+")


def sanitize(data: bytes | str, limit: int = 120) -> str:
    """Printable, single-line, bounded text of what a server sent."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    text = _UNPRINTABLE.sub(" ", text).strip()
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def host_for_url(address: str) -> str:
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def resolve(name: str) -> str:
    """One address for `name`, IPv4 preferred."""
    infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    v4 = [i for i in infos if i[0] == socket.AF_INET]
    chosen = (v4 or infos)[0]
    return str(chosen[4][0])


def run_with_deadline(fn: Callable[[], R], timeout: float) -> tuple[str, R | None, BaseException | None]:
    """Run fn in a daemon thread: ("ok", value, None), ("error", None, exc) or ("timeout", None, None).

    A timed-out call keeps running in the background until its own socket timeouts end it; it can
    never keep the process alive."""
    box: queue.Queue[tuple[str, R | None, BaseException | None]] = queue.Queue(maxsize=1)

    def work() -> None:
        try:
            box.put(("ok", fn(), None))
        except BaseException as exc:
            box.put(("error", None, exc))

    threading.Thread(target=work, daemon=True, name="jaudit-probe").start()
    try:
        return box.get(timeout=max(0.01, timeout))
    except queue.Empty:
        return "timeout", None, None


def parallel_map(fn: Callable[[T], R], items: Iterable[T], limit: int, deadline: float) -> list[R | None]:
    """fn over items with at most `limit` at once; items not finished by `deadline` (monotonic) give None."""
    todo = list(items)
    results: list[R | None] = [None] * len(todo)
    next_index = 0
    lock = threading.Lock()
    done = threading.Semaphore(0)

    def worker() -> None:
        nonlocal next_index
        while time.monotonic() < deadline:
            with lock:
                if next_index >= len(todo):
                    break
                i = next_index
                next_index += 1
            try:
                results[i] = fn(todo[i])
            except Exception:
                results[i] = None
        done.release()

    workers = max(1, min(limit, len(todo)))
    for _ in range(workers):
        threading.Thread(target=worker, daemon=True, name="jaudit-probe-pool").start()
    for _ in range(workers):
        if not done.acquire(timeout=max(0.0, deadline - time.monotonic())):
            break
    return list(results)


def tcp_state(address: str, port: int, timeout: float) -> tuple[str, float]:
    """open / closed (RST) / filtered (no answer within timeout) / error, and the seconds it took."""
    start = time.monotonic()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            code = sock.connect_ex((address, port))
        except TimeoutError:
            code = errno.ETIMEDOUT
        except OSError as exc:
            code = exc.errno or -1
    took = time.monotonic() - start
    if code == 0:
        return "open", took
    if code == errno.ECONNREFUSED:
        return "closed", took
    if code in (errno.ETIMEDOUT, errno.EAGAIN, errno.EWOULDBLOCK, errno.EINPROGRESS):
        return "filtered", took
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "filtered", took
    return f"error: {os.strerror(code)}" if code > 0 else "error", took


def converse(address: str, port: int, send: bytes | None, timeout: float, *, first_wait: float = 0.0,
             limit: int = 4096, until: bytes | None = None) -> bytes:
    """Connect, optionally wait for a greeting, send, and read up to `limit` bytes (or until `until`)."""
    got = b""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect((address, port))
        if first_wait > 0:
            sock.settimeout(first_wait)
            try:
                got = sock.recv(limit)
            except TimeoutError:
                got = b""
            sock.settimeout(timeout)
            if got:
                return got
        if send:
            sock.sendall(send)
        end = time.monotonic() + timeout
        while len(got) < limit and time.monotonic() < end:
            try:
                chunk = sock.recv(limit - len(got))
            except TimeoutError:
                break
            if not chunk:
                break
            got += chunk
            if until is not None and until in got:
                break
    return got


STUN_BINDING = b"\x00\x01\x00\x00\x21\x12\xa4\x42"


def udp_stun(address: str, port: int, timeout: float) -> tuple[str, str | None]:
    """Send a STUN binding request: open (answered), closed (ICMP unreachable) or unknown (silence)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    txid = os.urandom(12)
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))
            sock.send(STUN_BINDING + txid)
            data = sock.recv(2048)
        except TimeoutError:
            return "unknown", None
        except ConnectionRefusedError:
            return "closed", None
        except OSError as exc:
            return "error", sanitize(str(exc))
    if len(data) >= 20 and data[:2] == b"\x01\x01" and data[8:20] == txid:
        return "open", "STUN binding response"
    return "open", f"UDP answer ({len(data)} bytes)"
