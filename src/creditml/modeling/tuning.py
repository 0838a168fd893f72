"""Optuna search over XGBoost: seeded TPE, early stopping and pruning on an AUC curve, resumable.

The curve is the validation split's or, with ``tuning.cv_folds: k``, the mean over k
forward-chaining folds of the training split.

The study lives in persistent storage under a name derived from the pipeline and its
data, so a run that was killed continues with the trials it already has.
"""

from __future__ import annotations

import fnmatch
import warnings
import logging
import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import optuna
import pandas as pd
import xgboost as xgb
from optuna_integration.xgboost import XGBoostPruningCallback

from creditml.checkpoints import checkpoint
from creditml.config import TuningSettings

optuna.logging.set_verbosity(optuna.logging.WARNING)
log = logging.getLogger(__name__)

FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
Folds = list[tuple[np.ndarray, np.ndarray]]  # (training positions, validation positions) per fold


@dataclass
class TuningResult:
    study_name: str
    storage: str
    best_params: dict
    best_value: float
    best_iteration: int
    trials: pd.DataFrame
    param_importance: dict[str, float]
    resumed_trials: int  # finished trials found in storage before this run
    objective: str = "AUC on the validation split"  # what best_value is (objective_name)
    folds: list[dict] = field(default_factory=list)  # tuning.cv_folds: each fold's rows and time block
    new_trials: int = 0  # trials this run finished (0: the study was complete already and is reused)


def monotone_map(features: list[str], patterns: dict[str, int]) -> dict[str, int]:
    """Positional feature name -> direction for every feature matching a glob pattern."""
    out = {}
    for i, name in enumerate(features):
        for pattern, direction in patterns.items():
            if fnmatch.fnmatchcase(name, pattern):
                out[f"f{i}"] = int(direction)
                break
    return out


SMALL_DATA_ROWS = 5_000  # below this many training rows XGBoost runs on one thread by default


def threads_for(settings: TuningSettings, train_rows: int) -> int:
    """XGBoost's ``nthread``: the setting, or one thread for small data and this process's cores otherwise."""
    if settings.nthread is not None:
        return settings.nthread
    if train_rows < SMALL_DATA_ROWS:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def base_params(settings: TuningSettings, seed: int, monotone: dict[str, int], train_rows: int) -> dict:
    params = {"objective": "binary:logistic", "eval_metric": "auc", "tree_method": "hist",
              "seed": seed, "verbosity": 0, "max_cat_to_onehot": 1}
    nthread = threads_for(settings, train_rows)
    if nthread:
        params["nthread"] = nthread
    if monotone:
        params["monotone_constraints"] = monotone
    return params


def suggest(trial: optuna.Trial, settings: TuningSettings, positive_rate: float) -> dict:
    params = {}
    for name, r in settings.search_space.items():
        if r.int:
            params[name] = trial.suggest_int(name, int(r.low), int(r.high), log=r.log)
        else:
            params[name] = trial.suggest_float(name, r.low, r.high, log=r.log)
    if settings.class_imbalance == "tune":
        balanced = (1 - positive_rate) / max(positive_rate, 1e-9)
        params["scale_pos_weight"] = trial.suggest_float("scale_pos_weight", 1.0, max(balanced, 1.0001), log=True)
    return params


def objective_name(cv_folds: int, fold_kind: str = "forward-chaining") -> str:
    """What a trial's value is, in words (for the study and the run's record)."""
    if cv_folds:
        return f"mean AUC over {cv_folds} {fold_kind} folds of the training split"
    return "AUC on the validation split"


def pruner() -> optuna.pruners.BasePruner:
    return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=30)


def make_objective(dtrain: xgb.DMatrix, dvalid: xgb.DMatrix, settings: TuningSettings, fixed: dict,
                   worker: str | None = None, folds: Folds | None = None) -> Callable[[optuna.Trial], float]:
    """One trial: fit with early stopping, pruned on the AUC curve; return the best AUC.

    Without ``folds`` the curve is the validation split's. With ``folds`` (positions in
    ``dtrain``, e.g. :func:`creditml.splits.forward_chaining_folds`) it is the
    mean AUC over the folds' validation blocks, and ``dvalid`` is not looked at.
    """
    positive_rate = float(dtrain.get_label().mean())

    def objective(trial: optuna.Trial) -> float:
        if worker:
            trial.set_user_attr("worker", worker)
        checkpoint("tuning")
        params = {**fixed, **suggest(trial, settings, positive_rate)}
        if folds:
            return _cross_validated(trial, params, dtrain, folds, settings)
        booster = xgb.train(
            params, dtrain, num_boost_round=settings.max_boost_rounds, evals=[(dvalid, "validation")],
            early_stopping_rounds=settings.early_stopping_rounds, verbose_eval=False,
            callbacks=[XGBoostPruningCallback(trial, "validation-auc")],
        )
        trial.set_user_attr("best_iteration", int(booster.best_iteration))
        return float(booster.best_score)

    return objective


