"""Real champions for the serving tests: trained once per package, no mocks.

The three pipelines (credit default, intermediary fraud, collection cure) run on the
small built-in world with small settings, in their own MLflow SQLite store; each version
passes relaxed gates, is approved and promoted, exactly as ``creditml run`` / ``review``
/ ``promote`` would do it. A pipeline that fails to train fails the serving tests: the
fixture raises, it never skips.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from creditml.serving.process import free_port, stop, wait_http  # noqa: F401  (the tests use them)
from tests.conftest import PIPELINES, WORLD_TASKS

# tuning.cv_folds=0: the tiny world has too few frauds for the fraud pipeline's four time blocks, and
# without folds there is no CV round count to refit on train + validation with
SMALL = ["features.max_candidates=150", "tuning.n_trials=2", "selection.max_selected=30",
         "tuning.max_boost_rounds=200", "tuning.early_stopping_rounds=20", "training.min_positives=5",
         "tuning.cv_folds=0", "training.final_fit=train"]
# a tiny model on a tiny world cannot meet production gates; these are test settings, not tags
RELAXED_GATES = ["gates.min_test_auc=0", "gates.min_test_ks=0", "gates.max_auc_drop=1", "gates.max_score_psi=100",
                 "gates.max_calibration_error=1", "gates.min_fairness_ratio=0"]
# on the tiny test world an earlier confirmed fraud of the same customer can predict the label
# almost perfectly and trip the leakage gate; these tests are about serving, so the fraud model
# leaves the label's own columns out (and the ratio built on them)
PER_TASK = {"intermediary_fraud": [
    "features.ignore_columns.applications=[fraud_confirmed, fraud_confirmed_at, fraud_label_known_at]",
    "features.ratios=[[applications.declared_income, customers.monthly_income]]"]}
VENV_BIN = Path(sys.executable).parent


@dataclass
class Trained:
    task: str
    name: str
    version: str
    run_id: str
    pipeline: Path
    overrides: list[str]


@dataclass
class ServingWorld:
    root: Path
    tracking_uri: str
    dataset_yaml: Path
    models: dict[str, Trained] = field(default_factory=dict)

    def model(self, task: str) -> Trained:
        return self.models[task]


def train_and_promote(pipeline: Path, dataset_yaml: Path, overrides: list[str]) -> Trained:
    from creditml.config import load_pipeline_config
    from creditml.registry.promotion import promote, review
    from creditml.runner import run_pipeline

    cfg = load_pipeline_config(pipeline, overrides, dataset_yaml)
    summary = run_pipeline(cfg)
    assert summary.gates_passed, f"{pipeline.name}: the small-world model failed the relaxed gates: {summary.gate_reasons}"
    review(summary.model_name, summary.version, True, "serving tests", "small-world model for the serving tests")
    promote(summary.model_name, summary.version, by="serving tests")
    return Trained(summary.task, summary.model_name, summary.version, summary.run_id, pipeline, overrides)


@pytest.fixture(scope="package")
def serving_world(small_world, tmp_path_factory) -> ServingWorld:
    root = tmp_path_factory.mktemp("serving")
    mp = pytest.MonkeyPatch()
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mp.setenv("MLFLOW_TRACKING_URI", uri)
    mp.chdir(root)
    from creditml.registry import tracking

    tracking.configure()
    world = ServingWorld(root, uri, small_world)
    overrides = SMALL + RELAXED_GATES + [f"tuning.storage=sqlite:///{root / 'optuna.db'}"]
    try:
        for task in WORLD_TASKS:
            world.models[task] = train_and_promote(PIPELINES / f"{task}.yaml", small_world,
                                                   overrides + PER_TASK.get(task, []))
        yield world
    finally:
        mp.undo()


def run_artifact(run_id: str, path: str) -> str:
    import mlflow

    return mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path)


def predictions(run_id: str) -> pd.DataFrame:
    return pd.read_parquet(run_artifact(run_id, "evaluation/predictions.parquet")).set_index("instance_id")


@pytest.fixture(scope="package")
def world_dataset(serving_world):
    from creditml.data import load_dataset

    return load_dataset(serving_world.dataset_yaml)


@pytest.fixture(scope="package")
def bundles(serving_world):
    from creditml.registry.loading import load_bundle

    return {task: load_bundle(f"models:/{t.name}/{t.version}") for task, t in serving_world.models.items()}


def records_of(dataset, bundle, ids, graph: bool = True) -> list[dict]:
    """Raw records of these instances cut from the world, as a client would send them."""
    from creditml.model.records import records_for

    return records_for(bundle.dataset, dataset.tables, bundle.task.target, list(ids), bundle.paths,
                       bundle.features_settings.graph if graph else None, bundle.task.cutoff)


def subprocess_env(world: ServingWorld, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_TRACKING_URI"] = world.tracking_uri
    env.update(extra)
    return env

