"""Train a tuned XGBoost model on a feature stage's result and evaluate it per split.

Pure: takes the features and settings, returns a :class:`TrainedModel`. Tracking and
the registry record it elsewhere (``creditml.registry``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd
import xgboost as xgb

from creditml.config import PipelineConfig
from creditml.errors import ConfigError, CreditmlError
from creditml.features.pipeline import FeatureResult
from creditml.model.bundle import ModelBundle
from creditml.model.records import key_kinds
from creditml.model.frame import feature_types, fit_categories, model_frame, positional_names
from creditml.modeling.metrics import SplitMetrics, evaluate
from creditml.splits import SPLITS, describe_folds, forward_chaining_folds, key_folds
from creditml.modeling.tuning import TuningResult, base_params, monotone_map, tune


class FinalFitter(Protocol):
    """Fits the final booster elsewhere (e.g. ``creditml.scale`` on a Dask cluster); same inputs, same result.

    ``split`` marks each row ``train``, ``validation`` (early stopping) or ``held_out``;
    returns the booster and its best iteration.
    """

    def __call__(self, frame: pd.DataFrame, labels, split, params: dict, settings, *, rounds: int | None,
                 feature_names: list[str], feature_types: list[str]) -> tuple[xgb.Booster, int]:
        ...


@dataclass
class TrainedModel:
    booster: xgb.Booster
    features: list[str]  # model inputs, in order (featuretools and graph feature names)
    categories: dict[str, list[str]]
    params: dict
    best_iteration: int
    # index = instance id: split, label, probability (the registered model's), evaluation_probability (what the
    # split's metrics use: the same except on validation under training.final_fit: train+validation), cutoff_time
    predictions: pd.DataFrame
    metrics: dict[str, SplitMetrics]
    tuning: TuningResult
    monotone: dict[str, int] = field(default_factory=dict)  # feature name -> declared direction
    final_fit: str = "early stopping on the validation split"  # how the final round count was chosen


def check_trainable(labels: pd.Series, split: pd.Series, min_positives: int, task: str,
                    left_out: dict[str, int] | None = None, maturity_days: int | None = None,
                    split_method: str = "time") -> None:
    """Stop before anything is logged when a split cannot train or evaluate a model, saying why.

    ``left_out`` (``TaskInstances.left_out``) tells whether label maturity, missing label
    rows or the split sizes are the cause, so the advice names the cause that applies.
    """
    problems = []
    for name in SPLITS:
        y = labels[(split == name).values]
        pos = int(y.sum())
        if pos < min_positives or pos == len(y):
            problems.append(f"{name}: {pos} positive(s) among {len(y)} instances")
    if not problems:
        return
    causes = too_few_positives_causes(labels, left_out or {}, maturity_days, min_positives, split_method)
    raise CreditmlError(
        f"task {task!r}: too few positives to train and evaluate (need at least {min_positives} per split "
        f"and some negatives): {'; '.join(problems)}. " + " ".join(causes)
    )


def too_few_positives_causes(labels: pd.Series, left_out: dict[str, int], maturity_days: int | None,
                             min_positives: int, split_method: str = "time") -> list[str]:
    """Which cause applies, each with what to do; the largest first."""
    causes = []
    immature = left_out.get("label not matured", 0)
    if immature and immature >= len(labels) * 0.25:
        causes.append(f"Cause: label maturity left out {immature:,} instances ({immature / (immature + len(labels)):.0%}"
                      f" of those with a label row), whose {maturity_days}-day outcome window had not closed by the "
                      "dataset's as_of; set the dataset's as_of to when the data was really extracted, or shorten "
                      "task.maturity_days if the label's window allows it.")
    unlabelled = left_out.get("no label row", 0)
    if unlabelled and unlabelled >= len(labels):
        causes.append(f"Cause: {unlabelled:,} instances have no label row; check the label table's key and "
                      "its orphans (creditml validate).")
    if int(labels.sum()) < 3 * min_positives:
        causes.append(f"Cause: the whole portfolio has only {int(labels.sum())} positive(s) among {len(labels):,} "
                      "matured instances, too few to split three ways; use data over a longer window, raise "
                      "split.validation_share and split.test_share, or lower training.min_positives.")
    if not causes and split_method == "key_hash":
        causes.append("Cause: the hash split leaves one split short of positives; raise split.test_share or "
                      "split.validation_share, choose another split.seed, or lower training.min_positives.")
    if not causes:
        causes.append("Cause: the split leaves one period short of positives; move the split dates "
                      "(split.validation_start / split.test_start) or lower training.min_positives.")
    return causes


def tuning_folds(cfg: PipelineConfig, labels: pd.Series, times: pd.Series,
                 split: pd.Series) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """The folds trials are scored on (positions in the training split), or None for the validation split.

    ``tuning.cv_folds`` when set; else ``tuning.small_data_folds`` when the training split is
    smaller than ``tuning.small_data_rows``. Forward-chaining blocks by cutoff time, or, for
    ``split.method: key_hash`` data, folds by a hash of the key.
    """
    train = (split == "train").values
    explicit = cfg.tuning.cv_folds
    k = explicit or (cfg.tuning.small_data_folds if train.sum() < cfg.tuning.small_data_rows else 0)
    if not k:
        return None
    if cfg.split.method == "key_hash":
        folds = key_folds(labels.index[train], k, cfg.split.seed, labels[train].to_numpy())
    else:
        try:
            folds = forward_chaining_folds(times[train], k)
        except ConfigError:
            if explicit:
                raise
            return None
    if not explicit and _short_blocks(folds, labels[train].to_numpy(), cfg):
        return None  # the small-data default falls back to the validation split rather than refuse the run
    return folds


def _short_blocks(folds, y: np.ndarray, cfg: PipelineConfig) -> list[str]:
    """Blocks with too few positives (or no negatives) to train or score a fold."""
    need = cfg.training.min_positives
    blocks = ([] if cfg.split.method == "key_hash" else [(folds[0][0], 1)]) + [(v, need) for _, v in folds]
    return [f"block {i}: {int(y[b].sum())} positive(s) among {len(b)} instances"
            for i, (b, n) in enumerate(blocks) if y[b].sum() < n or y[b].sum() == len(b)]


def check_folds(labels: pd.Series, times: pd.Series, split: pd.Series, cfg: PipelineConfig) -> None:
    """Stop before anything is computed when a fold cannot be trained or scored.

    Every block a fold validates on needs ``training.min_positives`` positives, like a
    split; a forward-chaining first block only ever trains, so it needs both classes.
    """
    folds = tuning_folds(cfg, labels, times, split)
    if folds is None:
        if cfg.tuning.select == "stable":
            rows, small = int((split == "train").sum()), cfg.tuning.small_data_rows
            why = (f"the {rows:,} training rows are not below tuning.small_data_rows {small:,}" if rows >= small else
                   f"the {rows:,} training rows cannot be cut into tuning.small_data_folds "
                   f"{cfg.tuning.small_data_folds} folds with enough positives in each")
            raise ConfigError(
                f"task {cfg.task.name!r}: tuning.select: stable ranks trials by their mean fold AUC minus its standard "
                f"deviation over the folds, but this run scores trials on the validation split (tuning.cv_folds is 0 "
                f"and {why}); set tuning.cv_folds to 2 or more, or tuning.select to best")
        return
    cv_folds, min_positives, task = len(folds), cfg.training.min_positives, cfg.task.name
    problems = _short_blocks(folds, labels[(split == "train").values].to_numpy(), cfg)
    if problems:
        raise CreditmlError(
            f"task {task!r}: tuning with {cv_folds} folds cuts the training split into blocks "
            f"({'by key' if cfg.split.method == 'key_hash' else 'by time'}), and too few positives fall in some (a validated block needs at least {min_positives}, and every "
            f"block some negatives): {'; '.join(problems)}. Lower tuning.cv_folds (or tuning.small_data_folds "
            "for a small training split) or training.min_positives"
        )


def study_name_for(cfg: PipelineConfig, data_fingerprint: str, features: list[str]) -> str:
    """Same pipeline, same data, same settings, same candidates: same study (so it resumes)."""
    # where the study is stored and how many threads a worker uses do not change what it searches
    # nor does which finished trial the final fit takes
    key = json.dumps({"tuning": cfg.tuning.model_dump(mode="json", exclude={"n_trials", "timeout_seconds",
                                                                             "storage", "nthread", "select"}),
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
    check_trainable(labels, split, cfg.training.min_positives, cfg.task.name, split_method=cfg.split.method)
    check_folds(labels, times, split, cfg)
    names = list(matrix.columns)
    categories = fit_categories(matrix.loc[(split == "train").values])
    frame = model_frame(matrix, names, categories)

    def dmatrix(part: str) -> xgb.DMatrix:
        mask = (split == part).values
        return xgb.DMatrix(frame.loc[mask], label=labels[mask].values, enable_categorical=True,
                           feature_names=positional_names(names), feature_types=feature_types(names, categories))

    monotone = monotone_map(names, cfg.tuning.monotone_constraints)
    folds, summary = tuning_folds(cfg, labels, times, split), None
    if folds is not None:
        train = (split == "train").values
        summary = describe_folds(times[train], labels[train], folds)
    return TrainingInputs(names, categories, frame, dmatrix("train"), dmatrix("validation"),
                          base_params(cfg.tuning, cfg.seed, monotone, int((split == "train").sum())), monotone, folds,
                          summary)


def scaled_rounds(best: int, scale: float, max_rounds: int) -> int:
    """``best`` rounds scaled to more (or fewer) rows: at least 1, at most ``max_rounds``."""
    return int(min(max(round(best * scale), 1), max_rounds))


def final_rounds(cv_best_iteration: int, folds: list[tuple[np.ndarray, np.ndarray]], n_fit: int,
                 max_rounds: int, fit_on: str = "train") -> tuple[int, str]:
    """The final fit's round count when trials were scored on forward-chaining folds, and why.

    The CV optimum was found for models trained on the folds' training blocks; the final
    model trains on ``n_fit`` rows (the training split, or the training and validation
    splits for ``fit_on="train+validation"``), so the count is scaled by ``n_fit`` over
    the folds' mean training size. No early stopping: the validation split is not used
    to choose anything.
    """
    best = cv_best_iteration + 1
    scale = n_fit / float(np.mean([len(train) for train, _ in folds]))
    rounds = scaled_rounds(best, scale, max_rounds)
    if fit_on == "train":
        rows, after = "training split", "no early stopping, the validation split stays held out"
    else:
        rows, after = ("training + validation splits", "refit on both; the validation metrics are the same "
                       "recipe's fit on the training split alone")
    return rounds, f"{rounds} rounds: the CV optimum ({best}) x {scale:.2f} ({rows} / mean fold training size); {after}"


def refit_rounds(best_iteration: int, n_train: int, n_fit: int, max_rounds: int) -> tuple[int, str]:
    """The refit's round count when trials were scored on the validation split, and why.

    The training-split fit stopped early on the validation split at ``best_iteration``;
    the refit on the training and validation splits (``n_fit`` rows) runs that count
    scaled by ``n_fit / n_train``, with nothing left to stop it early.
    """
    best = best_iteration + 1
    scale = n_fit / n_train
    rounds = scaled_rounds(best, scale, max_rounds)
    return rounds, (f"{rounds} rounds: the validation optimum ({best}) x {scale:.2f} (training + validation "
                    "splits / training split); refit on both; the validation metrics are the training-split fit's, "
                    "early-stopped on the validation split")


def train_model(features: FeatureResult, cfg: PipelineConfig, *, storage: str, data_fingerprint: str,
                on_trial=None, fitter: FinalFitter | None = None) -> TrainedModel:
    """Tune, fit the final model and evaluate it on every split.

    With ``training.final_fit: train+validation`` two boosters are fit with the same
    parameters: one on the training split (its validation predictions give the
    validation metrics, a held-out period) and the registered one on both splits (its
    predictions give every other figure and the ``probability`` column).
    """
    if cfg.training.backend == "dask" and fitter is None:
        raise CreditmlError("training.backend is 'dask' but no Dask fitter was passed to train_model; "
                            "run the pipeline through creditml run (it builds one from the settings)")
    labels, split = features.instances.labels, features.split
    inputs = training_inputs(features.matrix[features.selected], labels, split, features.instances.times, cfg)
    names, categories, frame, fixed, monotone = (inputs.features, inputs.categories, inputs.frame, inputs.fixed,
                                                 inputs.monotone)
    dtrain, dvalid = inputs.dtrain, inputs.dvalid
    tuning = tune(dtrain, dvalid, cfg.tuning, seed=cfg.seed, storage=storage,
                  study_name=study_name_for(cfg, data_fingerprint, names), fixed=fixed, on_trial=on_trial,
                  folds=inputs.folds, fold_summary=inputs.fold_summary,
                  fold_kind="key-hash" if cfg.split.method == "key_hash" else "forward-chaining")
    params = {**fixed, **tuning.best_params}
    meta = {"feature_names": positional_names(names), "feature_types": feature_types(names, categories)}

    def fit(fit_on: str, rounds: int | None = None, how: str = TrainedModel.final_fit) -> tuple[xgb.Booster, int, str]:
        """A booster on the ``fit_on`` rows: ``rounds`` of them, else the CV count, else early stopping."""
        rows = split.isin(fit_on.split("+")).to_numpy()
        if rounds is None and inputs.folds:
            rounds, how = final_rounds(tuning.best_iteration, inputs.folds, int(rows.sum()),
                                       cfg.tuning.max_boost_rounds, fit_on)
        if fitter is not None:
            parts = np.where(rows, "train", "held_out") if rounds else split.to_numpy()
            booster, best = fitter(frame, labels.values, parts, params, cfg.tuning, rounds=rounds, **meta)
        elif rounds:
            data = dtrain if fit_on == "train" else xgb.DMatrix(frame.loc[rows], label=labels[rows].values,
                                                                enable_categorical=True, **meta)
            booster, best = xgb.train(params, data, num_boost_round=rounds), rounds - 1
        else:
            booster = xgb.train(params, dtrain, num_boost_round=cfg.tuning.max_boost_rounds,
                                evals=[(dvalid, "validation")],
                                early_stopping_rounds=cfg.tuning.early_stopping_rounds, verbose_eval=False)
            best = int(booster.best_iteration)
        return booster, best, how

    full = xgb.DMatrix(frame, enable_categorical=True, **meta)

    def probability(booster: xgb.Booster, best: int) -> np.ndarray:
        margin = booster.predict(full, output_margin=True, iteration_range=(0, best + 1))
        return 1.0 / (1.0 + np.exp(-margin.astype("float64")))  # as the served model computes it

    if cfg.training.final_fit == "train+validation":
        # the recipe's fit on the training split gives the validation figures (a held-out period) and,
        # without folds, the early-stopped round count that the refit scales to its rows
        on_train = fit("train")
        rounds, how = None, TrainedModel.final_fit
        if not inputs.folds:
            rounds, how = refit_rounds(on_train[1], int((split == "train").sum()),
                                       int(split.isin(["train", "validation"]).sum()), cfg.tuning.max_boost_rounds)
        booster, best_iteration, final_fit = fit("train+validation", rounds, how)
    else:
        booster, best_iteration, final_fit = on_train = fit("train")
    proba = probability(booster, best_iteration)
    evaluated = proba.copy()  # what each split's metrics are computed from
    if cfg.training.final_fit == "train+validation":
        valid = (split == "validation").to_numpy()
        evaluated[valid] = probability(*on_train[:2])[valid]
    predictions = pd.DataFrame({"split": split.values, "label": labels.values, "probability": proba,
                                "evaluation_probability": evaluated,
                                "cutoff_time": features.instances.times.values}, index=labels.index)
    metrics = {s: evaluate(predictions.loc[predictions.split == s, "label"].to_numpy(),
                           predictions.loc[predictions.split == s, "evaluation_probability"].to_numpy(),
                           task_kind=cfg.task.kind, seed=cfg.seed) for s in SPLITS}
    direction = {names[int(k[1:])]: v for k, v in monotone.items()}
    return TrainedModel(booster, names, categories, params, best_iteration, predictions, metrics, tuning, direction,
                        final_fit)


def make_bundle(features: FeatureResult, trained: TrainedModel, dataset) -> ModelBundle:
    cfg = features.config
    return ModelBundle(
        key_kinds=key_kinds(dataset.config, dataset.tables),
        dataset=dataset.config, task=cfg.task, features_settings=cfg.features,
        definitions=features.selected_definitions, features=trained.features, categories=trained.categories,
        booster=trained.booster, best_iteration=trained.best_iteration, scoring=cfg.scoring,
        descriptions=features.all_descriptions(), engine=cfg.features.engine,
    )
