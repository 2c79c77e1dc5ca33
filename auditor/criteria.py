"""The criteria model: catalogue + profile rules + operator declarations → one rating per criterion.

A profile is YAML in `profiles/` (built-in, by name) or any file. Besides the criteria rules it may
- `extends: default` (a built-in name, or a file path relative to the extending file): start from
  that profile; the keys given here override it, criterion by criterion for `criteria`;
- `severities: {check.id: high}`: change the severity of checks (so --fail-on and every report see it);
- `disabled_checks: [check.id, ...]`: do not run these checks (criteria that need them become Unclear);
- `thresholds: {min_score: 60, categories: {encryption: 70}}`: minimum scores that gate the run
  (the command line's --min-score overrides them key by key);
- `fail_on: high`: the default of --fail-on;
- `max_waiver_days: 365`: the latest a waiver may expire, in days after the run (--max-waiver-days
  overrides it);
- `catalogue`: one of the built-in criteria catalogues (profiles/criteria-*.yaml), no other file.
Which criteria may be declared (`declarable: true`) only the built-in profiles say. Rule conditions,
fact names and field types are checked when the file is read (check ids once the checks are registered).
Errors name the file and line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.gating.thresholds import MinScores, ThresholdError, min_scores_from_mapping
from auditor.gating.yamlsrc import YamlSourceError, load_yaml, where
from auditor.model import Basis, CriterionRating, Finding, Rating, Severity, Status
from auditor.user_files import read_user_text_sha256

if TYPE_CHECKING:
    from auditor.facts import Facts
    from auditor.registry import Check

PROFILE_PACKAGE = "profiles"
MAX_BYTES = 4 * 1024 * 1024  # a profile or declarations file
_CHECK_CONDITIONS = ("any_fail", "any_pass", "all_pass", "all_ok", "any_unclear")  # lists of check ids
_CONDITIONS = {*_CHECK_CONDITIONS, "fact", "fact_known"}
_RULE_KEYS = {"if", "rating", "reason"}
_ENTRY_KEYS = {"rules", "declarable"}  # `declarable` only in the built-in profiles
_DECLARATION_KEYS = {"rating", "statement", "reference"}
DEFAULT_CATALOGUE = "criteria-2020.yaml"
MAX_TEXT = 4096  # characters of a statement, reference, reason or description
MAX_NAME = 200  # characters of a profile name


class ProfileError(ValueError):
    """A profile, catalogue or declarations file that cannot be used: one line, with file (and line)."""


def _kind(value: Any) -> str:
    """What a YAML value is, for an error message: never the value itself (a list built from aliases can
    expand to gigabytes when printed)."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "text" if isinstance(value, str) else type(value).__name__


def _shown(value: Any, limit: int = 60) -> str:
    """A short repr of a key or scalar for an error message (a long or nested value only by its kind)."""
    if isinstance(value, str):
        return repr(value if len(value) <= limit else value[:limit] + "...")
    if isinstance(value, bool | int | float):
        return repr(value)
    return _kind(value)


def _text(value: Any, at: str, what: str, *, limit: int = MAX_TEXT) -> str:
    """A field that must be one non-empty line of text (or paragraph) of at most `limit` characters."""
    if not isinstance(value, str):
        raise ProfileError(f"{at}: {what} must be text, not {_kind(value)}")
    if not value.strip():
        raise ProfileError(f"{at}: {what} must not be empty")
    if len(value) > limit:
        raise ProfileError(f"{at}: {what} is longer than {limit} characters")
    return value


