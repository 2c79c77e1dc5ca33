"""One process-wide pool of TLS connections, shared by every host being probed.

Each connection sslyze or nassl opens holds native memory (OpenSSL contexts and buffers) and a thread
stack while it runs; sslyze's Scanner starts its own threads for every port scanned (a connectivity
tester, a producer and one worker per connection), so a fleet audited at once held hundreds of threads
and their connections. Here every TLS connection of the auditor is one job of this pool: at most
`MAX_CONNECTIONS` at once in the whole process, at most a lane's `limit` for one host, and the lanes
take turns, so 16 hosts share the connections instead of queueing behind each other.

A job must not wait for another job of the pool (only the threads that submit jobs wait), so the pool
cannot deadlock on itself.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

R = TypeVar("R")
# Concurrent TLS connections (and pool threads) in the whole process, ~0.1 MB each: 16 hosts at their
# default budget (--max-connections 10, two of them kept for HTTP/XMPP) fit; more hosts take turns.
# Measured on the lab (benchmarks/run.py, 16 hosts at once, +50 ms): 64 -> 13.2 s and 137 MB peak,
# 128 -> 11.0 s and 144 MB.
MAX_CONNECTIONS = 128
IDLE_SECONDS = 2.0  # a pool thread without work for this long exits


class Lane:
    """The jobs of one host: at most `limit` of them run at once."""

    def __init__(self, pool: TlsPool, limit: int) -> None:
        self.pool = pool
        self.limit = max(1, limit)
        self.running = 0
        self.jobs: deque[tuple[Future[Any], Callable[[], Any]]] = deque()

    def submit(self, fn: Callable[..., R], *args: Any, first: bool = False) -> Future[R]:
        """Queue fn(*args); `first`: ahead of this lane's other queued jobs (a chain's next step)."""
        future: Future[R] = Future()
        self.pool._put(self, future, lambda: fn(*args), first)
        return future

    def set_limit(self, limit: int) -> None:
        """Allow `limit` jobs at once from now on (queued jobs start at once when it is raised)."""
        self.pool._set_limit(self, limit)


class TlsPool:
    def __init__(self, max_connections: int = MAX_CONNECTIONS, idle_seconds: float = IDLE_SECONDS) -> None:
        self.max_connections = max(1, max_connections)
        self.idle_seconds = idle_seconds
        self._cond = threading.Condition()
        self._lanes: deque[Lane] = deque()  # lanes with queued jobs, in turn order
        self._threads = 0
        self._idle = 0
        self.peak_running = 0  # the most jobs that ran at once (for measurements)
        self._running = 0

    def lane(self, limit: int) -> Lane:
        return Lane(self, limit)

    def _put(self, lane: Lane, future: Future[Any], call: Callable[[], Any], first: bool = False) -> None:
        with self._cond:
            if first:
                lane.jobs.appendleft((future, call))
            else:
                lane.jobs.append((future, call))
            if lane not in self._lanes:
                self._lanes.append(lane)
            if self._idle:
                self._cond.notify()
            elif self._threads < self.max_connections:
                self._threads += 1
                threading.Thread(target=self._work, daemon=True, name="jaudit-tls").start()

    def _set_limit(self, lane: Lane, limit: int) -> None:
        with self._cond:
            lane.limit = max(1, limit)
            if not lane.jobs:
                return
            if lane not in self._lanes:
                self._lanes.append(lane)
            self._cond.notify_all()
            wanted = min(len(lane.jobs), lane.limit - lane.running) - self._idle
            for _ in range(max(0, min(wanted, self.max_connections - self._threads))):
                self._threads += 1
                threading.Thread(target=self._work, daemon=True, name="jaudit-tls").start()

    def _next(self) -> tuple[Lane, Future[Any], Callable[[], Any]] | None:
        """The next job of the first lane (in turn order) below its limit; that lane goes last."""
        for _ in range(len(self._lanes)):
            lane = self._lanes.popleft()
            if lane.running < lane.limit and lane.jobs:
                future, call = lane.jobs.popleft()
                if lane.jobs:
                    self._lanes.append(lane)
                return lane, future, call
            if lane.jobs:
                self._lanes.append(lane)
        return None

    def _work(self) -> None:
        while True:
            with self._cond:
                job = self._next()
                while job is None:
                    self._idle += 1
                    woken = self._cond.wait(self.idle_seconds)
                    self._idle -= 1
                    job = self._next()
                    if job is None and not woken:
                        self._threads -= 1
                        return
                lane, future, call = job
                lane.running += 1
                self._running += 1
                self.peak_running = max(self.peak_running, self._running)
            try:
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(call())
                    except BaseException as exc:  # handed to whoever waits for the job
                        future.set_exception(exc)
            finally:
                with self._cond:
                    lane.running -= 1
                    self._running -= 1
                    if lane.jobs and lane not in self._lanes:
                        self._lanes.append(lane)
                    if lane.jobs:
                        self._cond.notify()


POOL = TlsPool()
