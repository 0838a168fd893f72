"""Gates, review, approval, promotion, rollback and audit against a real MLflow registry (SQLite)
and the governance ledger beside it, as signed-in identities."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from creditml.cli import app
from creditml.config import GateSettings
from creditml.governance import DecisionRefused
from creditml.modeling.gates import GateInputs, evaluate_gates
from creditml.registry import RegistryError, open_registry, tracking
from creditml.registry.promotion import approve, audit, promote, review, rollback
from tests.governed import GOOD, log_version

NAME = "creditml-test-model"


def _approved(world, gates: GateInputs = GOOD) -> str:
    version = log_version(NAME, gates, world["dana"].identity)
    review(NAME, version, True, world["rui"].identity, "read the report: stable and calibrated")
    approve(NAME, version, world["ava"].identity, "two of us read it")
    return version


def test_gates_are_a_pure_decision_with_reasons():
    bad = GateInputs(validation_auc=0.80, test_auc=0.70, test_ks=0.05, test_ece=0.2, score_psi=0.4,
                     additivity_error=1e-2, leakage_flags=("SUM(x)",), fairness_ratio=0.5)
    decision = evaluate_gates(bad, GateSettings())
    assert not decision.passed
    assert len(decision.reasons) == 7  # every gate but min_test_auc (0.70 >= 0.6)
    assert "AUC drops 0.100 from validation to out-of-time (more than 0.050)" in decision.reasons
    assert "a protected group's approval rate is 0.50 of the best group's (below 0.80)" in decision.reasons
    assert evaluate_gates(GOOD, GateSettings()).passed


def test_passing_version_becomes_challenger_failing_one_keeps_reasons(world):
    v1 = log_version(NAME, GOOD, world["dana"].identity)
    v2 = log_version(NAME, GateInputs(**{**GOOD.__dict__, "test_auc": 0.5}), world["dana"].identity)
    assert open_registry().alias_version(NAME, "challenger") == v1
    tags = open_registry().get_version(NAME, v2).tags
    assert tags["creditml.gates"] == "failed" and tags["creditml.trained_by"] == "dana"
    assert "out-of-time AUC 0.500 is below the minimum 0.600" in tags["creditml.gates.reasons"]


def test_promotion_needs_an_approval_and_rollback_walks_the_ledger(world):
    ava, bo, rui = world["ava"].identity, world["bo"].identity, world["rui"].identity
    v1 = log_version(NAME, GOOD, world["dana"].identity)
    v2 = log_version(NAME, GOOD, world["dana"].identity)
    with pytest.raises(DecisionRefused, match=f"ava may not promote version {v1} of model '{NAME}': rule "
                                              "approval-required"):
        promote(NAME, v1, ava)
    review(NAME, v1, True, rui, "stable and calibrated")
    approve(NAME, v1, ava)
    assert promote(NAME, v1, ava) is None
    review(NAME, v2, False, rui, "too volatile")
    with pytest.raises(DecisionRefused, match="rule rejection-stands"):
        approve(NAME, v2, ava)
    review(NAME, v2, True, bo, "fixed after discussion")
    approve(NAME, v2, ava)
    assert promote(NAME, v2, world["svc"].identity) == v1
    assert open_registry().alias_version(NAME, "champion") == v2
    assert rollback(NAME, bo) == (v2, v1)
    assert open_registry().alias_version(NAME, "champion") == v1
    with pytest.raises(DecisionRefused, match="rule previous-champion-required: version 1 is the first champion"):
        rollback(NAME, bo)
    kinds = [(e.kind, e.version, e.actor) for e in audit(NAME) if e.kind in ("promotion", "rollback")]
    assert kinds == [("promotion", v1, "ava"), ("promotion", v2, "svc"), ("rollback", v1, "bo")]


def test_a_gates_tag_written_by_hand_does_not_get_a_failed_version_promoted(world):
    """Done-when: the gates are recomputed from the run's artifacts, never read from a tag."""
    failing = _approved(world, GateInputs(**{**GOOD.__dict__, "test_auc": 0.558, "validation_auc": 0.58}))
    client = MlflowClient()
    client.set_model_version_tag(NAME, failing, "creditml.gates", "passed")
    client.set_model_version_tag(NAME, failing, "creditml.gates.reasons", "all gates passed")
    with pytest.raises(DecisionRefused, match=r"ava may not promote version 1 of model 'creditml-test-model': rule "
                                              r"gates: recomputed from its run's artifacts \(sha256 [0-9a-f]{16}\), "
                                              r"it did not pass the automated gates \(out-of-time AUC 0.558 is below "
                                              r"the minimum 0.600\)"):
        promote(NAME, failing, world["ava"].identity)
    assert open_registry().alias_version(NAME, "champion") is None
    assert [e.kind for e in audit(NAME)] == ["registered", "review", "approval"]


def test_a_promotion_records_the_hash_of_the_artifacts_it_recomputed_the_gates_from(world):
    version = _approved(world)
    promote(NAME, version, world["ava"].identity)
    entry = audit(NAME)[-1]
    gates = entry.payload["gates"]
    assert entry.kind == "promotion" and gates["passed"] is True and len(gates["artifacts_sha256"]) == 64
    assert set(gates["files"]) == {"evaluation/metrics.json", "features/leakage_flags.json", "config/pipeline.yaml"}