def _version(value: Any, at: str, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ProfileError(f"{at}: {what} must be a whole number such as 1, not {_shown(value)}")
    return value


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
    max_waiver_days: int | None = None  # waivers may expire at most this many days after the run
    extends: list[str] = field(default_factory=list)  # the sources this profile was built on, base first
    # "severities:<id>" / "disabled:<id>" / "rule:<id>" (a check named in a rule) → file:line
    origins: dict[str, str] = field(default_factory=dict)
    user_files: set[str] = field(default_factory=set)  # the sources read from the user's files (not built-in)
    # SHA-256 of the bytes of each user file the profile was built from, base first: the report records
    # them, `merge` compares runs by them, the evidence bundle refuses a file changed since
    file_sha256: dict[str, str] = field(default_factory=dict)
    declarations_file: tuple[str, str] | None = None  # (path, SHA-256) of the declarations read for it

    @property
    def user_check_ids(self) -> set[str]:
        """The check ids named in `severities`, `disabled_checks` or the criteria rules by the user's own
        profile files (the built-in profiles' ids need no validation at run time: the tests hold them to
        the registry)."""
        ids = set()
        for key, at in self.origins.items():
            kind, _, cid = key.partition(":")
            in_user_file = any(at == f or at.startswith(f + ":") for f in self.user_files)
            if kind in ("severities", "disabled", "rule") and in_user_file:
                ids.add(cid)
        return ids

    def apply_to_checks(self, checks: list[Check]) -> list[Check]:
        """The checks this profile runs: disabled ones removed, severities overridden.

        Unknown check ids in `severities`, `disabled_checks` or the rules' conditions are errors (file:line).
        """
        known = {c.id for c in checks}
        in_rules = {i for crit in self.criterion_ids for i in self.check_ids(crit)}
        named: tuple[tuple[str, Iterable[str]], ...] = (
            ("severities", self.severity_overrides),
            ("disabled", self.disabled_checks),
            ("rule", in_rules),
        )
        for kind, ids in named:
            for cid in sorted(ids):
                if cid not in known:
                    at = self.origins.get(f"{kind}:{cid}", self.source)
                    raise ProfileError(f"{at}: unknown check {_shown(cid)}")
        out: list[Check] = []
        for c in checks:
            if c.id in self.disabled_checks:
                continue
            sev = self.severity_overrides.get(c.id)
            out.append(c if sev is None else replace(c, meta=replace(c.meta, severity=sev)))
        if checks and not out:  # an audit of nothing would report no failure: exit 0, a pass
            raise ProfileError(f"{self.source}: the profile disables every check: nothing would be audited")
        return out

    @property
    def criterion_ids(self) -> list[str]:
        return [c.id for c in self.criteria]

    def check_ids(self, criterion_id: str) -> list[str]:
        ids: dict[str, None] = {}  # in order, once each (a list's `in` made aliased rules quadratic)
        for rule in self.rules.get(criterion_id, []):
            for key in _CHECK_CONDITIONS:
                ids.update(dict.fromkeys(rule.conditions.get(key, [])))
        return list(ids)


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
    "max_waiver_days",
}
MAX_WAIVER_DAYS_LIMIT = 36_500  # a bound the policy itself must respect (100 years is "no limit")
_MAX_EXTENDS = 8


def _read_profile(name_or_path: str, relative_to: Path | None = None) -> tuple[Any, str, Path | None, str | None]:
    """(parsed YAML, source name, directory for relative `extends`, SHA-256 of a user file's bytes) of a
    profile file or built-in."""
    path = Path(name_or_path)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    digest: str | None = None
    if path.suffix in (".yaml", ".yml") and path.exists():
        text, digest = read_user_text_sha256(path, "profile", ProfileError, max_bytes=MAX_BYTES)
        source, base = str(path), path.parent
    elif name_or_path in builtin_profiles():
        text, source, base = _builtin_text(f"{name_or_path}.yaml"), f"profiles/{name_or_path}.yaml", None
    else:
        raise ProfileError(f"unknown profile {name_or_path!r} (built-in: {', '.join(builtin_profiles())})")
    return _load_yaml(text, source), source, base, digest


