"""What a target multiplies in the advisory checks: image references written many times, many distinct
references, many compose files. Each is bounded by counting the work (advisory comparisons, compose
parses, regex calls), never by timing: 20 compose files of 3 000 services took 16 s (1.5M comparisons per
check), 300 such files over 120 s."""

from __future__ import annotations

import re
from typing import Any

import pytest

import auditor.advisories.docker as docker_module
import auditor.advisories.matching as matching_module
import checks._client_era as client_era
import checks.prosody_tls as prosody_tls
import checks.versions as versions
from auditor.advisories.data import active_data
from auditor.advisories.docker import DockerEvidence, deployment_images, images_from_compose
from auditor.advisories.matching import MAX_IMAGES, MAX_PLACES, deployment_inventory, match_inventory
from auditor.criteria import load_profile
from auditor.deployment import build_deployment
from auditor.engine import TargetResult, audit_snapshot
from auditor.model import Status
from auditor.registry import all_checks
from auditor.snapshot import Snapshot

from .helpers import snapshot

VULN_IDS = ("vuln.known_advisories", "vuln.minor_advisories", "vuln.prosody_version", "vuln.e2ee_fixes")
IMAGES = ("web", "prosody", "jicofo", "jvb", "jigasi", "jibri")
TAGS = ("stable-4384", "stable-7001", "stable-8044", "stable-10590", "unstable", "latest")


def _compose(refs: list[str]) -> str:
    return "services:\n" + "".join(f"    s{j}:\n        image: {ref}\n" for j, ref in enumerate(refs))


def _every_image() -> list[str]:
    return [f"jitsi/{image}:{tag}" for image in IMAGES for tag in TAGS]


def _audit(snap: Snapshot, ids: tuple[str, ...] | None = VULN_IDS) -> TargetResult:
    profile = load_profile("default")
    checks = [c for c in all_checks(profile.criterion_ids, with_plugins=False) if ids is None or c.id in ids]
    return audit_snapshot(snap, profile, checks)


def _verdicts(result: TargetResult) -> dict[str, tuple[Status, str]]:
    return {f.check_id: (f.status, f.message) for f in result.findings if f.check_id in VULN_IDS}


class _Counting:
    """Wraps a function of a module and counts its calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.calls = 0
        self.wrapped = getattr(module, name)
        monkeypatch.setattr(module, name, self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self.wrapped(*args, **kwargs)


def test_an_image_written_in_many_files_is_judged_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The verdict for one image:tag is the same wherever it is written: 20 copies of a compose file
    cost the advisory comparisons of one, give the same verdicts, and keep their places (bounded)."""
    decide = _Counting(monkeypatch, matching_module, "_decide")
    text = _compose(_every_image())
    one = _audit(snapshot({"/srv/c0/docker-compose.yml": text}))
    single = decide.calls
    assert single > 0
    decide.calls = 0
    many = _audit(snapshot({f"/srv/c{n}/docker-compose.yml": text for n in range(20)}))
    assert decide.calls == single, "one comparison per distinct image and advisory, not per occurrence"
    assert _verdicts(many) == _verdicts(one)
    known = next(f for f in many.findings if f.check_id == "vuln.known_advisories")
    assert known.status is Status.FAIL
    places = {e.location.path for e in known.evidence}
    assert len(places) == MAX_PLACES, "every file the image is written in, up to MAX_PLACES"
    assert "more places" in (known.evidence[-1].excerpt or "")
    assert len(known.evidence) <= versions.MAX_EVIDENCE + 1


def test_the_inventory_keeps_one_entry_per_distinct_image() -> None:
    refs = ["jitsi/web:stable-8044"] * 50 + ["jitsi/web:stable-8044@sha256:" + "a" * 64, "jitsi/web:latest"]
    inv = matching_module.inventory_from({}, None, refs)
    web = inv.of("jitsi-meet")
    assert [i.describe() for i in web] == [
        "jitsi/web:stable-8044", "jitsi/web:stable-8044@sha256:" + "a" * 64, "jitsi/web:latest"
    ]
    assert len(web[0].places()) == 1 and web[0].unlisted == 0, "one place (no path, no line), written 50 times"
    assert inv.unjudged == 0 and inv.unjudged_note() is None


