"""Matching per component: the stable mapping (no NixOS-#132134 false positive), docker tags, Prosody builds."""

from __future__ import annotations

from auditor.advisories import Verdict, match
from auditor.advisories.data import bundled_path, load_file, validate_data
from auditor.advisories.matching import Match

DATA = load_file(bundled_path())


def _ids(matches: list[Match], verdict: Verdict = Verdict.AFFECTED) -> set[str]:
    return {m.advisory.id for m in matches if m.verdict is verdict}


def test_web_build_of_the_fixed_stable_is_not_flagged_nixos_132134() -> None:
    # jitsi-meet-web 1.0.5056 is stable 5963, the release that fixed CVE-2021-33506 ("before 2.0.5963-1").
    ms = match({"jitsi-meet-web": "1.0.5056-1", "jitsi-meet-prosody": "1.0.5056-1"}, data=DATA)
    assert not {"JSA-2021-0001", "JSA-2021-0002"} & (_ids(ms) | _ids(ms, Verdict.UNCLEAR))
    assert "JSA-2021-0003" in _ids(ms)  # fixed later, in 6173 (= web 1.0.5211)
    reason = next(m.reason for m in ms if m.advisory.id == "JSA-2021-0003")
    assert "stable 5963" in reason and "2.0.6173" in reason


def test_web_build_one_stable_earlier_is_affected() -> None:
    ms = match({"jitsi-meet-prosody": "1.0.4985-1"}, data=DATA)  # stable 5870
    assert {"JSA-2021-0001", "JSA-2021-0002"} <= _ids(ms)
    assert all(m.installed.subject == "jitsi-meet-prosody" for m in ms)
    assert "JSA-2021-0003" not in _ids(ms)  # a web-client flaw: the prosody package does not carry it


def test_meta_package_is_compared_by_its_stable_number() -> None:
    assert {"JSA-2021-0001", "JSA-2021-0002"} <= _ids(match({"jitsi-meet": "2.0.5870-1"}, data=DATA))
    assert not _ids(match({"jitsi-meet": "2.0.9779-1"}, data=DATA))
    assert _ids(match({"jitsi-meet": "2.0.9753-1"}, data=DATA)) == {"JSA-2024-0002", "JSA-2024-0003"}


def test_a_web_build_between_two_stables_is_placed_conservatively() -> None:
    # 1.0.5100 lies between stable 5963 (5056) and 6173 (5211): fixes of 5963 are in, 6173's may or may not be.
    ms = match({"jitsi-meet-web": "1.0.5100-1"}, data=DATA)
    assert "JSA-2021-0003" in _ids(ms, Verdict.UNCLEAR)
    assert "JSA-2022-0001" in _ids(ms)  # fixed in 7830, after 6173: certainly missing
    assert "JSA-2021-0001" not in _ids(ms) | _ids(ms, Verdict.UNCLEAR)
    newest = match({"jitsi-meet-web": "1.0.9999-1"}, data=DATA)
    assert not _ids(newest) and not _ids(newest, Verdict.UNCLEAR)


def test_jicofo_videobridge_jigasi() -> None:
    ms = match(
        {"jicofo": "1.0-939-1", "jitsi-videobridge2": "2.1-503-g1234abcde-1", "jigasi": "1.1-215-g1-1"}, data=DATA
    )
    assert {"JSA-2022-0002", "JSA-2021-0004", "JSA-2021-0005", "JSA-2022-0003"} <= _ids(ms)
    ms = match(
        {"jicofo": "1.0-1133-1", "jitsi-videobridge2": "2.3-38-gabcdef012-1", "jigasi": "1.1-273-gabc-1"}, data=DATA
    )
    assert not _ids(ms) and not _ids(ms, Verdict.UNCLEAR)
    # log4j (JSA-2021-0004) affects < 2.1-504 only; 2.1-504..594 are not listed as affected
    assert "JSA-2021-0004" not in _ids(match({"jitsi-videobridge2": "2.1-508-gb24f756cd-1"}, data=DATA))
    assert "JSA-2023-0001" in _ids(match({"jitsi-videobridge2": "2.3-25-g1da507fa5-1"}, data=DATA))