def load_profile(name_or_path: str = "default") -> Profile:
    data, source, base, digest = _read_profile(name_or_path)
    user_files = {source} if base is not None else set()  # base: None for a built-in profile
    digests = {source: digest} if digest is not None else {}
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
            parent, parent_source, parent_base, parent_digest = _read_profile(parent_name, base)
        except ProfileError as exc:
            raise ProfileError(f"{at}: extends: {exc}") from None
        if parent_base is not None:
            user_files.add(parent_source)
        if parent_digest is not None:
            digests = {parent_source: parent_digest, **digests}
        if parent_source in {s for _, s in chain}:
            raise ProfileError(f"{at}: profiles extend each other in a loop")
        if not isinstance(parent, dict):
            raise ProfileError(f"{parent_source}: a profile is a mapping")
        chain.insert(0, (parent, parent_source))
        base = parent_base
    if len(chain) == 1:
        profile = _build_profile(data, source, user_files=user_files)
    else:
        profile = _build_extended(chain, user_files)
    profile.user_files = user_files
    profile.file_sha256 = digests
    return profile


def _build_extended(chain: list[tuple[dict[str, Any], str]], user_files: set[str]) -> Profile:
    """Merge a chain of profiles, base first; later keys win, `criteria` entry by entry."""
    merged: dict[str, Any] = {}
    criteria: dict[str, Any] = {}
    origins: dict[str, str] = {}  # "criterion:<id>" / "key:<top-level key>" → file:line
    files: dict[str, str] = {}  # criterion id → the file its rules come from
    for data, source in chain:
        for key, value in data.items():
            if key == "criteria":
                if not isinstance(value, dict):
                    at = where(source, data, key)
                    raise ProfileError(f"{at}: 'criteria' must map criterion ids to rules")
                for cid, entry in value.items():
                    criteria[cid] = entry
                    origins[f"criterion:{cid}"] = where(source, value, cid)
                    files[cid] = source
            elif key in ("severities", "disabled_checks", "thresholds", "extends"):
                continue  # validated and merged per file below
            else:
                merged[key] = value
                origins[f"key:{key}"] = where(source, data, key)
        if "profile" not in data:
            merged["profile"] = Path(source).stem
            origins["key:profile"] = source
    merged["criteria"] = criteria
    profile = _build_profile(
        merged, chain[-1][1], origins=origins, files=files, user_files=user_files, extensions=False
    )
    for data, source in chain:
        _apply_extensions(profile, data, source)
    profile.extends = [s for _, s in chain[:-1]]
    return profile


def _fail_on(value: Any, at: str) -> str:
    choices = [s.value for s in Severity]
    if not isinstance(value, str) or value.lower() not in choices:
        raise ProfileError(f"{at}: fail_on must be one of {', '.join(choices)}")
    return value.lower()


def _apply_extensions(profile: Profile, data: dict[str, Any], source: str) -> None:
    """severities, disabled_checks and thresholds of one profile file, on top of what came before."""
    unknown = sorted(set(map(str, data)) - _PROFILE_KEYS)
    if unknown:
        raise ProfileError(f"{where(source, data, unknown[0])}: unknown profile key {_shown(unknown[0])}")
    if "description" in data:
        _text(data["description"], where(source, data, "description"), "'description'")
    sev = data.get("severities")
    if sev is not None:
        if not isinstance(sev, dict):
            at = where(source, data, "severities")
            raise ProfileError(f"{at}: 'severities' maps check ids to severities")
        for cid, value in sev.items():
            try:
                if not isinstance(cid, str) or not isinstance(value, str):
                    raise ValueError
                profile.severity_overrides[cid] = Severity(value.lower())
            except ValueError:
                choices = ", ".join(s.value for s in Severity)
                at = where(source, sev, cid)
                shown = cid[:80] if isinstance(cid, str) else _shown(cid)
                raise ProfileError(f"{at}: severity of {shown} must be one of {choices}") from None
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
        at = where(source, data, "thresholds")
        _check_threshold_values(thresholds, at)
        try:
            extra = min_scores_from_mapping(thresholds, [c for c, _ in profile.categories], at)
        except ThresholdError as exc:
            raise ProfileError(str(exc)) from None
        profile.min_scores = profile.min_scores.merged(extra)
    if "fail_on" in data:
        _fail_on(data["fail_on"], where(source, data, "fail_on"))
    if "max_waiver_days" in data:
        profile.max_waiver_days = max_waiver_days(data["max_waiver_days"], where(source, data, "max_waiver_days"))


