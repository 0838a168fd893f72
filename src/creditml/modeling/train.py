"""Train a tuned XGBoost model on a feature stage's result and evaluate it per split.

Pure: takes the features and settings, returns a :class:`TrainedModel`. Tracking and
the registry record it elsewhere (``creditml.registry``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xgboost as xgb

from creditml.config import PipelineConfig
from creditml.errors import CreditmlError
from creditml.features.pipeline import FeatureResult
from creditml.modeling.frame import feature_types, fit_categories, model_frame, positional_names
from creditml.modeling.metrics import SplitMetrics, evaluate
from creditml.modeling.splits import SPLITS, describe_folds, forward_chaining_folds
from creditml.modeling.tuning import TuningResult, base_params, monotone_map, tune


@dataclass
class TrainedModel:
    booster: xgb.Booster
    features: list[str]  # model inputs, in order (featuretools and graph feature names)
    categories: dict[str, list[str]]
    params: dict
    best_iteration: int
    predictions: pd.DataFrame  # index = instance id: split, label, probability, cutoff_time
    metrics: dict[str, SplitMetrics]
    tuning: TuningResult
    monotone: dict[str, int] = field(default_factory=dict)  # feature name -> declared direction


def check_trainable(labels: pd.Series, split: pd.Series, min_positives: int, task: str) -> None:
    """Stop before anything is logged when a split cannot train or evaluate a model."""
    problems = []
    for name in SPLITS:
        y = labels[(split == name).values]
        pos = int(y.sum())
        if pos < min_positives or pos == len(y):
            problems.append(f"{name}: {pos} positive(s) among {len(y)} instances")
    if problems:
        raise CreditmlError(
            f"task {task!r}: too few positives to train and evaluate (need at least {min_positives} per split "
            f"and some negatives): {'; '.join(problems)}. Use more data, a longer window, or lower "
            "training.min_positives"
        )


def check_folds(labels: pd.Series, times: pd.Series, split: pd.Series, cv_folds: int, min_positives: int,
                task: str) -> None:
    """Stop before anything is computed when a forward-chaining fold cannot be trained or scored.

    Every block a fold validates on needs ``min_positives`` positives, like a split; the
    first block only ever trains, so it needs both classes.
    """
    if not cv_folds:
        return
    train = (split == "train").values
    y = labels[train].to_numpy()
    folds = forward_chaining_folds(times[train], cv_folds)
    blocks = [(folds[0][0], 1)] + [(valid, min_positives) for _, valid in folds]
    problems = [f"block {i}: {int(y[b].sum())} positive(s) among {len(b)} instances"
                for i, (b, need) in enumerate(blocks) if y[b].sum() < need or y[b].sum() == len(b)]
    if problems:
        raise CreditmlError(
            f"task {task!r}: tuning.cv_folds={cv_folds} cuts the training split into {cv_folds + 1} time blocks, "
            f"and too few positives fall in some (a validated block needs at least {min_positives}, and every "
            f"block some negatives): {'; '.join(problems)}. Lower tuning.cv_folds (0 tunes on the validation "
            "split) or training.min_positives"
        )


def study_name_for(cfg: PipelineConfig, data_fingerprint: str, features: list[str]) -> str:
    """Same pipeline, same data, same settings, same candidates: same study (so it resumes)."""
    # where the study is stored and how many threads a worker uses do not change what it searches
    key = json.dumps({"tuning": cfg.tuning.model_dump(mode="json", exclude={"n_trials", "timeout_seconds",
                                                                             "storage", "nthread"}),
                      "split": cfg.split.model_dump(mode="json"), "seed": cfg.seed, "features": features,
                      "data": data_fingerprint}, sort_keys=True)
    return cfg.tuning.study_name or f"{cfg.name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


@dataclass
class TrainingInputs:
    """The matrices and fixed parameters every fit of a pipeline uses (tuning, workers, final fit)."""

    features: list[str]
    categories: dict[str, list[str]]
    frame: pd.DataFrame  # model view of all instances (positional names)
    dtrain: xgb.DMatrix
    dvalid: xgb.DMatrix
    fixed: dict  # parameters that are not searched (objective, seed, monotone constraints)
    monotone: dict[str, int]  # positional name -> direction
    folds: list[tuple[np.ndarray, np.ndarray]] | None = None  # tuning.cv_folds: positions in dtrain
    fold_summary: list[dict] | None = None


def training_inputs(matrix: pd.DataFrame, labels: pd.Series, split: pd.Series, times: pd.Series,
                    cfg: PipelineConfig) -> TrainingInputs:
    """``times`` are the instances' cutoff times (aligned with ``labels``); they order the tuning folds."""
    check_trainable(labels, split, cfg.training.min_positives, cfg.task.name)
    check_folds(labels, times, split, cfg.tuning.cv_folds, cfg.training.min_positives, cfg.task.name)
    names = list(matrix.columns)
    categories = fit_categories(matrix.loc[(split == "train").values])
    frame = model_frame(matrix, names, categories)

    def dmatrix(part: str) -> xgb.DMatrix:
        mask = (split == part).values
        return xgb.DMatrix(frame.loc[mask], label=labels[mask].values, enable_categorical=True,
                           feature_names=positional_names(names), feature_types=feature_types(names, categories))

    monotone = monotone_map(names, cfg.tuning.monotone_constraints)
    folds = summary = None
    if cfg.tuning.cv_folds:
        train = (split == "train").values
        folds = forward_chaining_folds(times[train], cfg.tuning.cv_folds)
        summary = describe_folds(times[train], labels[train], folds)
    return TrainingInputs(names, categories, frame, dmatrix("train"), dmatrix("validation"),
                          base_params(cfg.tuning, cfg.seed, monotone), monotone, folds, summary)


