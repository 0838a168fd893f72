"""Where a run's study and artifacts go follows the tracking store; registering is explicit."""

from __future__ import annotations

import pytest

from creditml.config import load_pipeline_config
from creditml.errors import ConfigError
from creditml.modeling.tuning import SMALL_DATA_ROWS, threads_for
from creditml.registry import tracking
from creditml.runner import registration
from tests.conftest import PIPELINES


@pytest.fixture(autouse=True)
def _no_env(monkeypatch):
    monkeypatch.delenv(tracking.OPTUNA_ENV, raising=False)
    monkeypatch.delenv(tracking.ARTIFACT_ENV, raising=False)


def test_the_study_and_artifacts_live_beside_an_sqlite_store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    assert tracking.optuna_storage(None, uri) == f"sqlite:///{tmp_path / 'store' / 'optuna.db'}"
    assert tracking.artifact_location("creditml/fraud", uri) == (tmp_path / "store" / "artifacts" /
                                                                "creditml-fraud").as_uri()
    assert tracking.optuna_storage("postgresql://h/optuna", uri) == "postgresql://h/optuna"


def test_a_database_store_without_a_home_for_the_study_or_artifacts_is_refused(monkeypatch):
    uri = "postgresql://postgres@127.0.0.1/mlflow"
    with pytest.raises(ConfigError, match=r"tuning.storage: the tracking store 'postgresql://.*' is not an SQLite "
                                          r"file.*set tuning.storage .* or export CREDITML_OPTUNA_STORAGE"):
        tracking.optuna_storage(None, uri)
    with pytest.raises(ConfigError, match=r"is a database without a tracking server, so run artifacts have no home; "
                                          r"export CREDITML_ARTIFACT_ROOT"):
        tracking.artifact_location("creditml/x", uri)
    monkeypatch.setenv(tracking.ARTIFACT_ENV, "s3://bucket/creditml/")
    assert tracking.artifact_location("creditml/x", uri) == "s3://bucket/creditml/creditml-x"
    assert tracking.artifact_location("creditml/x", "http://tracking:5000") == "s3://bucket/creditml/creditml-x"
    monkeypatch.delenv(tracking.ARTIFACT_ENV)
    assert tracking.artifact_location("creditml/x", "http://tracking:5000") is None


def test_xgboost_threads_default_to_one_on_small_data(small_world):
    cfg = load_pipeline_config(PIPELINES / "credit_default.yaml", dataset=small_world)
    assert cfg.tuning.nthread is None
    assert threads_for(cfg.tuning, SMALL_DATA_ROWS - 1) == 1
    assert threads_for(cfg.tuning, SMALL_DATA_ROWS) >= 1
    pinned = cfg.tuning.model_copy(update={"nthread": 3})
    assert threads_for(pinned, 10) == 3


def test_baselines_and_experiments_never_register(small_world):
    cfg = load_pipeline_config(PIPELINES / "credit_default.yaml", dataset=small_world)
    assert registration(cfg, True) is None
    assert registration(cfg, False) == "not registered (--no-register)"
    baseline = load_pipeline_config(PIPELINES / "credit_default.yaml", ["features.max_depth=0"], small_world)
    assert registration(baseline, True) == ("not registered: a target-table-only baseline (features.max_depth=0) "
                                            "never is")
