"""Polars results to the pandas frame featuretools returns: same index, columns and dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
from featuretools.computational_backends.utils import get_ww_types_from_features
from woodwork.logical_types import Age, AgeNullable, Boolean, BooleanNullable, Double, Integer, IntegerNullable

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


def assemble(result: pl.DataFrame, features: list, metas: list[ColumnMeta], fed: list[bool], entityset,
             index: pd.Index) -> pd.DataFrame:
    """One pandas column per feature, typed the way ``init_ww_and_concat_fm`` types it.

    Integer, Boolean and Age become their nullable variants when a value is missing.
    Double, integer and boolean columns (nearly all of them) are built from numpy
    directly; any other logical type goes through woodwork's own ``transform``.
    When an instance is not visible at its cutoff featuretools concatenates object rows
    of defaults, and whether a categorical then keeps its declared categories depends
    on pandas' concat internals; the engine always keeps them (values are identical).
    """
    ltypes = _logical_types(features, entityset)
    out = {}
    for i, (f, meta, was_fed) in enumerate(zip(features, metas, fed)):
        name, column = f.get_name(), result[f"out{i}"]
        ltype = ltypes[name]
        kind = type(ltype)
        nulls = column.null_count() > 0
        if kind in _NULLABLE and nulls:
            kind = _NULLABLE[kind]
        if meta.categories is None and kind is Double:
            out[name] = column.cast(pl.Float64).to_numpy()
        elif meta.categories is None and kind is Integer:
            out[name] = column.cast(pl.Int64).to_numpy()
        elif meta.categories is None and kind is IntegerNullable:
            values = column.cast(pl.Float64).to_numpy()
            mask = np.isnan(values)
            out[name] = pd.arrays.IntegerArray(np.where(mask, 0, values).astype(np.int64), mask)
        elif meta.categories is None and kind is Boolean:
            out[name] = column.to_numpy().astype(bool)
        elif meta.categories is None and kind is BooleanNullable:
            mask = column.is_null().to_numpy()
            out[name] = pd.arrays.BooleanArray(column.fill_null(False).to_numpy().astype(bool), mask)
        else:
            series = to_pandas(column, meta, was_fed)
            if ltype is not None:
                series = (kind() if kind is not type(ltype) else ltype).transform(series)
            out[name] = series.array if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) else series.to_numpy()
    return pd.DataFrame(out, index=index, copy=False)


_LTYPES_CACHE: dict[tuple, dict] = {}


def _logical_types(features: list, entityset) -> dict:
    key = (id(entityset), tuple(f.unique_name() for f in features))
    if key not in _LTYPES_CACHE:
        if len(_LTYPES_CACHE) > 8:
            _LTYPES_CACHE.clear()
        ltypes = get_ww_types_from_features(features, entityset)["logical_types"]
        _LTYPES_CACHE[key] = {k: (v() if isinstance(v, type) else v) for k, v in ltypes.items()}
    return _LTYPES_CACHE[key]


def instance_index(ids: pd.Series, target_df: pd.DataFrame) -> pd.Index:
    index_col = target_df.ww.index
    dtype = target_df[index_col].dtype
    try:
        values = ids.astype(dtype)
    except (TypeError, ValueError):
        values = ids
    return pd.Index(np.asarray(values) if not isinstance(dtype, pd.api.extensions.ExtensionDtype) else values,
                    name=index_col)