def max_waiver_days(value: Any, at: str) -> int:
    """A profile's or the command line's bound on waiver lifetimes: whole days, 1 to MAX_WAIVER_DAYS_LIMIT."""
    if type(value) is not int or not 1 <= value <= MAX_WAIVER_DAYS_LIMIT:
        raise ProfileError(f"{at}: max_waiver_days is a whole number of days from 1 to {MAX_WAIVER_DAYS_LIMIT}, "
                           f"not {_shown(value)}")
    return value


def _check_threshold_values(thresholds: Any, at: str) -> None:
    """Minimum scores are scalars (the thresholds module prints what it cannot read as a number)."""
    if not isinstance(thresholds, dict):
        return  # min_scores_from_mapping says what is wrong
    values = [("min_score", thresholds.get("min_score"))]
    cats = thresholds.get("categories")
    if isinstance(cats, dict):
        values += [(f"categories.{_shown(k)}", v) for k, v in cats.items()]
    for name, value in values:
        if value is not None and not isinstance(value, str | int | float):
            raise ProfileError(f"{at}: thresholds.{name}: a minimum score is a number, not {_kind(value)}")
        if isinstance(value, str) and len(value) > 40:  # the thresholds module would print it whole
            raise ProfileError(f"{at}: thresholds.{name}: a minimum score is a number, not {_shown(value)}")


def catalogue_names() -> list[str]:
    """The built-in criteria catalogues (the only files a profile's `catalogue` may name)."""
    return sorted(
        e.name
        for e in resources.files(PROFILE_PACKAGE).iterdir()
        if e.name.startswith("criteria-") and e.name.endswith(".yaml")
    )


def _load_catalogue(name: str) -> tuple[list[tuple[str, str]], list[Criterion], int]:
    """(categories, criteria, version) of a built-in catalogue, its shape checked."""
    source = f"profiles/{name}"
    data = _load_yaml(_builtin_text(name), source)
    if not isinstance(data, dict):
        raise ProfileError(f"{source}: a catalogue is a mapping with categories and criteria")
    version = _version(data.get("version", 1), where(source, data, "version"), "the catalogue's version")
    lists: dict[str, list[Any]] = {}
    for key in ("categories", "criteria"):
        value = data.get(key)
        if not isinstance(value, list) or not value:
            raise ProfileError(f"{where(source, data, key)}: a catalogue needs a list of {key}")
        lists[key] = value
    categories: list[tuple[str, str]] = []
    for i, c in enumerate(lists["categories"]):
        at = where(source, lists["categories"], i)
        if not isinstance(c, dict):
            raise ProfileError(f"{at}: a category is a mapping with id and title")
        categories.append(
            (_text(c.get("id"), at, "a category's id", limit=MAX_NAME), _text(c.get("title"), at, "its title"))
        )
    category_ids = {c for c, _ in categories}
    criteria: list[Criterion] = []
    seen: set[str] = set()
    for i, c in enumerate(lists["criteria"]):
        at = where(source, lists["criteria"], i)
        if not isinstance(c, dict):
            raise ProfileError(f"{at}: a criterion is a mapping with id, category, title and review_2020")
        cid = _text(c.get("id"), at, "a criterion's id", limit=MAX_NAME)
        category = _text(c.get("category"), at, f"the category of {cid}", limit=MAX_NAME)
        if category not in category_ids or cid in seen:
            raise ProfileError(f"{at}: {cid}: unknown category {_shown(category)} or a second {cid}")
        seen.add(cid)
        review = c.get("review_2020")
        if not isinstance(review, dict) or not all(
            isinstance(k, str) and isinstance(v, str | int | float) and not isinstance(v, bool)
            for k, v in review.items()
        ):
            raise ProfileError(f"{at}: {cid}: review_2020 maps products to ratings")
        title = _text(c.get("title"), at, f"the title of {cid}")
        criteria.append(Criterion(cid, category, title, {k: str(v) for k, v in review.items()}))
    return categories, criteria, version


