"""Jibri's Chrome and its streaming allow-list, judged as Jibri and docker-jitsi-meet use them:
JibriSelenium.kt passes jibri.chrome.flags to Chrome; StreamingJibriService.kt admits an RTMP URL when one
rtmp-allow-list pattern (java.util.regex.Pattern) matches all of it; the docker image's jibri.conf template
writes the chrome flags from CHROMIUM_FLAGS or IGNORE_CERTIFICATE_ERRORS (jitsi/tpl's toBool) and the
recordings directory from JIBRI_RECORDING_DIR."""

from __future__ import annotations

import time

import pytest

from auditor.model import Status
from tests.checks import base

CHROME = "jibri.chrome_cert_verification"
UPLOAD = "jibri.upload_targets"
ALLOW = '[ "^rtmp://live\\\\.example\\\\.org/.*$" ]'
DEFAULT_FLAGS = ('"--use-fake-ui-for-media-stream", "--start-maximized", "--kiosk", "--enabled", '
                 '"--autoplay-policy=no-user-gesture-required"')


def _jibri(old: str, new: str, check: str) -> tuple[Status, str]:
    assert old in base.JIBRI_TEXT, old
    files = {**base.base_files(), base.JIBRI: base.JIBRI_TEXT.replace(old, new, 1)}
    found = base.findings(base.snapshot(files))[check]
    return found.status, found.message


def _chrome(flags: str) -> tuple[Status, str]:
    return _jibri("  api {\n", f"  chrome {{\n    flags = [ {flags} ]\n  }}\n  api {{\n", CHROME)


def _docker(extra: str, check: str, version: str | None = "stable-10314") -> tuple[Status, str]:
    env = base.ENV_TEXT + "ENABLE_RECORDING=1\n" + extra
    if version != "stable-10314":
        env = env.replace("JITSI_IMAGE_VERSION=stable-10314\n", f"JITSI_IMAGE_VERSION={version}\n" if version else "")
    found = base.findings(base.snapshot({base.ENV: env, base.COMPOSE: base.COMPOSE_TEXT}))[check]
    return found.status, found.message


# -- jibri.chrome_cert_verification ---------------------------------------------------------------


@pytest.mark.parametrize("flag", ['"--ignore-certificate-errors"', '"--ignore-certificate-errors=false"',
                                  '"ignore-certificate-errors"'])
def test_chrome_ignoring_certificate_errors_fails(flag: str) -> None:
    # Chrome looks at the switch's presence only: a value does not turn it off
    status, message = _chrome(f"{DEFAULT_FLAGS}, {flag}")
    assert status is Status.FAIL, message
    assert "accepts any certificate" in message


def test_default_and_clean_chrome_flags_pass() -> None:
    status, message = _chrome(DEFAULT_FLAGS)
    assert status is Status.PASS, message
    status, message = _jibri("  api {\n", "  api {\n", CHROME)  # no chrome section: reference.conf's flags
    assert status is Status.PASS, message


def test_spki_list_pins_keys_and_is_no_failure() -> None:
    # --ignore-certificate-errors-spki-list only accepts certificates whose public key hash is listed
    status, message = _chrome(f'{DEFAULT_FLAGS}, "--ignore-certificate-errors-spki-list=AAAA="')
    assert status is Status.PASS, message


def test_chrome_flags_that_are_not_a_list_are_unclear() -> None:
    status, message = _jibri("  api {\n", '  chrome { flags = "--kiosk" }\n  api {\n', CHROME)
    assert status is Status.UNCLEAR, message


def test_chrome_failure_lowers_encryption_in_transit() -> None:
    files = {**base.base_files(), base.JIBRI: base.JIBRI_TEXT.replace(
        "  api {\n", '  chrome { flags = [ "--ignore-certificate-errors" ] }\n  api {\n', 1)}
    result = base.audit(base.snapshot(files))
    rating = next(c for c in result.criteria if c.id == "enc.in_transit")
    assert CHROME in rating.check_ids
    assert rating.rating.value == "Partially", rating


@pytest.mark.parametrize(("value", "expected"), [
    ("true", Status.FAIL), ("1", Status.FAIL), ("True", Status.FAIL), ('"true"', Status.FAIL),
    ("yes", Status.FAIL), ("no", Status.FAIL),  # tpl's toBool: any non-empty string ParseBool refuses is true
    ("false", Status.PASS), ("0", Status.PASS), ("FALSE", Status.PASS), ("", Status.PASS),
])
def test_docker_ignore_certificate_errors_as_tpl_reads_it(value: str, expected: Status) -> None:
    status, message = _docker(f"IGNORE_CERTIFICATE_ERRORS={value}\n", CHROME)
    assert status is expected, message


