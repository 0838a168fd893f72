"""Compute candidate values: the fast engine by default, featuretools as the reference."""

from __future__ import annotations

import warnings

import featuretools as ft
import pandas as pd

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")


def compute_matrix(features: list, es: ft.EntitySet, cutoff_time: pd.DataFrame, engine: str = "fast") -> pd.DataFrame:
    """Feature values of each instance as of its cutoff (same frame from either engine)."""
    if engine == "featuretools":
        return ft.calculate_feature_matrix(features, es, cutoff_time=cutoff_time, verbose=False)
    from creditml.features.engine import calculate_feature_matrix

    return calculate_feature_matrix(features, es, cutoff_time)