@cache
def _builtin_declarable(catalogue_name: str) -> frozenset[str]:
    """The criteria of a catalogue that the built-in profiles mark `declarable` (what no configuration can
    show). Only they decide: a user's profile cannot make a verified criterion declarable."""
    found: set[str] = set()
    for name in builtin_profiles():
        data = _load_yaml(_builtin_text(f"{name}.yaml"), f"profiles/{name}.yaml")
        if not isinstance(data, dict) or data.get("catalogue", DEFAULT_CATALOGUE) != catalogue_name:
            continue
        spec = data.get("criteria")
        if isinstance(spec, dict):
            found |= {str(cid) for cid, e in spec.items() if isinstance(e, dict) and e.get("declarable") is True}
    return frozenset(found)


def _build_profile(
    data: dict[str, Any],
    source: str,
    *,
    origins: Mapping[str, str] | None = None,
    files: Mapping[str, str] | None = None,
    user_files: set[str] | frozenset[str] = frozenset(),
    extensions: bool = True,
) -> Profile:
    """`origins`: "criterion:<id>" / "key:<key>" → file:line, `files`: criterion id → its file, for a
    profile merged from several files (by default everything comes from `source`)."""
    marks = origins or {}

    def at(cid: str) -> str:
        return marks.get(f"criterion:{cid}") or where(source, spec, cid)

    def key_at(key: str) -> str:
        return marks.get(f"key:{key}") or where(source, data, key)

    name = _text(data.get("profile", Path(source).stem), key_at("profile"), "'profile' (its name)", limit=MAX_NAME)
    version = _version(data.get("version", 1), key_at("version"), "'version'")
    fail_on = _fail_on(data.get("fail_on", "high"), key_at("fail_on"))
    catalogue_name = data.get("catalogue", DEFAULT_CATALOGUE)
    names = catalogue_names()
    if not isinstance(catalogue_name, str) or catalogue_name not in names:
        raise ProfileError(
            f"{key_at('catalogue')}: 'catalogue' names a built-in criteria catalogue ({', '.join(names)}), "
            f"not {_shown(catalogue_name)}"
        )
    categories, criteria, catalogue_version = _load_catalogue(catalogue_name)
    known = {c.id for c in criteria}
    rules: dict[str, list[Rule]] = {}
    rule_origins: dict[str, str] = {}
    spec = data.get("criteria") or {}
    if not isinstance(spec, dict):
        raise ProfileError(f"{key_at('criteria')}: 'criteria' must map criterion ids to rules")
    for cid, entry in spec.items():
        if cid not in known:
            raise ProfileError(f"{at(cid)}: unknown criterion {_shown(cid)}")
        file = (files or {}).get(cid, source)
        if not isinstance(entry, dict) or not isinstance(entry.get("rules"), list):
            raise ProfileError(f"{at(cid)}: criterion {cid!r} needs a list of rules")
        unknown = sorted(set(map(str, entry)) - _ENTRY_KEYS)
        if unknown:
            raise ProfileError(
                f"{where(file, entry, unknown[0])}: {cid}: unknown key {_shown(unknown[0])} (expected rules)"
            )
        if "declarable" in entry:
            here = where(file, entry, "declarable")
            if not isinstance(entry["declarable"], bool):
                raise ProfileError(f"{here}: {cid}: 'declarable' is true or false")
            # a copy of a built-in profile repeats its flags; a user file cannot make a verified one declarable
            if file in user_files and entry["declarable"] and cid not in _builtin_declarable(catalogue_name):
                raise ProfileError(
                    f"{here}: {cid}: 'declarable' is set by the built-in profiles only: what the deployment "
                    "can show is verified, never declared"
                )
        named: dict[str, str] = {}
        user = file in user_files  # the built-in profiles' fact names are held to FACT_KEYS by the tests
        rules[cid] = [_build_rule(r, file, entry["rules"], i, cid, named, user) for i, r in enumerate(entry["rules"])]
        for key, origin in named.items():  # a user's file names the checks it names (Profile.user_check_ids)
            if user or key not in rule_origins:
                rule_origins[key] = origin
    missing = known - set(rules)
    if missing:
        raise ProfileError(f"{source}: no rules for {', '.join(sorted(missing))}")
    profile = Profile(
        name=name,
        version=version,
        categories=categories,
        criteria=criteria,
        rules=rules,
        declarable=set(_builtin_declarable(catalogue_name)) & known,
        fail_on=fail_on,
        source=source,
        catalogue_version=catalogue_version,
    )
    profile.origins.update(rule_origins)
    if extensions:
        _apply_extensions(profile, data, source)
    return profile


