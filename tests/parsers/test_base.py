from __future__ import annotations

import contextlib
import threading
import time

import pytest

from auditor.parsers._paths import glob_match, is_url, resolve
from auditor.parsers.base import ConfigParseError, deadline, decode_text, line_at, prepare_text
from tests.parsers.helpers import within
from tests.parsers.path_oracle import expand


def test_prepare_text() -> None:
    assert prepare_text("\ufeffa = 1\n", "p") == "a = 1\n"
    with pytest.raises(ConfigParseError, match="too large"):
        prepare_text("é" * 6, "p", max_bytes=10)  # 12 bytes
    with pytest.raises(ConfigParseError, match="expected text"):
        prepare_text(b"a = 1", "p")  # type: ignore[arg-type]
    with pytest.raises(ConfigParseError, match="NUL") as err:
        prepare_text("a\nb\x00", "p")
    assert err.value.line == 2


def test_decode_text() -> None:
    assert decode_text("café".encode(), "p") == "café"
    with pytest.raises(ConfigParseError, match="0xe9") as err:
        decode_text(b"ok\ncaf\xe9\n", "p")
    assert err.value.line == 2
    assert line_at("a\nb\nc", 4) == 3


def test_deadline_interrupts_python_and_leaves_nothing_behind() -> None:
    # the threads this test starts, not the process's count: earlier tests in the same worker may leave the
    # live probes' TLS pool (auditor.probes.tls_pool) running
    before = set(threading.enumerate())
    with within(1.0), pytest.raises(ConfigParseError, match=r"longer than 0\.2 s"), deadline(0.2, "slow"):
        while True:
            pass
    for _ in range(200):  # finished in time: no exception arrives later
        with deadline(0.5, "fast"):
            sum(range(100))
    left = set(threading.enumerate()) - before
    for _ in range(100):  # the last watchers end once their body has: give them up to a second
        if not left:
            break
        time.sleep(0.01)
        left = {t for t in left if t.is_alive()}
    assert not left, [t.name for t in left]


def test_deadline_rejects_even_when_its_exception_was_swallowed() -> None:
    """The watcher's exception can land in code that swallows it (a gc callback reports it as
    unraisable and the parse goes on): the spent budget still rejects the input when the body ends."""
    with pytest.raises(ConfigParseError, match=r"longer than 0\.05 s"), deadline(0.05, "swallowed"):
        end = time.process_time() + 0.4
        while time.process_time() < end:
            with contextlib.suppress(BaseException):  # what a gc callback does with it
                sum(range(1000))
    end = time.monotonic() + 0.1  # nothing more arrives once the deadline has ended (its watcher stopped)
    while time.monotonic() < end:
        sum(range(1000))
    assert not any(t.name == "parser-deadline" for t in threading.enumerate())


def test_deadline_raises_again_after_a_swallowed_exception() -> None:
    """Only the first delivery is swallowed: the next one stops the body within the budget."""
    swallowed: list[bool] = []
    with within(1.0), pytest.raises(ConfigParseError, match="longer than"), deadline(0.05, "once"):
        end = time.process_time() + 3
        while True:  # every bytecode of the busy loop inside the try: the first delivery lands there
            try:
                while time.process_time() < end:
                    pass
                break
            except BaseException:
                if swallowed:
                    raise
                swallowed.append(True)
    assert swallowed


def test_nested_deadline_is_governed_by_the_outer_one() -> None:
    with pytest.raises(ConfigParseError, match="outer"), deadline(0.2, "outer"), deadline(5, "inner"):
        while True:
            pass


def test_paths() -> None:
    files = ["/etc/nginx/sites-enabled/a", "/etc/nginx/sites-enabled/.b", "/etc/nginx/sites-enabled/sub/c"]
    assert expand("/etc/nginx/sites-enabled/*", files) == ["/etc/nginx/sites-enabled/a"]
    assert expand("/etc/nginx/sites-enabled/.*", files) == ["/etc/nginx/sites-enabled/.b"]
    assert expand("/etc/nginx/sites-enabled/*/*", files) == ["/etc/nginx/sites-enabled/sub/c"]
    assert expand("/etc/nginx/sites-enabled/a", files) == ["/etc/nginx/sites-enabled/a"]
    assert expand("/etc/nginx/x/../sites-enabled/a", files) == ["/etc/nginx/sites-enabled/a"]
    assert resolve("/etc/prosody", "conf.d/*.cfg.lua") == "/etc/prosody/conf.d/*.cfg.lua"
    assert resolve("/etc/prosody", "/abs/x") == "/abs/x"
    assert glob_match("/a/[bc]?", "/a/bz") and not glob_match("/a/*", "/a/b/c")
    assert is_url("https://x/y") and not is_url("/etc/x") and not is_url("conf.d/x")