def test_docker_ignore_certificate_errors_before_tobool_was_any_value() -> None:
    # stable-9364 to stable-9584: `{{ if .Env.IGNORE_CERTIFICATE_ERRORS }}`, "false" too
    status, message = _docker("IGNORE_CERTIFICATE_ERRORS=false\n", CHROME, "stable-9457")
    assert status is Status.FAIL, message
    status, message = _docker("IGNORE_CERTIFICATE_ERRORS=false\n", CHROME, None)
    assert status is Status.UNCLEAR and "stable-9646" in message, message
    status, message = _docker("IGNORE_CERTIFICATE_ERRORS=true\n", CHROME, "stable-9258")  # before the variable
    assert status is Status.PASS, message


def test_docker_chromium_flags_replace_the_template_flags() -> None:
    status, message = _docker("CHROMIUM_FLAGS=--kiosk,--ignore-certificate-errors\n", CHROME)
    assert status is Status.FAIL, message
    status, message = _docker("CHROMIUM_FLAGS=--kiosk,--start-maximized,\nIGNORE_CERTIFICATE_ERRORS=true\n", CHROME)
    assert status is Status.PASS, message


def test_no_jibri_is_not_applicable() -> None:
    found = base.findings(base.snapshot(base.base_files()))[CHROME]
    assert found.status is Status.NOT_APPLICABLE, found.message
    status, message = _docker("ENABLE_RECORDING=0\n", CHROME)
    assert status is Status.NOT_APPLICABLE, message


# -- jibri.upload_targets: rtmp-allow-list ---------------------------------------------------------


def _allow(*patterns: str) -> tuple[Status, str]:
    """upload_targets with rtmp-allow-list holding these Java patterns (written into HOCON strings)."""
    quoted = ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in patterns)
    return _jibri(ALLOW, f"[ {quoted} ]", UPLOAD)


@pytest.mark.parametrize("pattern", [
    "rtmp://.*", "^rtmp://.*$", "rtmp://.+", ".*", "(.*)", "rtmps?://.*", "rtmp://[^/]+/.*", "[a-z]+://.*",
    "(?:rtmp|rtmps)://.{1,200}", r".*\.invalid/.*|.*", r"rtmp://.*\z",
])
def test_allow_list_patterns_that_admit_any_server_fail(pattern: str) -> None:
    status, message = _allow(pattern)
    assert status is Status.FAIL, message
    assert "any RTMP server" in message


@pytest.mark.parametrize("patterns", [
    [r"^rtmp://live\.example\.org/.*$"],
    [r"rtmp://a\.rtmp\.youtube\.com/live2/[\w-]+"],
    [r"rtmps://live\.example\.org:443/(app|live)/.*", r"rtmp://10\.0\.0\.5/live/.*"],
    [],  # nothing may be streamed
])
def test_allow_list_of_named_servers_passes(patterns: list[str]) -> None:
    status, message = _allow(*patterns)
    assert status is Status.PASS, message


@pytest.mark.parametrize(("pattern", "expected"), [
    # (?i) at the start: Java's CASE_INSENSITIVE (ASCII), for the whole pattern
    ("(?i)RTMP://.*", Status.FAIL),
    (r"(?i)rtmp://LIVE\.example\.org/.*", Status.PASS),
    ("(?i:RTMP)://.*", Status.FAIL),
    # lookaround, possessive quantifiers, atomic and named groups: the same in Java and regex
    (r"(?!rtmp://live\.example\.org/).*", Status.FAIL),
    (r"(?=rtmp://live\.example\.org/).*", Status.PASS),
    ("rtmp://.*+", Status.FAIL),
    ("rtmp://[^/]*+/live/.++", Status.FAIL),
    (r"rtmp://live\.example\.org/.*+", Status.PASS),
    ("rtmp://(?>[^/]+)/.*", Status.FAIL),
    ("(?<proto>rtmps?)://.*", Status.FAIL),
    # \Q..\E: Java's quoting, translated to escaped text (to the end when \E is missing)
    (r"\Qrtmp://\E.*", Status.FAIL),
    (r"\Qrtmp://live.example.org/\E.*", Status.PASS),
    (r"\Q.*\E", Status.PASS),
    (r"\Q.*", Status.PASS),
    (r"[\Q.*/:\E]+", Status.PASS),  # quoted characters in a class: '.' is a dot, not any character
])
def test_allow_list_syntax_java_and_regex_share_gets_a_verdict(pattern: str, expected: Status) -> None:
    status, message = _allow(pattern)
    assert status is expected, message


