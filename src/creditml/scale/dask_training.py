"""The final XGBoost fit on a Dask cluster (``training.backend: dask``).

Same inputs and result as the local final fit in ``creditml.modeling.train``: the model
frame (positional columns, training categories), the tuned parameters, early stopping
on the validation split (or a given round count); returns the Booster and its best iteration. The rows are
partitioned into Dask dataframes and the workers build a ``DaskQuantileDMatrix`` each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditml.config import TuningSettings
from creditml.scale._cluster import connect


def _partitioned(frame: pd.DataFrame, labels: np.ndarray, partitions: int):
    import dask.dataframe as dd

    n = max(1, min(partitions, len(frame)))
    X = dd.from_pandas(frame.reset_index(drop=True), npartitions=n, sort=False)
    y = dd.from_pandas(pd.Series(np.asarray(labels, dtype="float32"), name="label"), npartitions=n, sort=False)
    return X, y


def fit_final_dask(frame: pd.DataFrame, labels: pd.Series | np.ndarray, split: pd.Series | np.ndarray,
                   params: dict, settings: TuningSettings, scheduler_address: str, *,
                   feature_names: list[str] | None = None, feature_types: list[str] | None = None,
                   partitions: int | None = None, rounds: int | None = None):
    """Fit on the ``train`` rows with early stopping on ``validation``; return ``(booster, best_iteration)``.

    ``rounds`` fits exactly that many rounds instead, without early stopping
    (``tuning.cv_folds``: see :func:`creditml.modeling.train.final_rounds`).

    ``frame`` is ``modeling.frame.model_frame`` output for all instances, ``split`` their
    split names (aligned by position), ``params`` the fixed plus tuned parameters.
    """
    import xgboost as xgb
    from xgboost import dask as dxgb

    split = np.asarray(split)
    labels = np.asarray(labels)
    params = {k: v for k, v in params.items() if k != "nthread"}  # each worker uses its own threads
    # xgboost.dask looks the client up as the current one even when it is passed in
    with connect(scheduler_address) as client, client.as_current():
        n = partitions or 2 * max(len(client.nthreads()), 1)
        train, valid = split == "train", split == "validation"
        X_train, y_train = _partitioned(frame.loc[train], labels[train], n)
        X_valid, y_valid = _partitioned(frame.loc[valid], labels[valid], n)
        kwargs = {"enable_categorical": True, "feature_names": feature_names, "feature_types": feature_types}
        dtrain = dxgb.DaskQuantileDMatrix(client, X_train, y_train, **kwargs)
        if rounds:
            output = dxgb.train(client, params, dtrain, num_boost_round=rounds)
        else:
            dvalid = dxgb.DaskQuantileDMatrix(client, X_valid, y_valid, ref=dtrain, **kwargs)
            output = dxgb.train(client, params, dtrain, num_boost_round=settings.max_boost_rounds,
                                evals=[(dvalid, "validation")], early_stopping_rounds=settings.early_stopping_rounds,
                                verbose_eval=False)
    booster: xgb.Booster = output["booster"]
    return booster, (rounds - 1 if rounds else int(booster.best_iteration))
