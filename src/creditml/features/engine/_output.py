"""Polars results to the pandas frame featuretools returns: same index, columns and dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
from featuretools.computational_backends.utils import get_ww_types_from_features
from woodwork.logical_types import Age, AgeNullable, Boolean, BooleanNullable, Integer, IntegerNullable

from creditml.features.engine._meta import ColumnMeta

_NULLABLE = {Age: AgeNullable, Boolean: BooleanNullable, Integer: IntegerNullable}


def to_pandas(column: pl.Series, meta: ColumnMeta, fed: bool = True) -> pd.Series:
    if meta.categories is not None and meta.aggregated and not fed:
        # featuretools aggregates no rows at all into a float NaN column: no categories survive
        return pd.Series(pd.Categorical([np.nan] * len(column), categories=pd.Index([], dtype="float64")))
    if meta.categories is not None:
        codes = column.fill_null(-1).cast(pl.Int64).to_numpy()
        return pd.Series(pd.Categorical.from_codes(codes, dtype=meta.categories))
    if column.dtype == pl.Boolean and column.null_count():
        return pd.Series(column.to_numpy(), dtype=object)
    return column.to_pandas()


def typed(columns: dict[str, pd.Series], features: list, entityset, index: pd.Index,
          defaulted: bool) -> pd.DataFrame:
    """Apply each feature's woodwork logical type the way ``init_ww_and_concat_fm`` does.

    Integer, Boolean and Age become their nullable variants when a value is missing.
    ``defaulted``: some instance was not visible at its cutoff. featuretools then
    concatenates object-dtype rows of defaults, and whether a categorical column keeps
    its declared categories depends on pandas' concat of all-missing chunks; the engine
    always keeps the declared categories (values are identical either way).
    """
    ltypes = get_ww_types_from_features(features, entityset)["logical_types"]
    out = {}
    for name, series in columns.items():
        ltype = ltypes[name]
        if isinstance(ltype, type):
            ltype = ltype()
        if type(ltype) in _NULLABLE and series.isnull().any():
            ltype = _NULLABLE[type(ltype)]()
        series = series.reset_index(drop=True)
        out[name] = ltype.transform(series) if ltype is not None else series
    frame = pd.DataFrame(out, copy=False)
    frame.index = index
    return frame


def instance_index(ids: pd.Series, target_df: pd.DataFrame) -> pd.Index:
    index_col = target_df.ww.index
    dtype = target_df[index_col].dtype
    try:
        values = ids.astype(dtype)
    except (TypeError, ValueError):
        values = ids
    return pd.Index(np.asarray(values) if not isinstance(dtype, pd.api.extensions.ExtensionDtype) else values,
                    name=index_col)
