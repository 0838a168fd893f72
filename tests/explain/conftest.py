"""A small real XGBoost model and hand-built report inputs (no MLflow, no pipeline)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from creditml.config import ScoringSettings, TaskSpec
from creditml.explain.report import ReportInputs
from creditml.model.frame import feature_types, fit_categories, model_frame, positional_names
from creditml.modeling.artifacts import TuningSummary
from creditml.modeling.metrics import evaluate

CITIES = ["north", "south", "east", "west"]


def random_frame(n: int, seed: int, n_numeric: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"num_{i}": rng.normal(size=n) for i in range(n_numeric)})
    X.loc[rng.random(n) < 0.1, "num_0"] = np.nan
    X["city"] = pd.Series(rng.choice(CITIES, n), dtype=object)
    X.loc[rng.random(n) < 0.05, "city"] = None
    logit = -2 + 1.2 * np.nan_to_num(X["num_0"]) - 0.8 * X["num_1"] + (X["city"] == "south") * 0.9
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int))
    X.index = pd.RangeIndex(1000, 1000 + n, name="application_id")
    y.index = X.index
    return X, y


def fit(X: pd.DataFrame, y: pd.Series, rounds: int = 30, monotone: dict[str, int] | None = None):
    features = list(X.columns)
    categories = fit_categories(X)
    dm = xgb.DMatrix(model_frame(X, features, categories), label=y.values, enable_categorical=True,
                     feature_names=positional_names(features), feature_types=feature_types(features, categories))
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.2, "tree_method": "hist", "seed": 0,
              "max_cat_to_onehot": 1, "verbosity": 0}
    if monotone:
        params["monotone_constraints"] = {f"f{features.index(k)}": v for k, v in monotone.items()}
    booster = xgb.train(params, dm, num_boost_round=rounds)
    return booster, features, categories


def make_inputs(n: int = 1500, n_numeric: int = 3, seed: int = 0, protected: bool = True,
                monotone: dict[str, int] | None = None) -> ReportInputs:
    X, y = random_frame(n, seed, n_numeric)
    monotone = {"num_0": 1, "num_1": -1} if monotone is None else monotone
    booster, features, categories = fit(X, y, monotone=monotone)
    best_iteration = 29
    margin = booster.predict(xgb.DMatrix(model_frame(X, features, categories), enable_categorical=True),
                             output_margin=True, iteration_range=(0, best_iteration + 1))
    proba = 1 / (1 + np.exp(-margin))
    split = np.where(np.arange(n) < 0.6 * n, "train", np.where(np.arange(n) < 0.8 * n, "validation", "test"))
    times = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.arange(n) * 6, unit="h")
    predictions = pd.DataFrame({"split": split, "label": y.values, "probability": proba, "cutoff_time": times},
                               index=X.index)
    metrics = {s: evaluate(y.values[split == s], proba[split == s], n_bootstrap=50) for s in ("train", "validation", "test")}
    sample = X.loc[split != "validation"].copy()
    sample.insert(0, "__split__", split[split != "validation"])
    sample["full_name"] = "Alice Example"  # not a model feature: must never reach the page
    rng = np.random.default_rng(seed + 1)
    test_ids = X.index[split == "test"]
    groups = pd.DataFrame({"customers.gender": rng.choice(["F", "M"], len(test_ids)),
                           "customers.birth_year": pd.qcut(rng.integers(1950, 2004, len(test_ids)), 4).astype(str)},
                          index=test_ids) if protected else None
    selection = pd.DataFrame({"feature": features + ["leaky", "nully"], "kept": [True] * len(features) + [False, False],
                              "reason": ["kept"] * len(features) + ["suspected_leakage", "mostly_null"],
                              "detail": [""] * len(features) + ["AUC 0.999 on its own", "99% null"]})
    trials = pd.DataFrame({"number": range(4), "value": [0.6, 0.7, 0.65, 0.5],
                           "state": ["COMPLETE", "COMPLETE", "COMPLETE", "PRUNED"]})
    return ReportInputs(
        model_name="creditml-test", version="3", run_id="abc123",
        task=TaskSpec(name="credit_default", target="applications", cutoff="applied_at", label="default_12m",
                      description="90+ days past due within 12 months"),
        booster=booster, features=features, categories=categories, best_iteration=best_iteration,
        scoring=ScoringSettings(), descriptions={f: f"The <{f}> of the application." for f in features},
        metrics=metrics, predictions=predictions, sample=sample, selection=selection, leakage_flags=["leaky"],
        tuning=TuningSummary(study="s1", storage="sqlite:///optuna.db", objective="AUC on the validation split",
                             best_params={"max_depth": 3, "eta": 0.2}, best_auc=0.7, cv_folds=0, folds=[],
                             best_iteration=best_iteration, final_fit="train",
                             param_importance={"max_depth": 0.7, "eta": 0.3}, resumed_trials=0, sampler_seed=0,
                             monotone_constraints=monotone),
        trials=trials, tags={"creditml.data_fingerprint": "f00d", "creditml.code_version": "0.1.0+abc"},
        protected=groups,
    )


@pytest.fixture(scope="session")
def report_inputs() -> ReportInputs:
    return make_inputs()
