"""The stream decoder: good, truncated, garbage and hostile streams; never raises, always bounded."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.collect import plan
from auditor.collect.stream import StreamDecoder, StreamLimits, decode_stream, one_line
from auditor.snapshot import ItemStatus, Snapshot


def header(stream_format: str = plan.STREAM_FORMAT) -> bytes:
    return f"{plan.STREAM_MAGIC}\t{stream_format}\t{plan.COLLECTOR_VERSION}\t{plan.plan_sha256()}\n".encode()


HEADER = header()


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def file_rec(
    key: str | bytes,
    content: bytes | None = b"x = 1\n",
    *,
    status: str = "ok",
    mode: str = "644",
    link: str | None = None,
    reason: str = "-",
) -> bytes:
    raw_key = key if isinstance(key, bytes) else key.encode()
    fields = [
        "F", b64(raw_key), status, mode, "root", "root",
        str(len(content)) if content is not None else "", b64(link) if link else "-", "", reason,
        b64(content) if content is not None else "-",
    ]  # fmt: skip
    return ("\t".join(fields) + "\n").encode()


def cmd_rec(name: str, output: bytes, exit_code: int = 0) -> bytes:
    fields = ["C", b64(name), "ok", "", "", "", "", "-", str(exit_code), "-", b64(output)]
    return ("\t".join(fields) + "\n").encode()


def stream(*records: bytes, end: bool = True) -> bytes:
    body = b"".join(records)
    return HEADER + body + (f"Z\t{len(records)}\n".encode() if end else b"")


def decode(data: bytes, limits: StreamLimits | None = None) -> Snapshot:
    return decode_stream(data, Snapshot(target="t", transport="test"), limits)


def test_good_stream() -> None:
    data = stream(
        file_rec("/etc/prosody/prosody.cfg.lua", b"admins = {}\n"),
        file_rec("/etc/jitsi/meet/x.key", None, reason="private_key", mode="600"),
        file_rec("/etc/nginx/sites-enabled/a", b"server {}", link="../sites-available/a"),
        file_rec("/etc/jitsi/jibri", None, status="missing", mode="", reason="not_found"),
        cmd_rec("hostname", b"meet.example.org\n"),
        b"M\teuid\t" + b64("0").encode() + b"\n",
        b"E\ttoo_many_files\t" + b64("/etc/nginx/conf.d/*: 70 files").encode() + b"\n",
    )
    snap = decode(data)
    assert snap.facts["collection"] == "complete"
    assert snap.facts["hostname"] == "meet.example.org" and snap.facts["privileged"] == "yes"
    assert snap.errors == ["collector: too_many_files: /etc/nginx/conf.d/*: 70 files"]
    cfg = snap.items["/etc/prosody/prosody.cfg.lua"]
    assert cfg.ok and cfg.mode == 0o644 and cfg.owner == "root" and cfg.content == b"admins = {}\n"
    key = snap.items["/etc/jitsi/meet/x.key"]
    assert key.status is ItemStatus.OK and key.content is None and key.mode == 0o600
    assert snap.items["/etc/nginx/sites-enabled/a"].link_target == "../sites-available/a"
    assert snap.items["/etc/jitsi/jibri"].status is ItemStatus.MISSING
    host = snap.command("hostname")
    assert host is not None and host.kind == "command" and host.exit_code == 0 and host.size == 17


def test_chunked_feeding_is_equivalent() -> None:
    data = stream(*(file_rec(f"/etc/f{i}", os.urandom(i * 7)) for i in range(30)))
    whole = decode(data)
    decoder = StreamDecoder(Snapshot(target="t", transport="test"))
    for i in range(0, len(data), 3):
        decoder.feed(data[i : i + 3])
    chunked = decoder.finish()
    assert chunked.items == whole.items and chunked.errors == whole.errors == []


def test_truncated_stream_keeps_items_and_says_so() -> None:
    full = stream(file_rec("/etc/a"), file_rec("/etc/b"), file_rec("/etc/c"))
    cut = full[: full.index(b"\nF\t", len(HEADER) + 5) + 1 + 10]  # inside the third record... of two kept
    snap = decode(cut)
    assert set(snap.items) == {"/etc/a"} or set(snap.items) == {"/etc/a", "/etc/b"}
    assert snap.facts["collection"] == "incomplete"
    assert any("stream ended early" in e for e in snap.errors)
    no_end = decode(stream(file_rec("/etc/a"), end=False))
    assert "/etc/a" in no_end.items and any("stream ended early" in e for e in no_end.errors)


def test_empty_and_garbage_streams() -> None:
    empty = decode(b"")
    assert empty.facts["collection"] == "incomplete" and empty.errors == [
        "collect: no collector output received"
    ]
    garbage = decode(b"sudo: a password is required\n" + stream(file_rec("/etc/a")))
    assert garbage.items == {} and garbage.facts["collection"] == "incomplete"
    assert any("not a jitsi-audit collector stream" in e for e in garbage.errors)
    wrong_format = decode(header("99"))
    assert any("unsupported stream format" in e for e in wrong_format.errors)


def test_malformed_lines_are_errors_and_the_rest_survives() -> None:
    bad = [
        b"F\tnot-base64!!\tok\t644\troot\troot\t1\t-\t\t-\teA==\n",
        b"F\t" + b64("/etc/x").encode() + b"\tok\n",  # too few fields
        b"F\t" + b64("/etc/y").encode() + b"\tweird\t644\troot\troot\t1\t-\t\t-\teA==\n",  # bad status
        b"F\t" + b64("relative/path").encode() + b"\tok\t644\troot\troot\t1\t-\t\t-\teA==\n",
        b"F\t" + b64("/etc/z").encode() + b"\tok\t644\troot\troot\t1\t-\t\t-\t%%%\n",  # bad content
        b"F\t" + b64("/etc/ok-no-content").encode() + b"\tok\t644\troot\troot\t1\t-\t\t-\t-\n",
        b"C\t" + b64("bad name!").encode() + b"\tok\t\t\t\t\t-\t0\t-\t\n",
        b"Q\twhat\n",
        "F\tnon-ascii-é\n".encode(),
        b"M\t../evil\tAA==\n",
        b"M\tcollection\t" + b64("complete").encode() + b"\n",
        b"E\tonly-two\n",
    ]
    data = stream(file_rec("/etc/good1"), *bad, file_rec("/etc/good2"))
    snap = decode(data)
    assert set(snap.items) == {"/etc/good1", "/etc/good2"}
    assert len(snap.errors) == len(bad)
    assert snap.facts["collection"] == "complete"  # the stream itself was whole
    assert all("\n" not in e for e in snap.errors)


def test_plain_text_fields_of_format_2() -> None:
    data = stream(
        b"F\t:/etc/prosody/conf.d/auth%2emeet.cfg.lua\tok\t644\troot\troot\t2\t:../conf.avail/a,b=c@d+e\t\t-\t"
        + b64("x\n").encode()
        + b"\n",
        b"F\t:/etc/-leading-dash:colon\tmissing\t\t\t\t\t-\t\tnot_found\t-\n",
        b"C\t:hostname\tok\t\t\t\t\t-\t0\t-\t" + b64("meet.example.org\n").encode() + b"\n",
        b"M\teuid\t:0\n",
        b"M\tempty\t:\n",
        b"E\ttoo_many_files\t:/etc/nginx/conf.d\n",
        file_rec("/etc/base64 key\twith tab", b"y"),  # base64 text fields stay valid in format 2
    )
    snap = decode(data)
    assert snap.errors == ["collector: too_many_files: /etc/nginx/conf.d"]
    item = snap.items["/etc/prosody/conf.d/auth%2emeet.cfg.lua"]
    assert item.content == b"x\n" and item.link_target == "../conf.avail/a,b=c@d+e"
    assert snap.items["/etc/-leading-dash:colon"].status is ItemStatus.MISSING
    assert snap.facts["hostname"] == "meet.example.org"
    assert snap.facts["euid"] == "0" and snap.facts["empty"] == ""
    assert snap.items["/etc/base64 key\twith tab"].content == b"y"


@pytest.mark.parametrize(
    "field",
    [
        b":/etc/with space",
        b":/etc/\x1b[31mred",
        b":/etc/quote'",
        b":/etc/star*",
        b":/etc/back\\slash",
        b":/etc/dollar$x",
        b":/etc/\r",
        ":/etc/é".encode(),
    ],
)
def test_plain_text_fields_outside_the_safe_set_are_refused(field: bytes) -> None:
    """The collector sends such texts in base64: a plain one is a broken or forged stream."""
    rec = b"F\t" + field + b"\tok\t644\troot\troot\t1\t-\t\t-\teA==\n"
    link = b"F\t:/etc/l\tok\t644\troot\troot\t1\t" + field + b"\t\t-\teA==\n"
    fact = b"M\tname\t" + field + b"\n"
    snap = decode(stream(file_rec("/etc/good"), rec, link, fact))
    assert set(snap.items) == {"/etc/good"} and "name" not in snap.facts
    assert len(snap.errors) == 3, snap.errors
    assert all("\x1b" not in e and "\r" not in e for e in snap.errors)


def test_format_1_streams_still_decode_and_have_no_plain_fields() -> None:
    """A collector installed by an older version (--sudo) sends format 1: every text field base64."""
    old = header("1") + file_rec("/etc/a", b"x", link="../b") + b"M\teuid\t" + b64("0").encode() + b"\n"
    plain = b"F\t:/etc/plain\tok\t644\troot\troot\t1\t-\t\t-\teA==\n"
    snap = decode(old + plain + b"Z\t3\n")
    assert snap.items["/etc/a"].content == b"x" and snap.items["/etc/a"].link_target == "../b"
    assert snap.facts["euid"] == "0" and snap.facts["collection"] == "complete"
    assert "/etc/plain" not in snap.items
    assert any("neither base64 nor plain text" in e for e in snap.errors)


HOSTILE_NAMES = [
    "/etc/../../../../etc/passwd",
    "/../../root/.ssh/authorized_keys",
    "//etc//nginx/./x",
    "/etc/nginx/conf.d/evil\nname.conf",
    "/etc/nginx/conf.d/\x1b[2J\x1b[31mred\x1b]0;title\x07.conf",
    "/etc/nginx/conf.d/tab\tname",
    "/etc/nginx/conf.d/\r\rcarriage",
    "/" + "a" * 4000,
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_only_strings(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    snap = decode(stream(file_rec(name, b"payload")))
    assert snap.items[name].content == b"payload"  # the key is kept exactly, as a string
    assert list(tmp_path.iterdir()) == []  # nothing was written anywhere


def test_non_utf8_names_and_nul() -> None:
    snap = decode(stream(file_rec(b"/etc/\xff\xfename", b"x"), file_rec(b"/etc/nul\x00name", b"x")))
    assert "/etc/\\xff\\xfename" in snap.items
    assert not any("nul" in k for k in snap.items)
    assert any("NUL" in e for e in snap.errors)


def test_binary_content_roundtrip() -> None:
    blob = bytes(range(256)) * 100 + b"\x00\n\r\x1b"
    snap = decode(stream(file_rec("/etc/blob", blob)))
    assert snap.items["/etc/blob"].content == blob


def test_huge_line_is_dropped_and_decoding_continues() -> None:
    limits = StreamLimits(max_line=1000)
    data = stream(file_rec("/etc/huge", b"x" * 5000), file_rec("/etc/after", b"ok"))
    snap = decode(data, limits)
    assert "/etc/huge" not in snap.items and snap.items["/etc/after"].content == b"ok"
    assert any("longer than 1000 bytes" in e for e in snap.errors)


def test_endless_line_costs_bounded_memory() -> None:
    decoder = StreamDecoder(Snapshot(target="t", transport="test"), StreamLimits(max_line=10_000))
    decoder.feed(HEADER)
    chunk = b"A" * 65536
    for _ in range(200):  # 13 MB without a newline
        decoder.feed(chunk)
    assert len(decoder._buffer) <= 10_000
    snap = decoder.finish()
    assert snap.facts["collection"] == "incomplete"


def test_total_and_record_limits() -> None:
    many = stream(*(file_rec(f"/etc/f{i}", b"x") for i in range(50)))
    snap = decode(many, StreamLimits(max_records=10))
    assert len(snap.items) == 10 and snap.facts["collection"] == "incomplete"
    assert any("more than 10 records" in e for e in snap.errors)
    big = decode(many, StreamLimits(max_total_bytes=600))
    assert snap.facts["collection"] == "incomplete"
    assert any("stream larger than 600 bytes" in e for e in big.errors)
    assert 0 < len(big.items) < 50


def test_end_marker_checks() -> None:
    miscount = HEADER + file_rec("/etc/a") + b"Z\t5\n"
    snap = decode(miscount)
    assert any("announces 5 records, 1 received" in e for e in snap.errors)
    trailing = stream(file_rec("/etc/a")) + file_rec("/etc/sneaky")
    snap2 = decode(trailing)
    assert "/etc/sneaky" not in snap2.items and any("after the end marker" in e for e in snap2.errors)


def test_duplicate_keys_first_wins() -> None:
    snap = decode(stream(file_rec("/etc/a", b"first"), file_rec("/etc/a", b"second")))
    assert snap.items["/etc/a"].content == b"first"


def test_plan_mismatch_is_reported() -> None:
    other = HEADER.replace(plan.plan_sha256().encode(), b"0" * 64)
    snap = decode(other + b"Z\t0\n")
    assert any("does not match this jitsi-audit" in e for e in snap.errors)


def test_older_installed_collector_is_named_by_its_version() -> None:
    """An installed --sudo collector 3 (before the process list): the message says which collector the host
    has and which this jitsi-audit expects, not only two plan hashes."""
    old = HEADER.replace(plan.plan_sha256().encode(), b"9f6306bcf51952f371e9955f1c5c9ae9def65ce1667d94c0f67e608b7ba5b041")
    old = old.replace(f"\t{plan.COLLECTOR_VERSION}\t".encode(), b"\t3\t")
    snap = decode(old + b"Z\t0\n")
    assert snap.facts["collector.version"] == "3"
    assert any(f"(collector 3, plan 9f6306bcf519; expected collector {plan.COLLECTOR_VERSION}, plan "
               f"{plan.plan_sha256()[:12]}); reinstall it from" in e for e in snap.errors), snap.errors


def test_error_flood_is_capped() -> None:
    data = stream(*(b"garbage\n" for _ in range(1000)))
    snap = decode(data)
    assert len(snap.errors) <= StreamLimits().max_errors + 1
    assert "more stream errors not shown" in snap.errors[-1]


def test_one_line_escapes_controls() -> None:
    assert one_line("a\nb\x1b[31mc\x9b") == "a\\x0ab\\x1b[31mc\\x9b"
    assert len(one_line("x" * 1000, 50)) == 50


GOOD = stream(
    file_rec("/etc/prosody/prosody.cfg.lua", b"admins = {}\n"),
    file_rec("/etc/x.key", None, reason="private_key"),
    cmd_rec("ss", b"tcp LISTEN 0 128 0.0.0.0:443\n"),
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_fuzz_random_bytes_never_raise(data: bytes) -> None:
    started = time.monotonic()
    snap = decode(data, StreamLimits(max_line=2048, max_records=100, max_total_bytes=8192))
    assert snap.facts["collection"] in ("complete", "incomplete")
    assert time.monotonic() - started < 2


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.binary(min_size=0, max_size=8)), max_size=8))
def test_fuzz_mutated_stream_never_raises(mutations: list[tuple[int, bytes]]) -> None:
    data = bytearray(GOOD)
    for pos, replacement in mutations:
        data[pos : pos + len(replacement)] = replacement
    snap = decode(bytes(data))
    assert all(isinstance(k, str) for k in snap.items)
    assert all("\n" not in e for e in snap.errors)
