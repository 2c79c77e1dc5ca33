"""The criteria catalogue, the default profile and every check's metadata are valid and consistent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.criteria import ProfileError, load_declarations, load_profile
from auditor.model import Rating, Severity
from auditor.registry import CheckMeta, MetadataError, all_checks
from tests.core.test_user_files import no_hang

REVIEW_IDS = ["enc.algorithm", "enc.key_strength", "enc.in_transit", "enc.at_rest_provider", "enc.all_channels", "enc.files_recordings", "enc.e2ee", "enc.scrutiny", "auth.password_policy", "auth.mfa", "auth.directory", "auth.sso", "auth.rbac", "auth.meeting_passwords", "auth.meeting_password_policy", "jur.headquarters", "jur.vendor_access", "jur.on_prem", "jur.data_location", "jur.certifications", "jur.privacy", "jur.transparency", "mgmt.access_control", "mgmt.in_meeting_controls", "mgmt.central_control", "mgmt.endpoint_versions", "mgmt.ediscovery", "mgmt.audit_reporting", "mgmt.dlp_watermark", "vuln.nvd_2019", "vuln.nvd_2020", "vuln.disclosure", "vuln.bug_bounty"]


def test_catalogue_has_the_33_review_criteria_in_five_categories() -> None:
    profile = load_profile("default")
    assert profile.criterion_ids == REVIEW_IDS
    assert [c for c, _ in profile.categories] == [
        "encryption",
        "authentication",
        "jurisdiction",
        "security_management",
        "vulnerability_management",
    ]
    counts = {cat: sum(1 for c in profile.criteria if c.category == cat) for cat, _ in profile.categories}
    assert counts == {
        "encryption": 8,
        "authentication": 7,
        "jurisdiction": 7,
        "security_management": 7,
        "vulnerability_management": 4,
    }


def test_review_reference_columns() -> None:
    crit = {c.id: c for c in load_profile("default").criteria}
    assert crit["enc.at_rest_provider"].review_2020 == {"jitsi": "No", "skype_for_business": "Unclear"}
    assert crit["auth.meeting_passwords"].review_2020 == {"jitsi": "Fully", "skype_for_business": "No"}
    assert crit["vuln.nvd_2020"].review_2020 == {"jitsi": "0.01", "skype_for_business": "0.00"}


def test_every_check_has_valid_metadata_and_known_criteria() -> None:
    profile = load_profile("default")
    checks = all_checks(profile.criterion_ids, with_plugins=False)
    assert len(checks) >= 15
    for c in checks:
        c.meta.validate(profile.criterion_ids)
    referenced = {cid for crit in profile.criterion_ids for cid in profile.check_ids(crit)}
    known = {c.id for c in checks}
    assert referenced <= known, f"profile rules name unknown checks: {sorted(referenced - known)}"


def test_every_rule_set_ends_with_a_catch_all() -> None:
    profile = load_profile("default")
    for cid, rules in profile.rules.items():
        assert not rules[-1].conditions, f"{cid}: the last rule must hold always"


def test_metadata_validation_rejects_bad_checks() -> None:
    bad = CheckMeta("Bad Id", "", Severity.HIGH, (), "short", "x", ("http://insecure",))
    with pytest.raises(MetadataError) as err:
        bad.validate(REVIEW_IDS)
    for part in ("id must be", "title", "criterion", "rationale", "remediation", "https URL"):
        assert part in str(err.value)


def test_profile_errors_name_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "p.yaml"
    broken.write_text("profile: x\ncriteria:\n  enc.algorithm: [\n")
    with pytest.raises(ProfileError, match=r"p\.yaml:\d+"):
        load_profile(str(broken))
    with pytest.raises(ProfileError, match="unknown profile"):
        load_profile("nope")


def test_declarations(tmp_path: Path) -> None:
    profile = load_profile("default")
    good = tmp_path / "d.yaml"
    good.write_text(
        "declarations:\n  jur.certifications: {rating: Partially, statement: ISO 27001 hosting}\n"
    )
    decl = load_declarations(good, profile)
    assert decl["jur.certifications"].rating is Rating.PARTIALLY
    verified = tmp_path / "v.yaml"
    verified.write_text("enc.in_transit: {rating: Fully, statement: trust me}\n")
    with pytest.raises(ProfileError, match="cannot be declared"):
        load_declarations(verified, profile)
    missing = tmp_path / "m.yaml"
    missing.write_text("jur.certifications: {rating: Fully}\n")
    with pytest.raises(ProfileError, match="statement"):
        load_declarations(missing, profile)


def test_huge_fifo_or_binary_profile_and_declarations(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as f:
        f.truncate(4 * 1024 * 1024 + 1)
    with pytest.raises(ProfileError, match=r"^profile .*huge\.yaml is larger than 4194304 bytes$"):
        load_profile(str(huge))
    with pytest.raises(ProfileError, match=r"^declarations .*huge\.yaml is larger than 4194304 bytes$"):
        load_declarations(huge, load_profile("default"))
    os.mkfifo(tmp_path / "fifo.yaml")
    with no_hang(), pytest.raises(ProfileError, match=r"^profile .*fifo\.yaml is not a regular file$"):
        load_profile(str(tmp_path / "fifo.yaml"))
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(ProfileError, match=r"^declarations .*bin\.yaml is not UTF-8 text$"):
        load_declarations(binary, load_profile("default"))  # was an uncaught UnicodeDecodeError
