"""Distributed tuning: many workers add trials to the one study a pipeline's run resumes.

A worker loads the pipeline, gets the selected features (computed, or read from a
folder written by ``creditml features``), and runs Optuna trials against shared RDB
storage (PostgreSQL) under the study name ``creditml run`` uses (``study_name_for``).
``creditml run --set tuning.storage=URL`` then finds the trials there and fits the best.
Each worker samples with TPE and a constant liar (trials still running count as bad
results, so parallel workers spread out) and its own seed, derived from the pipeline
seed and the worker's host and process id.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import optuna
import pandas as pd
import xgboost as xgb
from creditml.config import PipelineConfig, load_dataset_config, load_pipeline_config
from creditml.errors import CreditmlError
from creditml.modeling.train import TrainingInputs, study_name_for, training_inputs
from creditml.modeling.tuning import FINISHED, make_objective, pruner

optuna.logging.set_verbosity(optuna.logging.WARNING)


@dataclass
class WorkerSummary:
    study_name: str
    worker: str  # host:pid
    sampler_seed: int
    trials: int  # finished by this worker
    study_trials: int  # finished in the study, by every worker, when this one stopped
    best_value: float | None


def worker_seed(pipeline_seed: int, host: str | None = None, pid: int | None = None) -> int:
    """A sampler seed per worker: reproducible from (seed, host, pid), different across workers."""
    key = f"{pipeline_seed}:{host or socket.gethostname()}:{pid if pid is not None else os.getpid()}"
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")


def read_feature_folder(folder: Path) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    """Selected matrix, labels, splits and cutoff times from a folder written by ``creditml features``."""
    folder = Path(folder)
    needed = [folder / "selected_matrix.parquet", folder / "instances.parquet"]
    missing = [p.name for p in needed if not p.exists()]
    if missing:
        raise CreditmlError(f"feature folder {str(folder)!r} lacks {', '.join(missing)}; write it with "
                            "creditml features PIPELINE.yaml --out FOLDER (same pipeline and --set)")
    matrix = pd.read_parquet(needed[0]).drop(columns="cutoff_time")
    instances = pd.read_parquet(needed[1])
    if not matrix.index.equals(instances.index):
        raise CreditmlError(f"feature folder {str(folder)!r}: selected_matrix.parquet and instances.parquet list "
                            "different instances; rewrite the folder with creditml features")
    return matrix, instances["label"], instances["split"], instances["cutoff_time"]


def computed_features(cfg: PipelineConfig, progress: Callable[[str], None] | None = None):
    from creditml.features.pipeline import build_features
    from creditml.scale.backends import backends_for

    result = build_features(cfg, progress=progress, backend=backends_for(cfg).matrix)
    return result.matrix[result.selected], result.instances.labels, result.split, result.instances.times


def open_study(storage_url: str, study_name: str, sampler: optuna.samplers.BaseSampler,
               attempts: int = 5) -> optuna.Study:
    """Create or load the shared study; workers that start together may race to create the schema."""
    for attempt in range(attempts):
        try:
            storage = optuna.storages.RDBStorage(storage_url, heartbeat_interval=30, grace_period=120,
                                                 engine_kwargs={"pool_pre_ping": True})
            study = optuna.create_study(study_name=study_name, storage=storage, direction="maximize",
                                        sampler=sampler, load_if_exists=True, pruner=pruner())
            optuna.storages.fail_stale_trials(study)  # trials of a killed worker: FAIL, not RUNNING forever
            return study
        except Exception as exc:  # sqlalchemy errors while another worker creates the same tables
            if attempt == attempts - 1:
                raise CreditmlError(f"cannot open study {study_name!r} in {storage_url!r}: {exc}") from exc
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def run_trials(inputs: TrainingInputs, cfg: PipelineConfig, study: optuna.Study, n_trials: int, worker: str,
               timeout_seconds: float | None = None,
               on_trial: Callable[[int, int], None] | None = None) -> int:
    """Run ``n_trials`` trials of the same objective ``modeling.tuning.tune`` optimises; return how many finished."""
    done = 0

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        nonlocal done
        done += trial.state in FINISHED
        if on_trial:
            on_trial(done, n_trials)

    objective = make_objective(inputs.dtrain, inputs.dvalid, cfg.tuning, inputs.fixed, worker=worker,
                               folds=inputs.folds)
    study.optimize(objective, n_trials=n_trials, timeout=timeout_seconds, callbacks=[callback],
                   catch=(xgb.core.XGBoostError,))
    return done


def tune_worker(pipeline_yaml: str | Path, storage_url: str, n_trials: int, *, overrides: list[str] | None = None,
                dataset: str | Path | None = None, features_dir: str | Path | None = None,
                timeout_seconds: float | None = None,
                progress: Callable[[str], None] | None = None) -> WorkerSummary:
    """Add ``n_trials`` trials to the pipeline's study in ``storage_url``; start as many workers as you like."""
    from creditml.data.fingerprint import data_fingerprint

    if n_trials < 1:
        raise CreditmlError(f"--trials: expected at least 1 trial, got {n_trials}")
    say = progress or (lambda step: None)
    cfg = load_pipeline_config(pipeline_yaml, overrides, dataset)
    # the run names its study with tuning.storage set to this URL (--set tuning.storage=URL)
    cfg = cfg.model_copy(update={"tuning": cfg.tuning.model_copy(update={"storage": storage_url})})
    if features_dir is not None:
        say(f"reading features from {features_dir}")
        matrix, labels, split, times = read_feature_folder(Path(features_dir))
    else:
        matrix, labels, split, times = computed_features(cfg, say)
    inputs = training_inputs(matrix, labels, split, times, cfg)
    study_name = study_name_for(cfg, data_fingerprint(load_dataset_config(cfg.dataset)), inputs.features)
    worker = f"{socket.gethostname()}:{os.getpid()}"
    seed = worker_seed(cfg.seed)
    sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    say(f"joining study {study_name} as {worker} (sampler seed {seed})")
    study = open_study(storage_url, study_name, sampler)
    done = run_trials(inputs, cfg, study, n_trials, worker, timeout_seconds,
                      on_trial=lambda d, t: say(f"trial {d}/{t} finished"))
    finished = [t for t in study.get_trials(deepcopy=False) if t.state in FINISHED]
    completed = [t for t in finished if t.state == optuna.trial.TrialState.COMPLETE]
    best = max((t.value for t in completed), default=None)
    return WorkerSummary(study_name, worker, seed, done, len(finished), best)