def test_prosody_upstream_distro_and_prosodyctl() -> None:
    assert {"CVE-2026-43506", "CVE-2026-43507"} <= _ids(match({"prosody": "13.0.4-1~bookworm1"}, data=DATA))
    assert not _ids(match({"prosody": "13.0.5-1"}, data=DATA))
    assert not _ids(match({"prosody": "0.12.6-1"}, data=DATA))
    old = match({"prosody": "0.11.4-1"}, data=DATA)
    assert {"CVE-2021-32918", "CVE-2021-37601", "CVE-2022-0217"} <= _ids(old)
    assert "CVE-2018-10847" not in _ids(old)  # fixed in 0.10.2
    # Debian security builds may carry backports: undecidable, except where the distro fix is recorded
    deb = match({"prosody": "0.11.9-2+deb11u2"}, data=DATA)
    assert "CVE-2021-37601" in _ids(deb, Verdict.UNCLEAR)
    assert "CVE-2022-0217" not in _ids(deb) | _ids(deb, Verdict.UNCLEAR)  # DSA-5047: fixed in 0.11.9-2+deb11u1
    assert "CVE-2022-0217" in _ids(match({"prosody": "0.11.9-2"}, data=DATA))
    # without a package, `prosodyctl about`'s version is used
    assert "CVE-2021-37601" in _ids(match({}, "0.11.9", data=DATA))
    assert not _ids(match({}, "13.0.5", data=DATA))
    assert "CVE-2026-43506" in _ids(match({}, "trunk", data=DATA), Verdict.UNCLEAR)


def test_docker_tags_use_the_stable_mapping() -> None:
    ms = match({}, None, ["jitsi/web:stable-7001", "jitsi/jicofo:stable-7001", "jitsi/jvb:stable-7001"], data=DATA)
    assert {"JSA-2022-0001", "JSA-2022-0002", "JSA-2023-0001"} <= _ids(ms)
    jicofo = next(m for m in ms if m.advisory.id == "JSA-2022-0002")
    assert "1.0-862" in jicofo.reason  # jicofo of stable 7001
    # a tag between mapped releases is bracketed by its neighbours' builds
    assert "JSA-2025-0001" in _ids(match({}, None, ["jitsi/jicofo:stable-9999"], data=DATA))  # 1.0-1118..1122
    assert "JSA-2025-0001" in _ids(match({}, None, ["jitsi/jicofo:stable-10200"], data=DATA), Verdict.UNCLEAR)
    assert not match({}, None, ["jitsi/jicofo:stable-10400", "jitsi/jvb:stable-99999"], data=DATA)
    # docker-specific advisories, with their -k revisions
    assert "GHSA-68p7-v5gq-3cfm" in _ids(match({}, None, ["jitsi/prosody:stable-6726-1"], data=DATA))
    assert "GHSA-68p7-v5gq-3cfm" not in _ids(match({}, None, ["jitsi/prosody:stable-6726-2"], data=DATA))
    assert "GHSA-68p7-v5gq-3cfm" not in _ids(match({}, None, ["jitsi/web:stable-6726-1"], data=DATA))
    assert "CVE-2020-11878" in _ids(match({}, None, ["jitsi/web:stable-4384"], data=DATA))
    assert "CVE-2020-11878" not in _ids(match({}, None, ["docker.io/jitsi/web:stable-4384-1"], data=DATA))


def test_floating_tags_and_unknown_image_contents_are_unclear() -> None:
    ms = match({}, None, ["jitsi/web:latest", "jitsi/web:unstable", "jitsi/web"], data=DATA)
    assert not _ids(ms)
    assert "JSA-2021-0001" in _ids(ms, Verdict.UNCLEAR)
    assert {m.installed.describe() for m in ms} == {"jitsi/web:latest", "jitsi/web:unstable", "jitsi/web"}
    # the jigasi version inside an image is not in the mapping
    assert "JSA-2022-0003" in _ids(match({}, None, ["jitsi/jigasi:stable-8044"], data=DATA), Verdict.UNCLEAR)
    # the prosody image: from stable-6726-2 on at least Prosody 0.11.12 (older Prosody CVEs are excluded)
    ms = match({}, None, ["jitsi/prosody:stable-10590"], data=DATA)
    assert not _ids(ms)
    assert "CVE-2026-43506" in _ids(ms, Verdict.UNCLEAR) and "CVE-2022-0217" not in _ids(ms, Verdict.UNCLEAR)
    # not a Jitsi image: ignored
    assert match({}, None, ["nginx:latest", "ghcr.io/someone/web:1"], data=DATA) == []


