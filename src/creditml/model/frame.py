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


def _float_column(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(s) or str(s.dtype) == "boolean":
        return s.to_numpy(dtype="float64", na_value=np.nan)
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf":
        return s.to_numpy(dtype="float64")
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()


def _category_codes(s: pd.Series, levels: list[str]) -> np.ndarray:
    """Positions of the values (as strings) among the training levels; -1 when missing or unseen."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        # map each of the column's own categories once, then its codes through that map
        own = np.array([str(c) for c in s.dtype.categories], dtype=object)
        lookup = np.append(pd.Index(levels).get_indexer(own) if len(own) else np.empty(0, dtype=np.intp), -1)
        return lookup[s.cat.codes.to_numpy()]
    values = s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v))
    return pd.Categorical(values, categories=levels).codes


def model_matrix(X: pd.DataFrame, features: list[str], categories: dict[str, list[str]]) -> np.ndarray:
    """:func:`model_frame` as one float block: categoricals as their training-level codes, NaN if missing."""
    missing = [f for f in features if f not in X.columns]
    if missing:
        raise KeyError(f"feature matrix lacks {len(missing)} model feature(s), e.g. {missing[:3]}")
    out = np.empty((len(X), len(features)), dtype="float64", order="F")
    dtypes = X.dtypes
    plain = [i for i, name in enumerate(features)
             if name not in categories and isinstance(dtypes[name], np.dtype) and dtypes[name].kind in "iufb"]
    if plain:  # numpy-typed numeric columns (nearly all of them) in one conversion
        out[:, plain] = X[[features[i] for i in plain]].to_numpy(dtype="float64")
    done = set(plain)
    for i, name in enumerate(features):
        if i in done:
            continue
        s = X[name]
        if name in categories:
            codes = _category_codes(s, categories[name])
            out[:, i] = np.where(codes < 0, np.nan, codes)
        else:
            out[:, i] = _float_column(s)
    return out


def model_frame(X: pd.DataFrame, features: list[str], categories: dict[str, list[str]]) -> pd.DataFrame:
    """Columns in training order, numeric as float64, categoricals with the training levels."""
    block = model_matrix(X, features, categories)
    cols = {}
    for i, name in enumerate(features):
        if name in categories:
            codes = np.where(np.isnan(block[:, i]), -1, block[:, i]).astype(np.int64)
            cols[f"f{i}"] = pd.Categorical.from_codes(codes, categories=categories[name])
        else:
            cols[f"f{i}"] = block[:, i]
    return pd.DataFrame(cols, index=X.index)


def positional_names(features: list[str]) -> list[str]:
    return [f"f{i}" for i in range(len(features))]


def feature_types(features: list[str], categories: dict[str, list[str]]) -> list[str]:
    return ["c" if f in categories else "q" for f in features]
