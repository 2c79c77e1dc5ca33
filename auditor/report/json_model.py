"""The JSON report's models (pydantic at the edge only) and the JSON Schema generated from them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]  # hex, lower case

AuthKind = Literal["anonymous", "internal_hashed", "internal_plain", "ldap", "cyrus", "jwt", "other"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FactsModel(_Strict):
    auth_main: AuthKind | None = Field(alias="auth.main")
    auth_guest_domain: bool | None = Field(alias="auth.guest_domain")
    auth_secure_domain: bool | None = Field(alias="auth.secure_domain")
    lobby_enabled: bool | None = Field(alias="lobby.enabled")
    rooms_breakout: bool | None = Field(alias="rooms.breakout")
    moderation_av: bool | None = Field(alias="moderation.av")
    e2ee_available: bool | None = Field(alias="e2ee.available")
    p2p_enabled: bool | None = Field(alias="p2p.enabled")
    privacy_third_party_stun: bool | None = Field(alias="privacy.third_party_stun")
    privacy_third_party_requests: bool | None = Field(alias="privacy.third_party_requests")
    xmpp_c2s_require_encryption: bool | None = Field(alias="xmpp.c2s_require_encryption")
    web_tls_protocols: list[str] | None = Field(alias="web.tls_protocols")
    web_weak_tls: bool | None = Field(alias="web.weak_tls")
    web_hsts: bool | None = Field(alias="web.hsts")
    jvb_rest_public: bool | None = Field(alias="jvb.rest_public")
    web_welcome_page: bool | None = Field(alias="web.welcome_page")
    recording_enabled: bool | None = Field(alias="recording.enabled")
    xmpp_rate_limit: bool | None = Field(alias="xmpp.rate_limit")
    secrets_weak_or_default: bool | None = Field(alias="secrets.weak_or_default")
    secrets_weak: list[str] | None = Field(alias="secrets.weak")


class EvidenceModel(_Strict):
    path: str
    line: int | None = None
    excerpt: str | None = None


class FactDetailModel(_Strict):
    note: str | None = None
    evidence: list[EvidenceModel] = []


class CriterionModel(_Strict):
    id: str
    category: str
    title: str
    rating: Literal["Fully", "Partially", "No", "Unclear", "N/A"]
    basis: Literal["verified", "declared"]
    reasons: list[str]
    check_ids: list[str]
    review_2020: dict[str, str]


class WaiverModel(_Strict):
    check_id: str
    target: str | None
    justification: str
    expires: str
    approver: str
    source: str


class FindingGateModel(_Strict):
    gates: bool
    waived: bool
    waiver: WaiverModel | None = None
    baseline: Literal["new", "unchanged"] | None = None


class FixedModel(_Strict):
    target: str
    check_id: str
    title: str
    severity: str
    status_now: str | None


class ThresholdModel(_Strict):
    scope: str
    minimum: float
    actual: float | None
    met: bool


class TargetGateModel(_Strict):
    in_baseline: bool | None
    gating: list[str]
    waived: list[str]
    fixed: list[FixedModel]
    thresholds: list[ThresholdModel]


class GateModel(_Strict):
    fail_on: str
    date_utc: str
    waivers: str | None  # the paths the run was given (as given)
    # SHA-256 of the bytes the run read from them: `merge` compares runs by these; None without the file,
    # and absent from reports of versions that did not record them
    waivers_sha256: Sha256 | None = None
    baseline: str | None
    baseline_sha256: Sha256 | None = None
    min_scores: dict[str, Any]
    expired_waivers: list[WaiverModel]
    failed: bool


class FindingModel(_Strict):
    check_id: str
    title: str
    severity: Literal["info", "low", "medium", "high", "critical"]
    status: Literal["pass", "fail", "unclear", "not_applicable"]
    criterion_ids: list[str]
    message: str
    evidence: list[EvidenceModel]
    remediation: str
    references: list[str]
    gate: FindingGateModel | None = None  # waived, baseline state, gates


class CategoryScoreModel(_Strict):
    category: str
    score: float | None
    rated: int
    unclear: int


class ScoresModel(_Strict):
    overall: float | None
    coverage: float | None
    categories: list[CategoryScoreModel]


class CollectedModel(_Strict):
    key: str
    kind: Literal["file", "command"]
    status: str
    role: str | None = None
    active: bool | None = None
    size: int | None = None
    mode: str | None = None
    owner: str | None = None
    group: str | None = None
    sha256: str | None = None
    redactions: int = 0
    error: str | None = None


class HostKeyModel(_Strict):
    type: str
    fingerprint: str


class TargetModel(_Strict):
    target: str
    transport: str | None
    started_at: str
    finished_at: str
    complete: bool
    error: str | None = None
    error_stage: str | None = None
    host_key: HostKeyModel | None = None
    host_roles: list[str] = []  # Jitsi components the target runs (empty: unknown, every check applies)
    host_roles_source: str | None = None  # inventory, detected or unknown
    facts: FactsModel | None
    fact_details: dict[str, FactDetailModel] = {}
    criteria: list[CriterionModel]
    findings: list[FindingModel]
    scores: ScoresModel | None
    collected: list[CollectedModel]
    probes: dict[str, Any] = {}
    collection_errors: list[str] = []
    notes: list[str] = []
    gate: TargetGateModel | None = None


class ToolModel(_Strict):
    name: Literal["jitsi-audit"]
    version: str


class InputFileModel(_Strict):
    """A file of the user's that decided the ratings: its path as given and the SHA-256 of its bytes."""

    path: str
    sha256: Sha256


class ProfileModel(_Strict):
    name: str
    version: int
    catalogue: str
    catalogue_version: int
    files: list[InputFileModel] = []  # the user's profile files it was built from, base first (none: built-in)
    declarations: InputFileModel | None = None  # the operator declarations file the run read


class FleetRowModel(_Strict):
    """One target of the fleet summary: what the terminal report's fleet table shows."""

    target: str
    complete: bool
    roles: list[str]  # the Jitsi components it runs (empty: unknown)
    score: float | None
    failed: dict[Literal["critical", "high", "medium", "low", "info"], int]  # failed findings by severity
    error: str | None  # "stage: reason" when incomplete


class ReportModel(_Strict):
    schema_version: str
    tool: ToolModel
    profile: ProfileModel
    generated_at: str
    fail_on: str
    exit_code: int
    gate: GateModel | None = None
    fleet: list[FleetRowModel] = []  # one row per target, in the order of `targets`
    targets: list[TargetModel]


def report_schema() -> dict[str, object]:
    schema = ReportModel.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://jitsi-audit.invalid/schema/report-{SCHEMA_VERSION}.json"
    return schema
