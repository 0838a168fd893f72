"""The model's view of a feature matrix, shared by training and serving.

XGBoost sees positional names (``f0``, ``f1``, ...) because featuretools names hold
characters it refuses; categories get the levels seen in training, in a fixed order,
so a value unseen in training is missing rather than a new code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def is_categorical(series: pd.Series) -> bool:
    return isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == object or pd.api.types.is_string_dtype(series)


def fit_categories(X: pd.DataFrame) -> dict[str, list[str]]:
    """Levels of each categorical column, as strings, sorted."""
    return {c: sorted(X[c].dropna().astype(str).unique().tolist()) for c in X.columns if is_categorical(X[c])}


def model_frame(X: pd.DataFrame, features: list[str], categories: dict[str, list[str]]) -> pd.DataFrame:
    """Columns in training order, numeric as float64, categoricals with the training levels."""
    missing = [f for f in features if f not in X.columns]
    if missing:
        raise KeyError(f"feature matrix lacks {len(missing)} model feature(s), e.g. {missing[:3]}")
    cols = {}
    for i, name in enumerate(features):
        s = X[name]
        if name in categories:
            values = s.astype(object).where(s.notna(), None)
            values = values.map(lambda v: None if v is None else str(v))
            cols[f"f{i}"] = pd.Categorical(values, categories=categories[name])
        elif pd.api.types.is_bool_dtype(s) or str(s.dtype) == "boolean":
            cols[f"f{i}"] = s.astype("float64")
        else:
            cols[f"f{i}"] = pd.to_numeric(s, errors="coerce").astype("float64")
    return pd.DataFrame(cols, index=X.index)


def positional_names(features: list[str]) -> list[str]:
    return [f"f{i}" for i in range(len(features))]


def feature_types(features: list[str], categories: dict[str, list[str]]) -> list[str]:
    return ["c" if f in categories else "q" for f in features]


def margin_to_probability(margin: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-margin))
