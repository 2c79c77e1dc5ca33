"""The criteria model: catalogue + profile rules + operator declarations → one rating per criterion.

A profile is YAML in `profiles/` (built-in, by name) or any file. Besides the criteria rules it may
- `extends: default` (a built-in name, or a file path relative to the extending file): start from
  that profile; the keys given here override it, criterion by criterion for `criteria`;
- `severities: {check.id: high}`: change the severity of checks (so --fail-on and every report see it);
- `disabled_checks: [check.id, ...]`: do not run these checks (criteria that need them become Unclear);
- `thresholds: {min_score: 60, categories: {encryption: 70}}`: minimum scores that gate the run
  (the command line's --min-score overrides them key by key);
- `fail_on: high`: the default of --fail-on.
Errors name the file and line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.gating.thresholds import MinScores, ThresholdError, min_scores_from_mapping
from auditor.gating.yamlsrc import YamlSourceError, load_yaml, where
from auditor.model import Basis, CriterionRating, Finding, Rating, Severity, Status
from auditor.user_files import read_user_text

if TYPE_CHECKING:
    from auditor.facts import Facts
    from auditor.registry import Check

PROFILE_PACKAGE = "profiles"
MAX_BYTES = 4 * 1024 * 1024  # a profile or declarations file
_CONDITIONS = {"any_fail", "any_pass", "all_pass", "all_ok", "any_unclear", "fact", "fact_known"}


class ProfileError(ValueError):
    """A profile, catalogue or declarations file that cannot be used: one line, with file (and line)."""


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    category: str
    title: str
    review_2020: dict[str, str]


@dataclass(frozen=True, slots=True)
class Rule:
    conditions: dict[str, Any]
    rating: Rating
    reason: str


@dataclass(frozen=True, slots=True)
class Declaration:
    rating: Rating
    statement: str
    reference: str | None = None


@dataclass(slots=True)
class Profile:
    name: str
    version: int
    categories: list[tuple[str, str]]  # (id, title) in review order
    criteria: list[Criterion]
    rules: dict[str, list[Rule]]
    declarable: set[str]
    fail_on: str = "high"
    source: str = ""
    catalogue_version: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    severity_overrides: dict[str, Severity] = field(default_factory=dict)
    disabled_checks: set[str] = field(default_factory=set)
    min_scores: MinScores = field(default_factory=MinScores)
    extends: list[str] = field(default_factory=list)  # the sources this profile was built on, base first
    origins: dict[str, str] = field(default_factory=dict)  # "severities:<id>" / "disabled:<id>" → file:line
    user_files: set[str] = field(default_factory=set)  # the sources read from the user's files (not built-in)

    @property
    def user_check_ids(self) -> set[str]:
        """The check ids named in `severities` or `disabled_checks` by the user's own profile files (the
        built-in profiles' ids need no validation at run time: the tests hold them to the registry)."""
        ids = set()
        for key, at in self.origins.items():
            kind, _, cid = key.partition(":")
            if kind in ("severities", "disabled") and any(at == f or at.startswith(f + ":") for f in self.user_files):
                ids.add(cid)
        return ids

    def apply_to_checks(self, checks: list[Check]) -> list[Check]:
        """The checks this profile runs: disabled ones removed, severities overridden.

        Unknown check ids in `severities` or `disabled_checks` are errors (file:line).
        """
        known = {c.id for c in checks}
        for kind, ids in (("severities", self.severity_overrides), ("disabled", self.disabled_checks)):
            for cid in sorted(ids):
                if cid not in known:
                    at = self.origins.get(f"{kind}:{cid}", self.source)
                    raise ProfileError(f"{at}: unknown check {cid!r}")
        out: list[Check] = []
        for c in checks:
            if c.id in self.disabled_checks:
                continue
            sev = self.severity_overrides.get(c.id)
            out.append(c if sev is None else replace(c, meta=replace(c.meta, severity=sev)))
        return out

    @property
    def criterion_ids(self) -> list[str]:
        return [c.id for c in self.criteria]

    def check_ids(self, criterion_id: str) -> list[str]:
        ids: list[str] = []
        for rule in self.rules.get(criterion_id, []):
            for key in ("any_fail", "any_pass", "all_pass", "all_ok", "any_unclear"):
                ids += [i for i in rule.conditions.get(key, []) if i not in ids]
        return ids


def _load_yaml(text: str, source: str) -> Any:
    """safe YAML whose mappings and lists remember their lines (auditor.gating.yamlsrc)."""
    try:
        return load_yaml(text, source)
    except YamlSourceError as exc:
        raise ProfileError(str(exc)) from None


