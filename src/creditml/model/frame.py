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
    if isinstance(s.dtype, (pd.Int64Dtype, pd.Float64Dtype)):  # a nullable count: pd.NA is missing
        return s.to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()


_LOOKUPS: dict[tuple[int, int], tuple] = {}


def _level_lookup(dtype: pd.CategoricalDtype, levels: list[str]) -> np.ndarray:
    """Training-level position of each of the dtype's categories (as strings), -1 appended for
    missing; kept per (dtype, levels) object, which a served model reuses on every request."""
    key = (id(dtype), id(levels))
    found = _LOOKUPS.get(key)
    if found is not None and found[0] is dtype and found[1] is levels:
        return found[2]
    own = np.array([str(c) for c in dtype.categories], dtype=object)
    lookup = np.append(pd.Index(levels).get_indexer(own) if len(own) else np.empty(0, dtype=np.intp), -1)
    if len(_LOOKUPS) > 4096:
        _LOOKUPS.clear()
    _LOOKUPS[key] = (dtype, levels, lookup)
    return lookup


def _category_codes(s: pd.Series, levels: list[str]) -> np.ndarray:
    """Positions of the values (as strings) among the training levels; -1 when missing or unseen."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        # map each of the column's own categories once, then its codes through that map
        return _level_lookup(s.dtype, levels)[s.cat.codes.to_numpy()]
    values = s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v))
    return pd.Categorical(values, categories=levels).codes


def model_matrix(X: pd.DataFrame, features: list[str], categories: dict[str, list[str]]) -> np.ndarray:
    """:func:`model_frame` as one float block: categoricals as their training-level codes, NaN if missing."""
    positions = X.columns.get_indexer(features)
    if (positions < 0).any():
        missing = [f for f, i in zip(features, positions) if i < 0]
        raise KeyError(f"feature matrix lacks {len(missing)} model feature(s), e.g. {missing[:3]}")
    out = np.empty((len(X), len(features)), dtype="float64", order="F")
    dtypes = list(X.dtypes)
    plain = [i for i, (name, j) in enumerate(zip(features, positions))
             if name not in categories and isinstance(dtypes[j], np.dtype) and dtypes[j].kind in "iufb"]
    if plain:  # numpy-typed numeric columns (nearly all of them) in one conversion, by position
        out[:, plain] = X.iloc[:, positions[plain]].to_numpy(dtype="float64")
    done = set(plain)
    for i, name in enumerate(features):
        if i in done:
            continue
        s = X.iloc[:, positions[i]]
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
