"""One pipeline run end to end: features -> tuned model -> evaluation -> MLflow run + version.

Everything that can fail on bad input (config, data, task, too few positives) fails
before an MLflow run is created; logging happens last, inside a run that is deleted
if logging itself fails.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from creditml.checkpoints import checkpoint
from creditml.config import PipelineConfig
from creditml.governance import Identity
from creditml.data import load_dataset
from creditml.data.fingerprint import data_fingerprint
from creditml.features.pipeline import build_features
from creditml.modeling.train import check_folds, check_trainable, make_bundle, train_model
from creditml.modeling.assessment import assess
from creditml.splits import time_split
from creditml.modeling.gates import evaluate_gates
from creditml.scale.backends import backends_for
from creditml.tasks import build_instances


@dataclass
class RunSummary:
    task: str
    pipeline: str
    run_id: str
    model_name: str
    version: str
    metrics: dict[str, dict[str, float]]
    candidates: int
    selected: int
    oracle_auc: float | None
    tracking_uri: str
    artifacts: str
    study: str
    gates_passed: bool
    gate_reasons: list[str]
    registered: str  # why a version was or was not registered
    new_trials: int  # trials this run added to the study
    reused_trials: int  # finished trials found in the study from earlier runs

    def as_json(self) -> str:
        return json.dumps(self.__dict__, default=float)


def oracle_auc(dataset_dir: Path, task: str, predictions: pd.DataFrame) -> float | None:
    """AUC of the generator's true probabilities on the same out-of-time instances."""
    path = dataset_dir / "oracle.parquet"
    if not path.exists():
        return None
    from sklearn.metrics import roc_auc_score

    oracle = pd.read_parquet(path)
    oracle = oracle[oracle.task == task].set_index("instance_id")
    test = predictions[predictions.split == "test"]
    common = test.index.intersection(oracle.index)
    if len(common) < len(test) * 0.9:
        return None
    return float(roc_auc_score(test.loc[common, "label"], oracle.loc[common, "probability"]))


def preflight(cfg: PipelineConfig):
    """Everything checkable before any computation or MLflow run: config, data, task, positives."""
    dataset = load_dataset(cfg.dataset)
    instances = build_instances(dataset, cfg.task)
    split = time_split(instances.times, cfg.split)
    check_trainable(instances.labels, split, cfg.training.min_positives, cfg.task.name, instances.left_out,
                    cfg.task.maturity_days, cfg.split.method)
    check_folds(instances.labels, instances.times, split, cfg)
    return dataset


def registration(cfg: PipelineConfig, register: bool) -> str | None:
    """Why this run registers no version, or None when it registers one."""
    if not register:
        return "not registered (--no-register)"
    if cfg.registry is None:
        return "not registered (the pipeline declares no registry.model_name)"
    if cfg.features.max_depth == 0:
        return "not registered: a target-table-only baseline (features.max_depth=0) never is"
    return None


def run_pipeline(cfg: PipelineConfig, progress: Callable[[str], None] | None = None,
                 register: bool = True, trainer: Identity | None = None) -> RunSummary:
    """Train, evaluate, track; register a version unless ``register`` is False or the run is a baseline.

    ``trainer`` (the signed-in identity) is recorded as who trained the version, in the
    ledger and as the ``creditml.trained_by`` tag; without one the version is recorded as
    trained by ``unverified`` and can never be approved."""
    from creditml.registry import tracking
    from creditml.registry.logging_run import log_pipeline_run
    from creditml.registry.recovery import recover

    say = progress or (lambda step: None)
    dataset = preflight(cfg)
    uri = tracking.configure()
    storage = tracking.optuna_storage(cfg.tuning.storage, uri)
    recover(uri, (storage,))  # runs and trials a killed earlier run left RUNNING
    tracking.artifact_location(cfg.name, uri)  # refuses before any work when artifacts would have no home
    fingerprint = data_fingerprint(dataset.config)
    backends = backends_for(cfg)
    features = build_features(cfg, dataset=dataset, progress=lambda step: (say(step), checkpoint("features")),
                              backend=backends.matrix)
    say(f"tuning XGBoost ({cfg.tuning.n_trials} trials)")
    trained = train_model(features, cfg, storage=storage, data_fingerprint=fingerprint,
                          on_trial=lambda done, total: say(f"tuning XGBoost: trial {done}/{total}"),
                          fitter=backends.final_fit)
    bundle = make_bundle(features, trained, dataset)
    oracle = oracle_auc(Path(cfg.dataset).parent, cfg.task.name, trained.predictions)
    say("measuring the gates")
    assessment = assess(trained, features.matrix, list(features.selector.leakage_flags_), dataset,
                        cfg.task.target, cfg.gates, label_is_good=cfg.scoring.label_is_good)
    decision = evaluate_gates(assessment.gate_inputs, cfg.gates)
    not_registered = registration(cfg, register)
    say("logging the run" + (" and registering the model" if not_registered is None else ""))
    with tempfile.TemporaryDirectory() as tmp:
        bundle_dir = bundle.save(Path(tmp) / "bundle")
        run_id, version, artifacts = log_pipeline_run(cfg, dataset, features, trained, bundle, bundle_dir,
                                                      fingerprint, oracle, assessment, decision,
                                                      register=not_registered is None, trainer=trainer)
    return RunSummary(
        task=cfg.task.name, pipeline=cfg.name, run_id=run_id, model_name=cfg.registry.model_name if cfg.registry else "",
        version=version, metrics={s: {k[len(s) + 1:]: v for k, v in m.as_flat_dict(s).items()} for s, m in trained.metrics.items()},
        candidates=int(features.matrix.shape[1]), selected=len(features.selected), oracle_auc=oracle,
        tracking_uri=uri, artifacts=artifacts, study=trained.tuning.study_name,
        gates_passed=decision.passed, gate_reasons=decision.reasons,
        registered=not_registered or f"registered as version {version}",
        new_trials=trained.tuning.new_trials,
        reused_trials=trained.tuning.resumed_trials,
    )