@pytest.mark.parametrize(("pattern", "reason"), [
    (r"\p{Alpha}+://.*", "escape '\\p'"),  # Java's POSIX names are not all regex's (\p{Punct})
    (r"\h*rtmp://.*", "escape '\\h'"),
    (r"\0101?.*", "escape '\\0'"),  # Java: octal \0101 is 'A'; regex: \010 then '1'
    ("[a-z&&[^x]]+://.*", "intersected character class"),  # Java: intersection; regex V0: characters
    ("[[:alpha:]]+://.*", "nested or intersected"),  # Java: a nested class of ':alph'; regex: POSIX alpha
    ("[]a]+://.*", "']' first"),
    ("RTMP(?i)://.*", "flags set after the start"),  # Java: only from there on
    ("(?x)rtmp:// .*", "flags other than i, m and s"),
    ("(?u)rtmp://.*", "flags other than i, m and s"),
    ("(?P<x>.*)", "group construct '(?P<'"),  # regex only
    ("(?#note).*", "group construct '(?#n'"),
    ("(*FAIL)|.*", "group construct '(*FA'"),
    ("rtmp://{host}/.*", "not a repetition"),  # Java: illegal repetition; regex: the text {host}
    ("rtmp://.{,9}.*", "not a repetition"),
    ("rtmp://(.*", "not compiled"),
    ("a{99999999999}", "not compiled"),
])
def test_allow_list_syntax_the_auditor_does_not_evaluate_is_unclear(pattern: str, reason: str) -> None:
    status, message = _allow(pattern)
    assert status is Status.UNCLEAR, message
    assert message.startswith("cannot tell: rtmp-allow-list pattern"), message
    assert reason in message, message


def test_an_open_pattern_fails_even_beside_one_that_is_not_evaluated() -> None:
    status, message = _allow(r"\p{Alpha}+://.*", "rtmps?://.*")
    assert status is Status.FAIL, message


BACKREFS = "(.?)" * 20 + "".join(f"\\{i}" for i in range(20, 0, -1))  # exponential in Java and regex alike


@pytest.mark.parametrize(("pattern", "expected"), [
    ("(.*)*#", Status.PASS), ("((a*)*)*b", Status.PASS), ("(.?){64}" * 30, Status.FAIL),
    ("(.*.*.*.*)*z" * 40, Status.PASS), ("(" * 40 + "a" + ")*" * 40, Status.PASS), ("(" * 250 + ")" * 250, Status.PASS),
    (".*" * 300, Status.UNCLEAR),  # longer than the cap
    (BACKREFS, Status.UNCLEAR), ("(?:(.)(.*)(?=\\2))*" * 3 + "[A-Z]", Status.UNCLEAR),
])
def test_hostile_allow_list_patterns_finish_quickly(pattern: str, expected: Status) -> None:
    # Python's re takes exponential time on (.*)*# against a probe URL and cannot be stopped: regex's
    # matches stop at their timeout
    started = time.monotonic()
    status, message = _allow(pattern)
    assert time.monotonic() - started < 10
    assert status is expected, message


def test_allow_list_patterns_too_costly_to_match_are_unclear() -> None:
    started = time.monotonic()
    status, message = _allow(*[BACKREFS] * 50)  # the most patterns evaluated, each at its timeout
    assert time.monotonic() - started < 15
    assert status is Status.UNCLEAR, message
    assert "too costly to evaluate" in message, message


def test_allow_list_of_too_many_patterns_is_unclear() -> None:
    status, message = _allow(*[f"rtmp://host{i}\\.example/.*" for i in range(51)])
    assert status is Status.UNCLEAR, message
    assert "at most 50" in message, message


def test_allow_list_of_non_strings_is_unclear() -> None:
    status, message = _jibri(ALLOW, "[ { host = x } ]", UPLOAD)
    assert status is Status.UNCLEAR, message


# -- docker recordings directory --------------------------------------------------------------------


@pytest.mark.parametrize(("version", "expected"), [
    ("stable-10314", "/config/recordings"),
    ("stable-11146", "/storage/recordings"),
    ("stable-11146-2", "/storage/recordings"),
    (None, "/storage/recordings (images since stable-11146; /config/recordings before)"),
])
def test_docker_recordings_directory_follows_the_image_release(version: str | None, expected: str) -> None:
    # the rootless-containers change (docker-jitsi-meet 086d047f, first in stable-11146) moved the default
    status, message = _docker("", "jibri.recordings_directory", version)
    assert (status, message) == (Status.PASS, f"recordings are written to {expected}")
    status, message = _docker("JIBRI_RECORDING_DIR=/tmp/rec\n", "jibri.recordings_directory", version)
    assert (status, message) == (Status.FAIL, "recordings are written to /tmp/rec")