def _build_rule(
    raw: Any, source: str, rule_list: list[Any], index: int, cid: str, origins: dict[str, str], facts: bool = True
) -> Rule:
    """One rule of criterion `cid` (`rule_list[index]`, from file `source`); the check ids it names go to
    `origins` ("rule:<id>" → file:line) to be validated once the checks are registered. `facts`: check the
    fact names against auditor.facts (a large module: not imported for the built-in profiles)."""
    at = where(source, rule_list, index)
    if not isinstance(raw, dict) or "rating" not in raw:
        raise ProfileError(f"{at}: {cid}: each rule needs a rating")
    unknown = sorted(set(map(str, raw)) - _RULE_KEYS)
    if unknown:
        expected = ", ".join(sorted(_RULE_KEYS))
        at_key = where(source, raw, unknown[0])
        raise ProfileError(f"{at_key}: {cid}: unknown rule key {_shown(unknown[0])} (expected {expected})")
    rating = _rating(raw["rating"], where(source, raw, "rating"), cid)
    reason = "" if raw.get("reason") is None else _text(raw["reason"], where(source, raw, "reason"), f"{cid}: reason")
    conditions = raw.get("if", {})
    if not isinstance(conditions, dict):
        raise ProfileError(f"{where(source, raw, 'if')}: {cid}: 'if' maps conditions to check ids or facts")
    unknown = sorted(set(map(str, conditions)) - _CONDITIONS)
    if unknown:
        raise ProfileError(
            f"{where(source, conditions, unknown[0])}: {cid}: unknown condition(s) "
            f"{', '.join(map(_shown, unknown[:5]))}{' ...' if len(unknown) > 5 else ''} "
            f"(known: {', '.join(sorted(_CONDITIONS))})"
        )
    for key, arg in conditions.items():
        here = where(source, conditions, key)
        if key in _CHECK_CONDITIONS or key == "fact_known":
            what = "check ids" if key in _CHECK_CONDITIONS else "fact names"
            if not isinstance(arg, list) or not arg or not all(isinstance(i, str) and i.strip() for i in arg):
                raise ProfileError(f"{here}: {cid}: '{key}' is a list of {what}, not {_kind(arg)}")
            if key == "fact_known" and facts:
                _check_facts(arg, here, cid)
            else:
                for i, check in enumerate(arg):
                    origins.setdefault(f"rule:{check}", where(source, arg, i))
        elif key == "fact":
            if not isinstance(arg, dict) or not arg:
                raise ProfileError(f"{here}: {cid}: 'fact' maps fact names to a value or a list of values")
            if facts:
                _check_facts(list(arg), here, cid)
            for name, wanted in arg.items():
                options = wanted if isinstance(wanted, list) else [wanted]
                if not options or not all(isinstance(o, str | int | float) for o in options):
                    raise ProfileError(
                        f"{where(source, arg, name)}: {cid}: fact {name} is compared with a value or a list "
                        "of values (text, numbers, true/false)"
                    )
    return Rule(conditions, rating, reason)