def test_clients_and_disputed_entries_are_never_matched() -> None:
    ms = match({"jitsi-meet": "2.0.830-1", "jitsi-meet-web": "1.0.827-1"}, data=DATA)
    ids = _ids(ms) | _ids(ms, Verdict.UNCLEAR)
    assert not ids & {"JSA-2020-0001", "CVE-2020-27161", "CVE-2020-27162", "CVE-2022-36736", "CVE-2022-43550"}


def test_unconfirmed_ranges_say_unclear() -> None:
    raw = DATA.model_dump(mode="json", exclude_defaults=True)
    for adv in raw["advisories"]:
        if adv["id"] == "JSA-2022-0002":
            adv["confirmed"] = False
        if adv["id"] == "JSA-2023-0002":
            adv["affected"], adv["confirmed"] = [], False
    data = validate_data(raw, "test")
    ms = match({"jicofo": "1.0-589-1"}, data=data)
    assert {"JSA-2022-0002", "JSA-2023-0002"} <= _ids(ms, Verdict.UNCLEAR)
    assert "JSA-2025-0001" in _ids(ms)
    assert "unconfirmed" in next(m.reason for m in ms if m.advisory.id == "JSA-2022-0002")
    assert not _ids(match({"jicofo": "1.0-1133-1"}, data=data))  # above the suspected range: not affected


def test_packages_not_installed_and_other_packages_give_nothing() -> None:
    assert match({"nginx": "1.18.0-6", "coturn": "4.5.2-3"}, data=DATA) == []
    assert match({}, data=DATA) == []


# What prosodyctl about prints (exit status 1) when it cannot find or read /etc/prosody/prosody.cfg.lua:
# prosody installed and not configured, or Debian's 0640 root:prosody file audited without sudo.
_NO_CONFIG = """

**************************
Prosody was unable to find the configuration file.
We looked for: /etc/prosody/prosody.cfg.lua
Good luck!
**************************
"""


def test_prosodyctl_prose_is_not_a_version() -> None:
    """"Prosody was unable to ..." gave version 'was': ten advisories undecidable as a 'nightly or trunk
    build'. The version forms prosodyctl prints are still read."""
    from auditor.advisories.matching import prosodyctl_version
    from auditor.engine import prepare_snapshot
    from auditor.snapshot import CollectedItem, ItemStatus, Snapshot

    def version(text: str, code: int = 0) -> tuple[str | None, int | None]:
        snap = Snapshot("web-1", "ssh")
        snap.add(CollectedItem("cmd:prosodyctl-about", "command", ItemStatus.OK, text.encode(), exit_code=code))
        return prosodyctl_version(prepare_snapshot(snap, redact=False).deployment)

    assert version(_NO_CONFIG, 1) == (None, None)
    assert version("# Prosody 0.12.4\n") == ("0.12.4", 1)
    assert version("\n# Prosody trunk nightly build 1234 (2024-01-01, 0a1b2c3d)\n") == ("trunk", 2)
    assert version("# Prosody hg:0a1b2c3d\n") == ("hg:0a1b2c3d", 1)
    assert version("Prosody 13.0.1\n") == ("13.0.1", 1)


def test_a_packages_epoch_is_not_part_of_the_upstream_version() -> None:
    """An epoch resets a package's ordering (`1:0.11.4-1`), not upstream's: compared with it, the version
    ranked above every upstream bound and no advisory matched."""
    plain, epoch = match({"prosody": "0.11.4-1"}, data=DATA), match({"prosody": "1:0.11.4-1"}, data=DATA)
    assert _ids(epoch) == _ids(plain) and {"CVE-2021-32918", "CVE-2022-0217"} <= _ids(epoch)
    assert _ids(match({"jicofo": "2:1.0-939-1"}, data=DATA)) == _ids(match({"jicofo": "1.0-939-1"}, data=DATA))
    assert not _ids(match({"prosody": "3:13.0.5-1"}, data=DATA))