def _cross_validated(trial: optuna.Trial, params: dict, dtrain: xgb.DMatrix, folds: Folds,
                     settings: TuningSettings) -> float:
    """Mean AUC over the folds at the round that maximises it (one round count for every fold).

    The pruning callback sees xgb.cv's log as ``test-auc`` (it drops the fold spread);
    the returned history calls the same curve ``test-auc-mean``.
    """
    history = xgb.cv(params, dtrain, num_boost_round=settings.max_boost_rounds, folds=folds,
                     early_stopping_rounds=settings.early_stopping_rounds, verbose_eval=False, as_pandas=True,
                     callbacks=[XGBoostPruningCallback(trial, "test-auc")])
    best = int(history["test-auc-mean"].to_numpy().argmax())
    trial.set_user_attr("best_iteration", best)
    trial.set_user_attr("cv_auc_std", float(history["test-auc-std"].iloc[best]))
    return float(history["test-auc-mean"].iloc[best])


def chosen_trial(study: optuna.Study, completed: list[optuna.trial.FrozenTrial], select: str) -> optuna.trial.FrozenTrial:
    """The trial the final fit takes (``tuning.select``): the study's best, or the most stable over the folds.

    ``stable`` takes the highest mean fold AUC minus the standard deviation of the fold AUCs
    at that round: a setting that holds across the training split's time blocks rather
    than one that peaked on some of them.
    """
    if select == "best":
        return study.best_trial
    scored = [t for t in completed if "cv_auc_std" in t.user_attrs]
    if not scored:
        raise ValueError(f"tuning.select: stable needs trials scored on folds; study {study.study_name!r} holds "
                         f"{len(completed)} completed trial(s) scored on the validation split")
    return max(scored, key=lambda t: t.value - t.user_attrs["cv_auc_std"])


def heartbeat_storage(url: str, settings: TuningSettings) -> optuna.storages.BaseStorage | str:
    """An RDB storage whose running trials beat, so a killed process's trials can be failed."""
    if "://" not in url:
        return url
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeat: since 2.9
    return optuna.storages.RDBStorage(url, heartbeat_interval=settings.heartbeat_seconds,
                                      grace_period=settings.stale_after_seconds,
                                      engine_kwargs={"pool_pre_ping": True})


def tune(dtrain: xgb.DMatrix, dvalid: xgb.DMatrix, settings: TuningSettings, *, seed: int, storage: str,
         study_name: str, fixed: dict, on_trial: Callable[[int, int], None] | None = None,
         folds: Folds | None = None, fold_summary: list[dict] | None = None,
         fold_kind: str = "forward-chaining") -> TuningResult:
    """Run (or resume) the study until it holds ``n_trials`` finished trials or time runs out.

    ``folds`` switches the objective to forward-chaining cross-validation on ``dtrain``
    (see :func:`make_objective`); ``fold_summary`` describes them in the study's attributes.
    """
    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(study_name=study_name, storage=heartbeat_storage(storage, settings),
                                direction="maximize", sampler=sampler, pruner=pruner(), load_if_exists=True)
    optuna.storages.fail_stale_trials(study)  # trials of a killed run: FAIL, so they are not RUNNING forever
    study.set_user_attr("sampler_seed", seed)
    study.set_user_attr("objective", objective_name(len(folds or []), fold_kind))
    if fold_summary:
        study.set_user_attr("cv_folds", fold_summary)
    resumed = sum(t.state in FINISHED for t in study.trials)
    objective = make_objective(dtrain, dvalid, settings, fixed, folds=folds)

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if on_trial:
            on_trial(sum(t.state in FINISHED for t in study.trials), settings.n_trials)

    remaining = settings.n_trials - resumed
    if remaining > 0:
        study.optimize(objective, n_trials=remaining, timeout=settings.timeout_seconds, callbacks=[callback])
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not completed:
        raise RuntimeError(f"study {study_name!r} has no completed trial; raise tuning.n_trials or timeout_seconds")
    best = chosen_trial(study, completed, settings.select)
    try:
        importance = optuna.importance.get_param_importances(study) if len(completed) > 2 else {}
    except (RuntimeError, ValueError):  # too few distinct trials to fit the evaluator
        importance = {}
    trials = study.trials_dataframe(attrs=("number", "value", "state", "params", "user_attrs", "duration"))
    return TuningResult(study_name, storage, dict(best.params), float(best.value),
                        int(best.user_attrs.get("best_iteration", 0)), trials,
                        {k: float(v) for k, v in importance.items()}, resumed,
                        objective_name(len(folds or []), fold_kind), list(fold_summary or []),
                        sum(t.state in FINISHED for t in study.trials) - resumed)
