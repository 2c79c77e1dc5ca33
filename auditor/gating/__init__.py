"""CI gating: waivers, baselines and minimum scores, judged once for every reporter."""

from auditor.gating.baseline import Baseline, BaselineError, BaselineState, load_baseline
from auditor.gating.gate import FindingGate, FixedFinding, GateConfig, GateReport, TargetGate, evaluate
from auditor.gating.thresholds import MinScores, ThresholdError, ThresholdResult, parse_min_scores
from auditor.gating.waivers import Waiver, WaiverError, WaiverSet, load_waivers

__all__ = [
    "Baseline",
    "BaselineError",
    "BaselineState",
    "FindingGate",
    "FixedFinding",
    "GateConfig",
    "GateReport",
    "MinScores",
    "TargetGate",
    "ThresholdError",
    "ThresholdResult",
    "Waiver",
    "WaiverError",
    "WaiverSet",
    "evaluate",
    "load_baseline",
    "load_waivers",
    "parse_min_scores",
]
