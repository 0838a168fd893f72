"""Compute candidate values: the fast engine by default, featuretools as the reference.

Where the work runs is not decided here: a caller that scales out passes a
``MatrixBackend`` (``creditml.scale.backends`` builds one for a Dask cluster).
"""

from __future__ import annotations

import warnings
from typing import Protocol

import featuretools as ft
import pandas as pd

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")


class MatrixBackend(Protocol):
    """Computes the same matrix as :func:`compute_matrix`, elsewhere (e.g. partitioned on a cluster)."""

    def __call__(self, features: list, es: ft.EntitySet, cutoff_time: pd.DataFrame, engine: str) -> pd.DataFrame:
        ...


def compute_matrix(features: list, es: ft.EntitySet, cutoff_time: pd.DataFrame, engine: str = "fast", *,
                   backend: MatrixBackend | None = None) -> pd.DataFrame:
    """Feature values of each instance as of its cutoff (same frame from either engine and any backend)."""
    if backend is not None:
        return backend(features, es, cutoff_time, engine)
    if engine == "featuretools":
        return ft.calculate_feature_matrix(features, es, cutoff_time=cutoff_time, verbose=False)
    from creditml.features.engine import calculate_feature_matrix

    return calculate_feature_matrix(features, es, cutoff_time)
