"""Settings reach MLflow as parameters, whatever their keys look like."""

from __future__ import annotations

import json

import mlflow
from mlflow.tracking import MlflowClient

from creditml.registry.tracking import log_config


def test_pattern_keyed_settings_are_logged_as_one_json_parameter(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    constraints = {"GRAPH_shared_*": 1, "intermediaries.SUM(applications.fraud_confirmed) / COUNT": 1}
    with mlflow.start_run() as run:
        log_config({"tuning": {"n_trials": 3, "monotone_constraints": constraints}, "split": {"test_share": 0.2}})
    params = MlflowClient().get_run(run.info.run_id).data.params
    assert params["tuning.n_trials"] == "3" and params["split.test_share"] == "0.2"
    assert json.loads(params["tuning.monotone_constraints"]) == constraints
