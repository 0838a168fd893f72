"""Compute candidate values: the fast engine by default, featuretools as the reference."""

from __future__ import annotations

import warnings

import featuretools as ft
import pandas as pd

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")


def compute_matrix(features: list, es: ft.EntitySet, cutoff_time: pd.DataFrame, engine: str = "fast", *,
                   dask_scheduler: str | None = None, dask_partitions: int | None = None,
                   dataset_yaml=None, ignore=None) -> pd.DataFrame:
    """Feature values of each instance as of its cutoff (same frame from either engine).

    With ``dask_scheduler`` the instances are partitioned and computed on that cluster.
    """
    if dask_scheduler is not None:
        from creditml.scale.dask_features import compute_matrix_dask

        return compute_matrix_dask(features, es, cutoff_time, dask_scheduler, dask_partitions, engine=engine,
                                   dataset_yaml=dataset_yaml, ignore=ignore)
    if engine == "featuretools":
        return ft.calculate_feature_matrix(features, es, cutoff_time=cutoff_time, verbose=False)
    from creditml.features.engine import calculate_feature_matrix

    return calculate_feature_matrix(features, es, cutoff_time)