def test_the_matching_is_computed_once_per_target(monkeypatch: pytest.MonkeyPatch) -> None:
    """The four vuln checks share one match of the inventory (each selects its band or component),
    and the inventory shares the compose files' images with the prosody checks."""
    matches = _Counting(monkeypatch, versions, "match_inventory")
    images = _Counting(monkeypatch, matching_module, "deployment_images")
    monkeypatch.setattr(prosody_tls, "deployment_images", images)
    monkeypatch.setattr(client_era, "deployment_images", images)
    files = {"/srv/jitsi/docker-compose.yml": _compose(_every_image()), "/srv/jitsi/.env": "ENABLE_AUTH=1\n"}
    result = _audit(snapshot(files), None)
    assert matches.calls == 1
    assert images.calls == 1
    assert _verdicts(result)["vuln.known_advisories"][0] is Status.FAIL


def test_distinct_images_past_the_cap_are_not_judged_and_nothing_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each distinct reference is judged (digests make any number of them): at most MAX_IMAGES are, and
    a check that would pass on the others says unclear, naming the cap."""
    decide = _Counting(monkeypatch, matching_module, "_decide")
    current = [f"jitsi/web:stable-10590@sha256:{n:064x}" for n in range(MAX_IMAGES + 44)]
    files = {f"/srv/c{n}/docker-compose.yml": _compose(current[n : n + 100]) for n in range(0, len(current), 100)}
    dep = build_deployment(snapshot(files))
    inv = deployment_inventory(dep)
    assert len({i.describe() for i in inv.installed}) == MAX_IMAGES
    assert inv.unjudged == 44
    note = inv.unjudged_note("jitsi-meet")
    assert note is not None and "44 more distinct docker image references" in note
    assert inv.unjudged_note("prosody") is None, "no prosody image was left out"
    match_inventory(inv)
    advisories = len(active_data().data.advisories)
    assert decide.calls <= advisories * MAX_IMAGES * 2  # jitsi/web: jitsi-meet and docker-jitsi-meet

    result = _audit(snapshot(files))
    status, message = _verdicts(result)["vuln.e2ee_fixes"]
    assert status is Status.UNCLEAR and "not compared with the advisories" in message
    # under the cap, the same images pass: the unclear verdict is the cap's
    monkeypatch.setattr(matching_module, "MAX_IMAGES", len(current))
    status, message = _verdicts(_audit(snapshot(files)))["vuln.e2ee_fixes"]
    assert status is Status.PASS and len(message) < 1200, "the images compared are listed, cut short"


def test_a_failure_past_the_cap_still_fails_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching_module, "MAX_IMAGES", 2)
    refs = ["jitsi/web:stable-4384", "jitsi/web:stable-10590", "jitsi/web:stable-10590-1", "jitsi/web:stable-10590-2"]
    status, message = _verdicts(_audit(snapshot({"/srv/a/docker-compose.yml": _compose(refs)})))["vuln.e2ee_fixes"]
    assert status is Status.FAIL and "2 more distinct docker image references" in message


def test_compose_files_past_the_bound_are_not_read_and_nothing_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compose files are kept as text, outside the parse budget: the images are read from at most
    MAX_COMPOSE_FILES of them (and within a CPU budget), the others counted, never a silent pass."""
    parses = _Counting(monkeypatch, docker_module, "parse_compose")
    files = {f"/srv/c{n}/docker-compose.yml": _compose(["jitsi/web:stable-10590"]) for n in range(6)}
    assert _verdicts(_audit(snapshot(files)))["vuln.e2ee_fixes"][0] is Status.PASS
    assert parses.calls == 6
    parses.calls = 0
    monkeypatch.setattr(docker_module, "MAX_COMPOSE_FILES", 4)
    dock = deployment_images(build_deployment(snapshot(files)))
    assert parses.calls == 4 and dock.unread == 2
    assert any("2 compose files not read" in n for n in dock.notes)
    status, message = _verdicts(_audit(snapshot(files)))["vuln.e2ee_fixes"]
    assert status is Status.UNCLEAR and "2 compose files not read" in message

    monkeypatch.setattr(docker_module, "COMPOSE_CPU_BUDGET", -1.0)  # spent before the first file
    parses.calls = 0
    dock = deployment_images(build_deployment(snapshot(files)))
    assert parses.calls == 0 and dock.unread == 6 and not dock.images
    assert any("CPU" in n for n in dock.notes)


