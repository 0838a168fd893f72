"""The final fit with xgboost.dask matches the single-machine fit out of time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from creditml.config import TuningSettings
from creditml.model.frame import feature_types, fit_categories, model_frame, positional_names
from creditml.scale.dask_training import fit_final_dask


def _synthetic(n: int = 24_000, seed: int = 11) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(8)})
    X.loc[rng.random(n) < 0.1, "x3"] = np.nan
    X["segment"] = pd.Categorical(rng.choice(["a", "b", "c", "d"], size=n))
    margin = (X.x0 - 0.8 * X.x1 + 0.5 * X.x2 * X.x0 + np.where(X.segment == "c", 1.0, 0.0)
              + 0.6 * np.sin(X.x4 * 2) - 2.0)
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-margin))).astype(int))
    split = pd.Series(np.select([np.arange(n) < 0.6 * n, np.arange(n) < 0.8 * n], ["train", "validation"], "test"))
    return X, y, split


def test_dask_final_fit_is_within_0005_auc_of_the_local_fit(dask_cluster):
    X, y, split = _synthetic()
    names = list(X.columns)
    categories = fit_categories(X.loc[(split == "train").values])
    frame = model_frame(X, names, categories)
    meta = {"feature_names": positional_names(names), "feature_types": feature_types(names, categories)}
    params = {"objective": "binary:logistic", "eval_metric": "auc", "tree_method": "hist", "seed": 0,
              "verbosity": 0, "max_cat_to_onehot": 1, "max_depth": 4, "learning_rate": 0.1, "subsample": 0.9,
              "colsample_bytree": 0.8, "min_child_weight": 5, "nthread": 1}
    settings = TuningSettings(max_boost_rounds=400, early_stopping_rounds=30)

    def dm(part):
        mask = (split == part).values
        return xgb.DMatrix(frame.loc[mask], label=y[mask], enable_categorical=True, **meta)

    local = xgb.train(params, dm("train"), num_boost_round=settings.max_boost_rounds,
                      evals=[(dm("validation"), "validation")], early_stopping_rounds=settings.early_stopping_rounds,
                      verbose_eval=False)
    booster, best = fit_final_dask(frame, y, split, params, settings, dask_cluster.scheduler_address, **meta)

    assert isinstance(booster, xgb.Booster) and 10 < best < settings.max_boost_rounds
    assert booster.feature_names == meta["feature_names"] and booster.feature_types == meta["feature_types"]
    test = (split == "test").values
    dtest = xgb.DMatrix(frame.loc[test], enable_categorical=True, **meta)
    auc_local = roc_auc_score(y[test], local.predict(dtest, iteration_range=(0, local.best_iteration + 1)))
    auc_dask = roc_auc_score(y[test], booster.predict(dtest, iteration_range=(0, best + 1)))
    assert auc_local > 0.75
    assert abs(auc_dask - auc_local) < 0.005, (auc_local, auc_dask)


def test_dask_final_fit_with_a_round_count_fits_exactly_that_many_rounds(dask_cluster):
    X, y, split = _synthetic(n=6_000)
    names = list(X.columns)
    categories = fit_categories(X.loc[(split == "train").values])
    frame = model_frame(X, names, categories)
    params = {"objective": "binary:logistic", "eval_metric": "auc", "tree_method": "hist", "seed": 0,
              "verbosity": 0, "max_cat_to_onehot": 1, "max_depth": 3, "nthread": 1}
    booster, best = fit_final_dask(frame, y, split, params, TuningSettings(), dask_cluster.scheduler_address,
                                   feature_names=positional_names(names),
                                   feature_types=feature_types(names, categories), rounds=37)
    assert booster.num_boosted_rounds() == 37 and best == 36
