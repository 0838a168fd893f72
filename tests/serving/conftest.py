"""Real champions for the serving tests: trained once per package, no mocks.

The three pipelines (credit default, intermediary fraud, collection cure) run on the
small built-in world with small settings, in their own MLflow SQLite store; each version
passes relaxed gates, is trained by a signed-in data scientist, reviewed, approved and
promoted by two other people, exactly as ``creditml run`` / ``review`` / ``approve`` /
``promote`` do it. A pipeline that fails to train fails the serving tests: the
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
    people: dict = field(default_factory=dict)

    def model(self, task: str) -> Trained:
        return self.models[task]


def govern(name: str, version: str, people: dict) -> None:
    """Review, approve and promote ``version`` as two people other than its trainer."""
    from creditml.registry.promotion import approve, promote, review

    review(name, version, True, people["rui"].identity, "small-world model for the serving tests")
    approve(name, version, people["ava"].identity, "serving tests")
    promote(name, version, people["ava"].identity)


def train_and_promote(pipeline: Path, dataset_yaml: Path, overrides: list[str], people: dict) -> Trained:
    from creditml.config import load_pipeline_config
    from creditml.runner import run_pipeline

    cfg = load_pipeline_config(pipeline, overrides, dataset_yaml)
    summary = run_pipeline(cfg, trainer=people["dana"].identity)
    assert summary.gates_passed, summary.gate_reasons
    govern(summary.model_name, summary.version, people)
    return Trained(summary.task, summary.model_name, summary.version, summary.run_id, pipeline, overrides)


@pytest.fixture(scope="package")
def serving_world(small_world, tmp_path_factory) -> ServingWorld:
    root = tmp_path_factory.mktemp("serving")
    mp = pytest.MonkeyPatch()
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mp.setenv("MLFLOW_TRACKING_URI", uri)
    mp.setenv("CREDITML_HOME", str(root / "home"))
    mp.delenv("CREDITML_TOKEN", raising=False)
    mp.chdir(root)
    from creditml.registry import open_registry, tracking
    from creditml.registry.governed import open_store
    from tests.governed import people

    tracking.configure()
    world = ServingWorld(root, uri, small_world, people=people(open_store(open_registry())))
    overrides = SMALL + RELAXED_GATES + [f"tuning.storage=sqlite:///{root / 'optuna.db'}"]
    try:
        for task in WORLD_TASKS:
            world.models[task] = train_and_promote(PIPELINES / f"{task}.yaml", small_world,
                                                   overrides + PER_TASK.get(task, []), world.people)
        yield world
    finally:
        mp.undo()


def serving_app(watcher, link_store=None, start_watcher: bool = True, cache_seconds: float = 30.0, **kwargs):
    """The REST app checking tokens against the serving world's identity store (the one the CLI writes)."""
    from creditml.registry import open_registry
    from creditml.registry.governed import governance_url
    from creditml.serving.app import create_app
    from creditml.serving.auth import TokenVerifier, open_identity_store

    verifier = TokenVerifier(open_identity_store(governance_url(open_registry())), cache_seconds)
    return create_app(watcher, link_store, start_watcher, verifier=verifier, **kwargs)


def run_artifact(run_id: str, path: str) -> str:
    import mlflow

    # the serving world's store, named explicitly: a test that pointed mlflow elsewhere leaves mlflow's
    # process-wide tracking URI behind after its environment is restored
    return mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path,
                                               tracking_uri=os.environ["MLFLOW_TRACKING_URI"])


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

