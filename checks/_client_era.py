"""Which release of the jitsi-meet web client a deployment serves, when that is known: a client feature that
came later (polls, in-browser video recording) is not judged by today's defaults on a client that predates it."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.advisories.docker import deployment_images
from auditor.advisories.versions import docker_stable
from auditor.facts import View, web_build
from auditor.model import Evidence
from auditor.parsers.base import Location
from checks._common import short


@dataclass(frozen=True)
class ClientRelease:
    what: str  # "jitsi-meet-web 1.0.4466-1", "image jitsi/web:stable-5142"
    evidence: Evidence | None


@dataclass(frozen=True)
class Feature:
    """A client feature and the first releases that may have it. Where the first release is not certain,
    the earliest candidate: an older client is then judged as a current one (no false pass)."""

    name: str
    web_build: int  # jitsi-meet-web 1.0.N
    stable: int  # docker-jitsi-meet image tag stable-N (the same N as the jitsi-meet 2.0.N meta package)

    def since(self) -> str:
        return f"jitsi-meet-web 1.0.{self.web_build} / stable-{self.stable}"


def client_predating(v: View, feature: Feature) -> ClientRelease | None:
    """The client's release when what the evidence shows of it predates `feature`: the installed
    jitsi-meet-web package, else every docker-jitsi-meet web image named with a release tag (one moving
    or unknown tag, or one as new as the feature, and it is not known to predate it). None otherwise."""
    build = web_build(v)
    if build is not None:
        if build >= feature.web_build:
            return None
        version = v.dep.packages.get("jitsi-meet-web", "")
        return ClientRelease(f"jitsi-meet-web {short(version, 40)}", v.package_ev("jitsi-meet-web"))
    if v.dep.packages.get("jitsi-meet-web"):  # installed, version not of the 1.0.N form
        return None
    images = [r for r in v.dep.derived("docker.images", deployment_images).images if r.jitsi_image == "web"]
    if images:
        numbers = [docker_stable(r.tag or "") for r in images]
        if any(n is None or n >= feature.stable for n in numbers):
            return None
        newest = max(images, key=lambda r: docker_stable(r.tag or "") or 0)
        return ClientRelease(f"image {short(newest.reference, 60)}",
                             Evidence(Location(newest.path, newest.line), f"image {short(newest.reference, 60)}"))
    tag, where = v.env_get("JITSI_IMAGE_VERSION") if v.env_ok else (None, None)
    number = docker_stable(tag or "")
    if number is not None and number < feature.stable:
        return ClientRelease(f"JITSI_IMAGE_VERSION={short(tag or '', 40)}", where)
    return None