def _builtin_text(name: str) -> str:
    return resources.files(PROFILE_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def builtin_profiles() -> list[str]:
    names = []
    for entry in resources.files(PROFILE_PACKAGE).iterdir():
        if entry.name.endswith(".yaml") and not entry.name.startswith("criteria-"):
            names.append(entry.name.removesuffix(".yaml"))
    return sorted(names)


_PROFILE_KEYS = {
    "profile",
    "version",
    "catalogue",
    "fail_on",
    "criteria",
    "extends",
    "severities",
    "disabled_checks",
    "thresholds",
    "description",
}
_MAX_EXTENDS = 8


def _read_profile(name_or_path: str, relative_to: Path | None = None) -> tuple[Any, str, Path | None]:
    """(parsed YAML, source name, directory for relative `extends`) of a profile file or built-in."""
    path = Path(name_or_path)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    if path.suffix in (".yaml", ".yml") and path.exists():
        text, source = read_user_text(path, "profile", ProfileError, max_bytes=MAX_BYTES), str(path)
        base: Path | None = path.parent
    elif name_or_path in builtin_profiles():
        text, source, base = _builtin_text(f"{name_or_path}.yaml"), f"profiles/{name_or_path}.yaml", None
    else:
        raise ProfileError(f"unknown profile {name_or_path!r} (built-in: {', '.join(builtin_profiles())})")
    return _load_yaml(text, source), source, base


def load_profile(name_or_path: str = "default") -> Profile:
    data, source, base = _read_profile(name_or_path)
    user_files = {source} if base is not None else set()  # base: None for a built-in profile
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a profile is a mapping")
    chain: list[tuple[dict[str, Any], str]] = [(data, source)]
    while chain[0][0].get("extends") is not None:
        child, child_source = chain[0]
        parent_name = child["extends"]
        at = where(child_source, child, "extends")
        if not isinstance(parent_name, str) or not parent_name.strip():
            raise ProfileError(f"{at}: 'extends' names a profile")
        if len(chain) > _MAX_EXTENDS:
            raise ProfileError(f"{at}: profiles extend each other too deeply")
        try:
            parent, parent_source, parent_base = _read_profile(parent_name, base)
        except ProfileError as exc:
            raise ProfileError(f"{at}: extends: {exc}") from None
        if parent_base is not None:
            user_files.add(parent_source)
        if parent_source in {s for _, s in chain}:
            raise ProfileError(f"{at}: profiles extend each other in a loop")
        if not isinstance(parent, dict):
            raise ProfileError(f"{parent_source}: a profile is a mapping")
        chain.insert(0, (parent, parent_source))
        base = parent_base
    profile = _build_profile(data, source) if len(chain) == 1 else _build_extended(chain)
    profile.user_files = user_files
    return profile


def _build_extended(chain: list[tuple[dict[str, Any], str]]) -> Profile:
    """Merge a chain of profiles, base first; later keys win, `criteria` entry by entry."""
    merged: dict[str, Any] = {}
    criteria: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for data, source in chain:
        for key, value in data.items():
            if key == "criteria":
                if not isinstance(value, dict):
                    at = where(source, data, key)
                    raise ProfileError(f"{at}: 'criteria' must map criterion ids to rules")
                for cid, entry in value.items():
                    criteria[cid] = entry
                    origins[f"criterion:{cid}"] = where(source, value, cid)
            elif key in ("severities", "disabled_checks", "thresholds", "extends"):
                continue  # validated and merged per file below
            else:
                merged[key] = value
        if "profile" not in data:
            merged["profile"] = Path(source).stem
    merged["criteria"] = criteria
    profile = _build_profile(merged, chain[-1][1], origins=origins, extensions=False)
    for data, source in chain:
        _apply_extensions(profile, data, source)
    profile.extends = [s for _, s in chain[:-1]]
    return profile


def _apply_extensions(profile: Profile, data: dict[str, Any], source: str) -> None:
    """severities, disabled_checks and thresholds of one profile file, on top of what came before."""
    unknown = sorted(set(map(str, data)) - _PROFILE_KEYS)
    if unknown:
        raise ProfileError(f"{where(source, data, unknown[0])}: unknown profile key {unknown[0]!r}")
    sev = data.get("severities")
    if sev is not None:
        if not isinstance(sev, dict):
            at = where(source, data, "severities")
            raise ProfileError(f"{at}: 'severities' maps check ids to severities")
        for cid, value in sev.items():
            try:
                profile.severity_overrides[str(cid)] = Severity(str(value).lower())
            except ValueError:
                choices = ", ".join(s.value for s in Severity)
                at = where(source, sev, cid)
                raise ProfileError(f"{at}: severity of {cid} must be one of {choices}") from None
            profile.origins[f"severities:{cid}"] = where(source, sev, cid)
    disabled = data.get("disabled_checks")
    if disabled is not None:
        if not isinstance(disabled, list) or not all(isinstance(c, str) for c in disabled):
            at = where(source, data, "disabled_checks")
            raise ProfileError(f"{at}: 'disabled_checks' is a list of check ids")
        for i, cid in enumerate(disabled):
            profile.disabled_checks.add(cid)
            profile.origins[f"disabled:{cid}"] = where(source, disabled, i)
    thresholds = data.get("thresholds")
    if thresholds is not None:
        try:
            extra = min_scores_from_mapping(
                thresholds, [c for c, _ in profile.categories], where(source, data, "thresholds")
            )
        except ThresholdError as exc:
            raise ProfileError(str(exc)) from None
        profile.min_scores = profile.min_scores.merged(extra)
    fail_on = data.get("fail_on")
    if fail_on is not None and str(fail_on).lower() not in {s.value for s in Severity}:
        choices = ", ".join(s.value for s in Severity)
        raise ProfileError(f"{where(source, data, 'fail_on')}: fail_on must be one of {choices}")


def _build_profile(
    data: dict[str, Any],
    source: str,
    *,
    origins: Mapping[str, str] | None = None,
    extensions: bool = True,
) -> Profile:
    def at(cid: str) -> str:
        return (origins or {}).get(f"criterion:{cid}") or where(source, spec, cid)

    catalogue_name = str(data.get("catalogue", "criteria-2020.yaml"))
    catalogue = _load_yaml(_builtin_text(catalogue_name), f"profiles/{catalogue_name}")
    categories = [(str(c["id"]), str(c["title"])) for c in catalogue["categories"]]
    criteria = [
        Criterion(
            str(c["id"]),
            str(c["category"]),
            str(c["title"]),
            {k: str(v) for k, v in c["review_2020"].items()},
        )
        for c in catalogue["criteria"]
    ]
    known = {c.id for c in criteria}
    rules: dict[str, list[Rule]] = {}
    declarable: set[str] = set()
    spec = data.get("criteria") or {}
    if not isinstance(spec, dict):
        raise ProfileError(f"{source}: 'criteria' must map criterion ids to rules")
    for cid, entry in spec.items():
        if cid not in known:
            raise ProfileError(f"{at(cid)}: unknown criterion {cid!r}")
        if not isinstance(entry, dict) or not isinstance(entry.get("rules"), list):
            raise ProfileError(f"{at(cid)}: criterion {cid!r} needs a list of rules")
        if entry.get("declarable"):
            declarable.add(cid)
        rules[cid] = [_build_rule(r, at(cid), cid) for r in entry["rules"]]
    missing = known - set(rules)
    if missing:
        raise ProfileError(f"{source}: no rules for {', '.join(sorted(missing))}")
    profile = Profile(
        name=str(data.get("profile", Path(source).stem)),
        version=int(data.get("version", 1)),
        categories=categories,
        criteria=criteria,
        rules=rules,
        declarable=declarable,
        fail_on=str(data.get("fail_on", "high")),
        source=source,
        catalogue_version=int(catalogue.get("version", 1)),
    )
    if extensions:
        _apply_extensions(profile, data, source)
    return profile


def _build_rule(raw: Any, source: str, cid: str) -> Rule:
    if not isinstance(raw, dict) or "rating" not in raw:
        raise ProfileError(f"{source}: {cid}: each rule needs a rating")
    try:
        rating = Rating(str(raw["rating"]))
    except ValueError:
        raise ProfileError(f"{source}: {cid}: rating must be one of {[r.value for r in Rating]}") from None
    conditions = raw.get("if") or {}
    if not isinstance(conditions, dict) or set(conditions) - _CONDITIONS:
        raise ProfileError(f"{source}: {cid}: unknown condition(s) {sorted(set(conditions) - _CONDITIONS)}")
    return Rule(conditions, rating, str(raw.get("reason", "")))


# -- declarations -------------------------------------------------------------------------------


def load_declarations(path: Path, profile: Profile) -> dict[str, Declaration]:
    """Operator declarations: `criterion id: {rating, statement, reference}` for declarable criteria."""
    text = read_user_text(path, "declarations", ProfileError, max_bytes=MAX_BYTES)
    data = _load_yaml(text, str(path)) or {}
    entries = data.get("declarations", data) if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise ProfileError(f"{path}: declarations map criterion ids to {{rating, statement}}")
    result: dict[str, Declaration] = {}
    for cid, entry in entries.items():
        if cid not in profile.criterion_ids:
            raise ProfileError(f"{path}: unknown criterion {cid!r}")
        if cid not in profile.declarable:
            raise ProfileError(f"{path}: {cid} is verified from the deployment and cannot be declared")
        if not isinstance(entry, dict) or "rating" not in entry or not entry.get("statement"):
            raise ProfileError(f"{path}: {cid} needs a rating and a statement")
        try:
            rating = Rating(str(entry["rating"]))
        except ValueError:
            raise ProfileError(f"{path}: {cid}: rating must be one of {[r.value for r in Rating]}") from None
        ref = entry.get("reference")
        result[cid] = Declaration(rating, str(entry["statement"]), str(ref) if ref else None)
    return result


# -- rating -------------------------------------------------------------------------------------


def _holds(conditions: Mapping[str, Any], results: Mapping[str, Finding], facts: Facts) -> bool:
    def status(cid: str) -> Status | None:
        f = results.get(cid)
        return f.status if f else None

    for key, arg in conditions.items():
        if key == "any_fail" and not any(status(c) is Status.FAIL for c in arg):
            return False
        if key == "any_pass" and not any(status(c) is Status.PASS for c in arg):
            return False
        if key == "all_pass" and not all(status(c) is Status.PASS for c in arg):
            return False
        if key == "all_ok":
            states = [status(c) for c in arg]
            if (
                not all(s in (Status.PASS, Status.NOT_APPLICABLE) for s in states)
                or Status.PASS not in states
            ):
                return False
        if key == "any_unclear" and not any(status(c) is Status.UNCLEAR for c in arg):
            return False
        if key == "fact":
            for fkey, wanted in arg.items():
                value = facts.value(fkey)
                options = wanted if isinstance(wanted, list) else [wanted]
                if value is None or value not in options:
                    return False
        if key == "fact_known" and any(facts.value(k) is None for k in arg):
            return False
    return True


def rate(
    profile: Profile,
    findings: list[Finding],
    facts: Facts,
    declarations: Mapping[str, Declaration] | None = None,
) -> list[CriterionRating]:
    by_id = {f.check_id: f for f in findings}
    informing: dict[str, list[str]] = {}
    for f in findings:
        for cid in f.criteria:
            informing.setdefault(cid, []).append(f.check_id)
    ratings: list[CriterionRating] = []
    for crit in profile.criteria:
        check_ids = sorted(set(profile.check_ids(crit.id)) | set(informing.get(crit.id, [])))
        declared = (declarations or {}).get(crit.id)
        if declared is not None:
            reasons = [f"declared by the operator: {declared.statement}"]
            if declared.reference:
                reasons.append(f"reference: {declared.reference}")
            ratings.append(
                CriterionRating(
                    crit.id,
                    crit.category,
                    crit.title,
                    declared.rating,
                    Basis.DECLARED,
                    tuple(reasons),
                    tuple(check_ids),
                    crit.review_2020,
                )
            )
            continue
        rating, reasons = Rating.UNCLEAR, ["no rule of the profile matched"]
        for rule in profile.rules[crit.id]:
            if _holds(rule.conditions, by_id, facts):
                rating, reasons = rule.rating, [rule.reason]
                reasons += _supporting(rule, by_id)
                break
        ratings.append(
            CriterionRating(
                crit.id,
                crit.category,
                crit.title,
                rating,
                Basis.VERIFIED,
                tuple(reasons),
                tuple(check_ids),
                crit.review_2020,
            )
        )
    return ratings


def _supporting(rule: Rule, by_id: Mapping[str, Finding]) -> list[str]:
    """The check messages behind a rating: failures for a failing rule, unclear reasons for Unclear."""
    wanted = {
        "any_fail": Status.FAIL,
        "any_unclear": Status.UNCLEAR,
        "all_pass": Status.PASS,
        "all_ok": Status.PASS,
        "any_pass": Status.PASS,
    }
    out: list[str] = []
    for key, status in wanted.items():
        for cid in rule.conditions.get(key, []):
            f = by_id.get(cid)
            if f is not None and f.status is status:
                out.append(f"{cid}: {f.message}")
    return out