def test_the_trainer_cannot_approve_and_an_unverified_version_never_can(world):
    """Done-when: a version cannot be approved by the identity that trained it."""
    dual = world["dual"].identity  # data scientist and approver: trains, then tries to approve
    version = log_version(NAME, GOOD, dual)
    review(NAME, version, True, world["rui"].identity, "fine")
    with pytest.raises(DecisionRefused, match=f"dual may not approve version {version} of model '{NAME}': rule "
                                              "four-eyes: dual trained this version; expected someone other than "
                                              "the trainer; fix: ask another reviewer/approver"):
        approve(NAME, version, dual)
    unverified = log_version(NAME, GOOD, None)
    assert open_registry().get_version(NAME, unverified).tags["creditml.trained_by"] == "unverified"
    with pytest.raises(DecisionRefused, match="rule trainer-known: the identity that trained this version is not "
                                              "recorded.*fix: retrain the version as a signed-in identity"):
        review(NAME, unverified, True, world["rui"].identity, "fine")


def test_the_approver_may_be_the_reviewer_only_when_the_service_is_configured_so(world, monkeypatch):
    ava = world["ava"].identity
    version = log_version(NAME, GOOD, world["dana"].identity)
    review(NAME, version, True, ava, "read it")
    with pytest.raises(DecisionRefused, match="rule approver-is-not-reviewer: ava wrote the last review"):
        approve(NAME, version, ava)
    monkeypatch.setenv("CREDITML_APPROVER_DIFFERS_FROM_REVIEWER", "0")
    assert approve(NAME, version, ava).kind == "approval"


def _cli(args, person=None, env=None):
    env = {"CREDITML_TOKEN": person.token if person else "", **(env or {})}
    return CliRunner().invoke(app, args, env=env)


def test_cli_acts_as_the_signed_in_identity_only(world):
    """Done-when: a name without credentials approves nothing; --reviewer is gone."""
    version = log_version(NAME, GOOD, world["dana"].identity)
    result = _cli(["review", NAME, "--version", version, "--approve", "--reviewer", "ava", "--comment", "ok"])
    assert result.exit_code == 2 and "No such option: --reviewer" in result.output
    result = _cli(["approve", NAME, "--version", version])
    assert result.exit_code == 2
    assert "nobody is signed in, and only a signed-in identity may approve version 1" in result.output
    assert "creditml login NAME" in result.output and "CREDITML_TOKEN" in result.output
    result = _cli(["approve", NAME, "--version", version], env={"CREDITML_TOKEN": "ava"})
    assert result.exit_code == 2 and "the token in $CREDITML_TOKEN was refused: API token is malformed" in result.output
    result = _cli(["review", NAME, "--version", version, "--approve", "--comment", "ok"], world["rui"])
    assert result.exit_code == 0, result.output
    result = _cli(["approve", NAME, "--version", version], world["dana"])
    assert result.exit_code == 2 and "dana may not approve version 1 of model 'creditml-test-model': rule role" \
        in result.output
    assert _cli(["approve", NAME, "--version", version], world["ava"]).exit_code == 0
    result = _cli(["promote", NAME, "--version", version], world["ava"])
    assert result.exit_code == 0 and "champion is now version 1, promoted by ava" in result.output
    result = _cli(["promote", NAME, "--version", "99"], world["ava"])
    assert result.exit_code == 2 and f"model '{NAME}' has no version 99; versions: {version}" in result.output
    result = _cli(["audit", NAME, "--verify"])
    assert result.exit_code == 0, result.output
    for word in ("registered", "review", "approval", "promotion", "rui", "ava", "dana", "verified"):
        assert word in result.output


def test_users_bootstrap_admin_tokens_and_login(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("CREDITML_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    first = runner.invoke(app, ["users", "init-admin", "root"], env={"CREDITML_TOKEN": ""})
    assert first.exit_code == 0, first.output
    admin_token = first.stdout.strip().splitlines()[-1]
    assert admin_token.startswith("cmt_")
    again = runner.invoke(app, ["users", "init-admin", "mallory"], env={"CREDITML_TOKEN": ""})
    assert again.exit_code == 2 and "rule bootstrap-only: users already exist" in again.output
    refused = runner.invoke(app, ["users", "add", "eve", "--role", "admin"], env={"CREDITML_TOKEN": ""})
    assert refused.exit_code == 2 and "nobody is signed in" in refused.output
    added = runner.invoke(app, ["users", "add", "ana", "--role", "approver", "--password"],
                          input="correct horse battery\ncorrect horse battery\n", env={"CREDITML_TOKEN": admin_token})
    assert added.exit_code == 0, added.output
    ana_token = runner.invoke(app, ["users", "token", "ana"], env={"CREDITML_TOKEN": admin_token}).stdout
    not_admin = runner.invoke(app, ["users", "token", "root"],
                              env={"CREDITML_TOKEN": ana_token.strip().splitlines()[-1]})
    assert not_admin.exit_code == 2 and "ana may not issue a token for 'root': rule role: expected role admin" \
        in not_admin.output
    wrong = runner.invoke(app, ["login", "ana"], input="wrong password!!\n", env={"CREDITML_TOKEN": ""})
    assert wrong.exit_code == 2 and "sign-in refused for 'ana'" in wrong.output
    login = runner.invoke(app, ["login", "ana"], input="correct horse battery\n", env={"CREDITML_TOKEN": ""})
    assert login.exit_code == 0, login.output
    token_file = tmp_path / "home" / "token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    who = runner.invoke(app, ["whoami"], env={"CREDITML_TOKEN": ""})
    assert who.exit_code == 0 and "ana (approver)" in who.output
    # the environment wins over the login file
    assert "root (admin)" in runner.invoke(app, ["whoami"], env={"CREDITML_TOKEN": admin_token}).output
    token_file.chmod(0o644)
    exposed = runner.invoke(app, ["whoami"], env={"CREDITML_TOKEN": ""})
    assert exposed.exit_code == 2 and "is readable by others (mode 0644), expected 0600" in exposed.output


def test_unknown_models_are_named(world):
    with pytest.raises(RegistryError, match="model 'creditml-nope' is not registered"):
        promote("creditml-nope", "1", world["ava"].identity)
