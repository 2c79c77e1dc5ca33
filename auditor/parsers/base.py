"""What every parser shares: where a value came from and how a parse fails."""

from __future__ import annotations

import ctypes
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import yaml


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the evidence: a file (and line) or a probe/command name."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


class ConfigParseError(Exception):
    """Input that the format's grammar rejects, or that exceeds a safety bound.

    The message is one line, safe to print: it never repeats more than a short excerpt of the input.
    """

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = " ".join(message.split())[:300]
        super().__init__(str(self))

    @property
    def location(self) -> Location:
        return Location(self.path, self.line)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


# A quoted piece of a library's message (a token, a tag, a value): beyond two characters it may be input
# that holds a secret the redaction missed. Event names such as '<block mapping start>' are not input.
# Quotes pair left to right; one left open runs to the end (a message cut short).
_QUOTED_RE = re.compile(r"""(['"`])(?P<inner>[^'"`\r\n]{0,4096})(?:\1|$)""")
_NOT_INPUT_RE = re.compile(r".{0,2}|<[a-z ]{1,40}>", re.DOTALL)


def without_quoted_input(message: str) -> str:
    """`message` (its first line, at most 300 characters) with every quoted piece of input replaced."""
    first = message.strip().split("\n", 1)[0][:300]

    def replace(m: re.Match[str]) -> str:
        return m.group(0) if _NOT_INPUT_RE.fullmatch(m.group("inner")) else m.group(1) + "…" + m.group(1)

    return _QUOTED_RE.sub(replace, first)


# -- shared bounds ---------------------------------------------------------------------------------

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
"""Input size cap every parser applies unless told otherwise (configuration files are small)."""

MAX_DEPTH = 64
"""Deepest nesting of blocks / objects / tables any parser accepts."""


def line_at(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, max(0, offset)) + 1


def prepare_text(text: str, path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Check what every parser needs of its input: text, within the size cap, encodable, no NUL.

    Returns the text without a leading byte-order mark. Text decoded with `surrogateescape` from
    bytes that were not UTF-8 carries lone surrogates: it is rejected here with the line.
    """
    if not isinstance(text, str):
        raise ConfigParseError(path, f"expected text, got {type(text).__name__}")
    if len(text) > max_bytes:  # cheap first: a character is at least one byte
        raise ConfigParseError(path, f"file too large ({len(text)} characters, limit {max_bytes} bytes)")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ConfigParseError(path, "text is not valid UTF-8", line_at(text, exc.start)) from None
    if size > max_bytes:
        raise ConfigParseError(path, f"file too large ({size} bytes, limit {max_bytes})")
    nul = text.find("\x00")
    if nul >= 0:
        raise ConfigParseError(path, "NUL character: not a text file", line_at(text, nul))
    return text.removeprefix("\ufeff")


# PyYAML's safe loader, libyaml's C implementation where PyYAML was built with it: faster, and it refuses a
# nesting deeper than 1000 levels (a RecursionError in the pure-Python loader). One choice for compose
# files, inventories and the line-numbered loader of profiles, waivers and declarations.
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TextBudget:
    """The texts one parse reads file by file as includes name them (nginx, Apache): each within
    `max_bytes` (prepare_text), all of them together within `max_total` characters."""

    def __init__(self, files: Mapping[str, str], max_bytes: int, max_total: int) -> None:
        self.files, self.max_bytes, self.max_total = files, max_bytes, max_total
        self.total = 0

    def read(self, path: str) -> str:
        text = prepare_text(self.files[path], path, self.max_bytes)
        self.total += len(text)
        if self.total > self.max_total:
            raise ConfigParseError(path, f"included files exceed {self.max_total} bytes together")
        return text


def decode_text(data: bytes, path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Strict UTF-8 decoding of collected bytes, the error naming the line of the first bad byte."""
    if len(data) > max_bytes:
        raise ConfigParseError(path, f"file too large ({len(data)} bytes, limit {max_bytes})")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigParseError(path, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line) from None


# -- time bound for pure-Python parsing ---------------------------------------------------------------


class _Expired(BaseException):
    """Raised asynchronously in the parsing thread; BaseException so library `except Exception` misses it."""


_deadline_state = threading.local()
_POLL = 0.02
WALL_FACTOR = 10  # the wall-clock backstop: this many times the CPU budget


def _raise_in_thread(thread_id: int, exc: type[BaseException] | None) -> None:
    # CPython API: schedule (or, with NULL, cancel) an exception in another thread. It is delivered
    # between bytecodes, so it interrupts Python loops but not a single long C call.
    target = ctypes.py_object(exc) if exc is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), target)


def _thread_cpu_clock(thread_id: int) -> Callable[[], float] | None:
    try:
        clock = time.pthread_getcpuclockid(thread_id)
        time.clock_gettime(clock)
    except (AttributeError, OSError):
        return None
    return lambda: time.clock_gettime(clock)


def _stop_watcher(lock: threading.Lock, state: dict[str, bool], finished: threading.Event, thread_id: int) -> None:
    """Mark the body done so the watcher raises no more, and cancel an exception not delivered yet.
    The watcher raises again each poll until `done`, so one of its exceptions may land between the
    body's end and here, or in here: callers call this again on the way out, and here it is retried
    (the next one is a whole poll away, this takes microseconds); else the watcher would go on raising
    into this thread's later code. Idempotent."""
    while True:
        try:
            with lock:
                state["done"] = True
            finished.set()
            if state["fired"]:
                _raise_in_thread(thread_id, None)
            return
        except _Expired:
            continue


@contextmanager
def deadline(seconds: float, path: str) -> Iterator[None]:
    """Abort the enclosed pure-Python parsing with ConfigParseError once it has used `seconds` of CPU
    time (wall time where the platform cannot tell), or `WALL_FACTOR` times that in wall time.

    Libraries such as pyparsing (pyhocon) and crossplane have no time limit of their own. A watcher
    thread raises an exception in this thread when the budget is spent; nothing is left pending
    afterwards. CPU time keeps the bound meaningful on a loaded machine. Nested use is a no-op: the
    outermost deadline governs.
    """
    if getattr(_deadline_state, "active", False) or seconds <= 0:
        yield
        return
    thread_id = threading.get_ident()
    cpu = _thread_cpu_clock(thread_id)
    lock, finished = threading.Lock(), threading.Event()
    state = {"done": False, "fired": False}
    wall_start, cpu_start = time.monotonic(), cpu() if cpu else 0.0

    def watch() -> None:
        while not finished.wait(_POLL):
            wall = time.monotonic() - wall_start
            used = cpu() - cpu_start if cpu else wall
            if used > seconds or wall > seconds * WALL_FACTOR:
                with lock:
                    if state["done"]:
                        return
                    state["fired"] = True
                    _raise_in_thread(thread_id, _Expired)
                # no return: raised again each poll until the body has ended, in case this one landed
                # where it is swallowed (see below)

    watcher = threading.Thread(target=watch, name="parser-deadline", daemon=True)
    _deadline_state.active = True
    try:
        try:
            watcher.start()
            yield
        finally:
            _stop_watcher(lock, state, finished, thread_id)
        if state["fired"]:
            # The budget was spent but the exception landed where it is swallowed (a gc callback, such as
            # the one hypothesis installs, reports it as unraisable and goes on): still reject the input.
            raise _Expired
    except _Expired:
        _stop_watcher(lock, state, finished, thread_id)  # if the exception landed before the inner finally
        raise ConfigParseError(path, f"parsing took longer than {seconds:g} s; input rejected") from None
    finally:
        _deadline_state.active = False
