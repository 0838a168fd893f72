"""The repository's real-data pipelines run end to end (`creditml run`), served = offline.

Home Credit (relative time) and Taiwan (a wide table unpivoted, one scoring date, key-hash
split) with small settings. The run itself checks that five test instances scored from raw
records get the offline probabilities, and stops naming the features that differ if not.
The samples live outside the repository (the ``samples`` fixture: skipped with the reason when
they are missing, failed instead under ``CREDITML_REQUIRE_SAMPLES=1``, as in CI).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from creditml.cli import app
from tests.conftest import PIPELINES

SMALL = ["tuning.n_trials=3", "features.max_candidates=300", "selection.max_selected=40",
         "tuning.max_boost_rounds=300", "tuning.early_stopping_rounds=30"]


@pytest.mark.parametrize("pipeline", ["home_credit_default", "taiwan_default"])
def test_real_pipeline_runs_end_to_end(pipeline, samples, tmp_path, monkeypatch):
    yaml_path = PIPELINES / f"{pipeline}.yaml"
    monkeypatch.setenv("CREDITML_SAMPLES", str(samples))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    args = ["run", str(yaml_path), "--json"]
    for override in SMALL + [f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}"]:
        args += ["--set", override]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])
    assert summary["selected"] > 0 and set(summary["metrics"]) == {"train", "validation", "test"}
    assert summary["metrics"]["test"]["auc"] > 0.5