def _check_facts(names: list[Any], at: str, cid: str) -> None:
    from auditor.facts import FACT_KEYS  # the facts module is large: only for a user's profile file

    for name in names:
        if name not in FACT_KEYS:
            raise ProfileError(f"{at}: {cid}: unknown fact {_shown(name)} (known: {', '.join(FACT_KEYS)})")


def _rating(value: Any, at: str, cid: str) -> Rating:
    choices = [r.value for r in Rating]
    if isinstance(value, bool):
        raise ProfileError(f'{at}: {cid}: rating must be one of {choices} (quote "No": unquoted it is false)')
    if not isinstance(value, str) or value not in choices:
        raise ProfileError(f"{at}: {cid}: rating must be one of {choices}, not {_shown(value)}")
    return Rating(value)


# -- declarations -------------------------------------------------------------------------------


def load_declarations(path: Path, profile: Profile) -> dict[str, Declaration]:
    """Operator declarations: `criterion id: {rating, statement, reference}` for declarable criteria,
    at the top of the file or under `declarations:`. The profile records the file's path and SHA-256
    (`declarations_file`): the report carries them beside the profile's own files."""
    text, digest = read_user_text_sha256(path, "declarations", ProfileError, max_bytes=MAX_BYTES)
    source = str(path)
    data = _load_yaml(text, source)
    if data is None:
        data = {}
    if isinstance(data, dict) and "declarations" in data:
        unknown = sorted(set(map(str, data)) - {"declarations"})
        if unknown:
            at = where(source, data, unknown[0])
            raise ProfileError(f"{at}: unknown key {_shown(unknown[0])} (expected declarations)")
        entries = data["declarations"]
        if entries is None:
            entries = {}
        at_entries = where(source, data, "declarations")
    else:
        entries, at_entries = data, source
    if not isinstance(entries, dict):
        raise ProfileError(f"{at_entries}: declarations map criterion ids to {{rating, statement}}")
    result: dict[str, Declaration] = {}
    for cid, entry in entries.items():
        at = where(source, entries, cid)
        if cid not in profile.criterion_ids:
            raise ProfileError(f"{at}: unknown criterion {_shown(cid)}")
        if cid not in profile.declarable:
            raise ProfileError(f"{at}: {cid} is verified from the deployment and cannot be declared")
        if not isinstance(entry, dict) or "rating" not in entry or entry.get("statement") is None:
            raise ProfileError(f"{at}: {cid} needs a rating and a statement")
        unknown = sorted(set(map(str, entry)) - _DECLARATION_KEYS)
        if unknown:
            expected = ", ".join(sorted(_DECLARATION_KEYS))
            raise ProfileError(
                f"{where(source, entry, unknown[0])}: {cid}: unknown key {_shown(unknown[0])} (expected {expected})"
            )
        rating = _rating(entry["rating"], where(source, entry, "rating"), cid)
        statement = _text(entry["statement"], where(source, entry, "statement"), f"{cid}: statement")
        ref = entry.get("reference")
        if isinstance(ref, int | float | date) and not isinstance(ref, bool):
            ref = str(ref)  # an unquoted document number or date
        if ref is not None:
            ref = _text(ref, where(source, entry, "reference"), f"{cid}: reference")
        result[cid] = Declaration(rating, statement, ref)
    profile.declarations_file = (source, digest)
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