def test_sibling_files_are_found_in_one_pass_over_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each compose directory looked through every snapshot item for its *.yml siblings; one pass finds
    the same (here, 200 directories among 2 000 other files)."""
    monkeypatch.setattr(docker_module, "MAX_COMPOSE_FILES", 1000)
    files = {f"/srv/c{n}/docker-compose.yml": _compose(["jitsi/web:stable-10590"]) for n in range(200)}
    files.update({f"/srv/c{n}/jibri.yml": _compose(["jitsi/jibri:stable-10590"]) for n in range(0, 200, 50)})
    files.update({f"/srv/c{n}/other.yml": "services: {}\n" for n in range(200)})  # no jitsi/: not read
    files.update({f"/var/lib/x/f{n}.yml": "image: jitsi/web:1\n" for n in range(2000)})  # not beside a compose
    dock = deployment_images(build_deployment(snapshot(files)))
    assert isinstance(dock, DockerEvidence)
    assert sorted(r.path for r in dock.images if r.jitsi_image == "jibri") == [
        f"/srv/c{n}/jibri.yml" for n in (0, 100, 150, 50)
    ]
    assert dock.unread == 0 and len(dock.images) == 204


class _CountingPattern:
    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern, self.calls = pattern, 0

    def match(self, text: str) -> re.Match[str] | None:
        self.calls += 1
        return self.pattern.match(text)


def test_the_image_line_search_stops_at_the_next_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """Services written in flow style have no `image:` line: each looked through the next 200 lines (and
    took the next service's `image:` line as its own). The search stops at the next service."""
    counting = _CountingPattern(docker_module._IMAGE_LINE_RE)
    monkeypatch.setattr(docker_module, "_IMAGE_LINE_RE", counting)
    n = 1000
    text = "services:\n" + "".join(f"    s{j}: {{image: 'jitsi/web:{j}'}}\n" for j in range(n))
    text += "    last:\n        # the image\n\n        image: jitsi/web:stable-10590\n"
    refs = images_from_compose(text, "/srv/x/docker-compose.yml", {})
    assert len(refs) == n + 1
    assert [r.line for r in refs[:3]] == [None, None, None], "never the next service's line"
    assert refs[n - 1].line is None and refs[n].line == n + 5
    assert counting.calls <= 2 * n + 10


def test_a_service_indented_block_keeps_its_image_line() -> None:
    text = (
        "services:\n"
        "  web:\n"
        "    ports:\n"
        "    - '443:443'\n"
        "    # a comment\n"
        "\n"
        "    image: jitsi/web:stable-8044\n"
        "  jvb:\n"
        "    environment: {A: 1}\n"
        "    image: jitsi/jvb:stable-8044\n"
    )
    refs = images_from_compose(text, "/srv/x/docker-compose.yml", {})
    assert [(r.jitsi_image, r.line) for r in refs] == [("web", 7), ("jvb", 10)]


def test_docker_image_tag_reads_at_most_the_compose_files_the_advisories_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """docker.image_tag parsed every compose file again (300 files: ~50 s more); it reads the first
    MAX_COMPOSE_FILES, and what it did not read keeps a pass from being earned."""
    import checks.docker_env as docker_env

    env = "JITSI_IMAGE_VERSION=stable-10590\n"
    files = {f"/srv/c{n:03d}/docker-compose.yml": _compose(["jitsi/web:stable-10590"])
             for n in range(docker_module.MAX_COMPOSE_FILES + 6)}
    parse = _Counting(monkeypatch, docker_env, "parse_compose")
    result = _audit(snapshot({"/srv/c000/.env": env, **files}), ("docker.image_tag",))
    found = next(f for f in result.findings if f.check_id == "docker.image_tag")
    assert parse.calls == docker_module.MAX_COMPOSE_FILES
    assert found.status is Status.UNCLEAR
    assert found.message.startswith(f"cannot tell: 6 compose files past the first {docker_module.MAX_COMPOSE_FILES}")
    parse.calls = 0
    few = {k: v for k, v in list(files.items())[:3]}
    result = _audit(snapshot({"/srv/c000/.env": env, **few}), ("docker.image_tag",))
    found = next(f for f in result.findings if f.check_id == "docker.image_tag")
    assert parse.calls == 3 and found.status is Status.PASS, found.message
