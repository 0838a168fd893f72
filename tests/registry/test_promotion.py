"""Gates, review, promotion, rollback and audit against a real MLflow registry (SQLite)."""

from __future__ import annotations

import mlflow
import pytest
from typer.testing import CliRunner

from creditml.cli import app
from creditml.config import GateSettings
from creditml.registry import RegistryError, open_registry, tracking
from creditml.modeling.gates import GateInputs, evaluate_gates
from creditml.registry.promotion import promote, record_gates, review, rollback

NAME = "creditml-test-model"
GOOD = GateInputs(validation_auc=0.80, test_auc=0.78, test_ks=0.4, test_ece=0.01, score_psi=0.02,
                  additivity_error=1e-7, leakage_flags=(), fairness_ratio=0.95)


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    tracking.configure(tmp_path / "mlruns")

    def new_version(gates: GateInputs) -> str:
        exp = tracking.experiment_id("creditml/test")
        with mlflow.start_run(experiment_id=exp) as run:
            mlflow.log_text("model placeholder for registry tests", "model/MLmodel")
        version = open_registry().register_version(NAME, f"runs:/{run.info.run_id}/model", run.info.run_id,
                                                   {"run_id": run.info.run_id})
        record_gates(NAME, version, evaluate_gates(gates, GateSettings()))
        return version

    return new_version


def test_gates_are_a_pure_decision_with_reasons():
    bad = GateInputs(validation_auc=0.80, test_auc=0.70, test_ks=0.05, test_ece=0.2, score_psi=0.4,
                     additivity_error=1e-2, leakage_flags=("SUM(x)",), fairness_ratio=0.5)
    decision = evaluate_gates(bad, GateSettings())
    assert not decision.passed
    assert len(decision.reasons) == 7  # every gate but min_test_auc (0.70 >= 0.6)
    assert "AUC drops 0.100 from validation to out-of-time (more than 0.050)" in decision.reasons
    assert "a protected group's approval rate is 0.50 of the best group's (below 0.80)" in decision.reasons
    assert evaluate_gates(GOOD, GateSettings()).passed


def test_passing_version_becomes_challenger_failing_one_keeps_reasons(registry):
    v1 = registry(GOOD)
    v2 = registry(GateInputs(**{**GOOD.__dict__, "test_auc": 0.5}))
    assert open_registry().alias_version(NAME, "challenger") == v1
    tags = open_registry().get_version(NAME, v2).tags
    assert tags["creditml.gates"] == "failed"
    assert "out-of-time AUC 0.500 is below the minimum 0.600" in tags["creditml.gates.reasons"]


def test_promotion_needs_gates_and_approval_and_rollback_restores(registry):
    v1, v2 = registry(GOOD), registry(GOOD)
    failing = registry(GateInputs(**{**GOOD.__dict__, "leakage_flags": ("MAX(leak)",)}))
    with pytest.raises(RegistryError, match=f"version {v1} has not been approved by a reviewer"):
        promote(NAME, v1)
    review(NAME, v1, True, "Ada Reviewer", "stable and calibrated")
    assert promote(NAME, v1) is None
    review(NAME, v2, False, "Ada Reviewer", "too volatile")
    with pytest.raises(RegistryError, match=f"version {v2} was rejected by a reviewer"):
        promote(NAME, v2)
    review(NAME, v2, True, "Bo Reviewer", "fixed after discussion")
    assert promote(NAME, v2) == v1
    review(NAME, failing, True, "Bo Reviewer", "looks fine")
    with pytest.raises(RegistryError, match=r"did not pass the automated gates \(feature selection flagged"):
        promote(NAME, failing)
    assert open_registry().alias_version(NAME, "champion") == v2
    assert rollback(NAME) == (v2, v1)
    assert open_registry().alias_version(NAME, "champion") == v1
    with pytest.raises(RegistryError, match="is the first champion; there is nothing to roll back to"):
        rollback(NAME)
    actions = [(e["action"], e.get("alias"), e.get("from"), e.get("to")) for e in open_registry().audit_entries(NAME)
               if e["action"] == "alias" and e["alias"] == "champion"]
    assert actions == [("alias", "champion", None, v1), ("alias", "champion", v1, v2), ("alias", "champion", v2, v1)]


def test_cli_refusals_exit_2_and_audit_lists_everything(registry):
    v1 = registry(GOOD)
    runner = CliRunner()
    result = runner.invoke(app, ["promote", NAME, "--version", v1])
    assert result.exit_code == 2 and "has not been approved by a reviewer" in result.output
    result = runner.invoke(app, ["promote", NAME, "--version", "99"])
    assert result.exit_code == 2 and f"model '{NAME}' has no version 99; versions: {v1}" in result.output
    result = runner.invoke(app, ["promote", "creditml-nope", "--version", "1"])
    assert result.exit_code == 2 and "model 'creditml-nope' is not registered" in result.output
    result = runner.invoke(app, ["review", NAME, "--version", v1, "--approve", "--reviewer", "Cy", "--comment", "ok"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["promote", NAME, "--version", v1]).exit_code == 0
    result = runner.invoke(app, ["audit", NAME])
    assert result.exit_code == 0
    for word in ("review", "approved", "champion", "challenger", "Cy"):
        assert word in result.output
