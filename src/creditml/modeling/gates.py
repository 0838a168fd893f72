"""Automated gates: a pure decision with reasons, from figures a training run measured."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from creditml.config import GateSettings
from creditml.modeling.artifacts import GateCheck, GateRecord


@dataclass(frozen=True)
class GateInputs:
    validation_auc: float
    test_auc: float
    test_ks: float
    test_ece: float
    score_psi: float
    additivity_error: float
    leakage_flags: tuple[str, ...]
    fairness_ratio: float


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    value: float
    threshold: float
    reason: str


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def reasons(self) -> list[str]:
        return [c.reason for c in self.checks if not c.passed]

    def record(self) -> GateRecord:
        """The decision as logged (``gates/gates.json``)."""
        return GateRecord(passed=self.passed, checks=tuple(GateCheck(**asdict(c)) for c in self.checks))


def evaluate_gates(inputs: GateInputs, settings: GateSettings) -> GateDecision:
    """Every gate, each with its value, threshold and a sentence saying why it failed."""
    drop = inputs.validation_auc - inputs.test_auc
    checks = (
        Check("min_test_auc", inputs.test_auc >= settings.min_test_auc, inputs.test_auc, settings.min_test_auc,
              f"out-of-time AUC {inputs.test_auc:.3f} is below the minimum {settings.min_test_auc:.3f}"),
        Check("min_test_ks", inputs.test_ks >= settings.min_test_ks, inputs.test_ks, settings.min_test_ks,
              f"out-of-time KS {inputs.test_ks:.3f} is below the minimum {settings.min_test_ks:.3f}"),
        Check("max_auc_drop", drop <= settings.max_auc_drop, drop, settings.max_auc_drop,
              f"AUC drops {drop:.3f} from validation to out-of-time (more than {settings.max_auc_drop:.3f})"),
        Check("max_score_psi", inputs.score_psi <= settings.max_score_psi, inputs.score_psi, settings.max_score_psi,
              f"score PSI training vs out-of-time is {inputs.score_psi:.3f} (above {settings.max_score_psi:.3f})"),
        Check("max_calibration_error", inputs.test_ece <= settings.max_calibration_error, inputs.test_ece,
              settings.max_calibration_error,
              f"out-of-time calibration error {inputs.test_ece:.3f} exceeds {settings.max_calibration_error:.3f}"),
        Check("additivity", inputs.additivity_error <= settings.max_additivity_error, inputs.additivity_error,
              settings.max_additivity_error,
              f"SHAP values do not add up to the margin (max error {inputs.additivity_error:.2e})"),
        Check("no_leakage_flag", not inputs.leakage_flags, float(len(inputs.leakage_flags)), 0.0,
              f"feature selection flagged suspected leakage: {', '.join(inputs.leakage_flags[:5])}"),
        Check("min_fairness_ratio", inputs.fairness_ratio >= settings.min_fairness_ratio, inputs.fairness_ratio,
              settings.min_fairness_ratio,
              f"a protected group's approval rate is {inputs.fairness_ratio:.2f} of the best group's "
              f"(below {settings.min_fairness_ratio:.2f})"),
    )
    return GateDecision(all(c.passed for c in checks), checks)