def train_model(features: FeatureResult, cfg: PipelineConfig, *, storage: str, data_fingerprint: str,
                on_trial=None) -> TrainedModel:
    labels, split = features.instances.labels, features.split
    inputs = training_inputs(features.matrix[features.selected], labels, split, features.instances.times, cfg)
    names, categories, frame, fixed, monotone = (inputs.features, inputs.categories, inputs.frame, inputs.fixed,
                                                 inputs.monotone)
    dtrain, dvalid = inputs.dtrain, inputs.dvalid
    tuning = tune(dtrain, dvalid, cfg.tuning, seed=cfg.seed, storage=storage,
                  study_name=study_name_for(cfg, data_fingerprint, names), fixed=fixed, on_trial=on_trial,
                  folds=inputs.folds, fold_summary=inputs.fold_summary)
    params = {**fixed, **tuning.best_params}
    if cfg.training.backend == "dask":
        from creditml.scale._cluster import scheduler_address
        from creditml.scale.dask_training import fit_final_dask

        address = scheduler_address(cfg.training.dask_scheduler or cfg.features.dask_scheduler,
                                    "training.dask_scheduler")
        booster, best_iteration = fit_final_dask(frame, labels.values, split.values, params, cfg.tuning, address,
                                                 feature_names=positional_names(names),
                                                 feature_types=feature_types(names, categories))
    else:
        booster = xgb.train(params, dtrain, num_boost_round=cfg.tuning.max_boost_rounds,
                            evals=[(dvalid, "validation")], early_stopping_rounds=cfg.tuning.early_stopping_rounds,
                            verbose_eval=False)
        best_iteration = int(booster.best_iteration)
    full = xgb.DMatrix(frame, enable_categorical=True, feature_names=positional_names(names),
                       feature_types=feature_types(names, categories))
    margin = booster.predict(full, output_margin=True, iteration_range=(0, best_iteration + 1))
    proba = 1.0 / (1.0 + np.exp(-margin.astype("float64")))  # as the served model computes it
    predictions = pd.DataFrame({"split": split.values, "label": labels.values, "probability": proba,
                                "cutoff_time": features.instances.times.values}, index=labels.index)
    metrics = {s: evaluate(predictions.loc[predictions.split == s, "label"].to_numpy(),
                           predictions.loc[predictions.split == s, "probability"].to_numpy(),
                           task_kind=cfg.task.kind, seed=cfg.seed) for s in SPLITS}
    direction = {names[int(k[1:])]: v for k, v in monotone.items()}
    return TrainedModel(booster, names, categories, params, best_iteration, predictions, metrics, tuning, direction)
