"""Client features that came later are not judged by today's defaults on a client that predates them: a 2020
jitsi-meet-web has no polls and no in-browser video recording (its audio-only local recording is off unless
localRecording.enabled). The release comes from the jitsi-meet-web package, else the docker web images."""

from __future__ import annotations

import pytest

from auditor.model import Status
from tests.checks import base

LOCAL = "web.local_recording_notify"
POLLS = "rooms.polls_server_side"


def _debian(web: str | None, *edits: base.Edit) -> dict[str, tuple[Status, str, list[str]]]:
    files = base.apply(base.base_files(), (
        (base.CONFIG_JS, "    localRecording: { disable: true, notifyAllParticipants: true },\n", ""),
        (base.PROSODY_SITE, f'Component "polls.{base.D}" "polls_component"\n', ""),
        (base.PROSODY_SITE, '        "polls";\n', ""),
        *edits,
    ))
    found = base.findings(base.snapshot(files, packages={"jitsi-meet-web": web} if web else None))
    return {c: (found[c].status, found[c].message, [str(e.location) for e in found[c].evidence]) for c in (LOCAL, POLLS)}


def test_a_2020_client_has_neither_polls_nor_video_recording() -> None:
    got = _debian("1.0.4466-1")
    for check_id in (LOCAL, POLLS):
        status, message, where = got[check_id]
        assert status is Status.PASS, (check_id, message)
        assert "jitsi-meet-web 1.0.4466-1" in message and "predates" in message, message
        assert "cmd:dpkg-query:1" in where, where


@pytest.mark.parametrize("web", ["1.0.8877-1", None, "1.0.6260-1"])
def test_a_current_unknown_or_borderline_client_is_judged_by_todays_defaults(web: str | None) -> None:
    # 1.0.6260 (stable 7439) is the earliest release that may carry in-browser recording: judged as current
    got = _debian(web)
    assert got[LOCAL][0] is Status.FAIL, got[LOCAL]
    assert got[POLLS][0] is Status.FAIL, got[POLLS]


def test_polls_arrive_before_video_recording() -> None:
    got = _debian("1.0.5307-1")  # stable 6293, 2021-09: polls, no in-browser video recording yet
    assert got[POLLS][0] is Status.FAIL, got[POLLS]
    assert got[LOCAL][0] is Status.PASS, got[LOCAL]


def test_the_old_audio_recording_switched_on_is_unclear() -> None:
    got = _debian("1.0.4466-1", (base.CONFIG_JS, "    deeplinking:", "    localRecording: { enabled: true },\n    deeplinking:"))
    status, message, _ = got[LOCAL]
    assert status is Status.UNCLEAR and "audio-only local recording is enabled" in message, message


def _docker(*lines: str, compose: str = base.COMPOSE_TEXT) -> tuple[Status, str]:
    files = {base.ENV: base.ENV_TEXT + "".join(f"{line}\n" for line in lines), base.COMPOSE: compose}
    f = base.findings(base.snapshot(files))[LOCAL]
    return f.status, f.message


def test_docker_images_of_2020_predate_video_recording() -> None:
    status, message = _docker("JITSI_IMAGE_VERSION=stable-5142")
    assert status is Status.PASS and "jitsi/web:stable-5142" in message, message


def test_docker_images_that_are_current_moving_or_mixed_are_judged_by_todays_defaults() -> None:
    assert _docker()[0] is Status.FAIL  # the compose file's default tag: unstable
    assert _docker("JITSI_IMAGE_VERSION=stable-10431")[0] is Status.FAIL
    mixed = base.COMPOSE_TEXT + "    web2:\n        image: jitsi/web:latest\n"
    assert _docker("JITSI_IMAGE_VERSION=stable-5142", compose=mixed)[0] is Status.FAIL
    status, message = _docker("JITSI_IMAGE_VERSION=stable-5142", "DISABLE_LOCAL_RECORDING=1")
    assert status is Status.PASS, message


# -- in-browser recording and the rating of enc.files_recordings --------------------------------------

IN_BROWSER = "web.in_browser_recording"


def _recording(web: str | None, local_recording: str) -> tuple[Status, str, str]:
    files = base.apply(base.base_files(), (
        (base.CONFIG_JS, "    localRecording: { disable: true, notifyAllParticipants: true },\n", local_recording),))
    result = base.audit(base.snapshot(files, packages={"jitsi-meet-web": web} if web else None))
    f = next(f for f in result.findings if f.check_id == IN_BROWSER)
    rating = next(c for c in result.criteria if c.id == "enc.files_recordings")
    return f.status, f.message, str(rating.rating.value)


def test_in_browser_recording_announced_is_still_an_unencrypted_recording() -> None:
    status, message, rating = _recording("1.0.8877-1", "    localRecording: { notifyAllParticipants: true },\n")
    assert status is Status.FAIL and "saved unencrypted" in message, message
    assert rating == "Partially"


def test_no_recording_anywhere_rates_fully() -> None:
    status, message, rating = _recording("1.0.8877-1", "    localRecording: { disable: true },\n")
    assert status is Status.PASS, message
    assert rating == "Fully"
    status, message, rating = _recording("1.0.4466-1", "")  # a 2020 client: no in-browser video recording
    assert status is Status.PASS and "predates" in message, message
    assert rating == "Fully"


def test_the_old_audio_recording_switched_on_is_a_recording_too() -> None:
    status, message, rating = _recording("1.0.4466-1", "    localRecording: { enabled: true },\n")
    assert status is Status.FAIL and "records audio locally" in message, message
    assert rating == "Partially"
