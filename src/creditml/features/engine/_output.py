"""Polars results to the pandas frame featuretools returns: same index, columns and dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
from featuretools.computational_backends.utils import get_ww_types_from_features
from woodwork.logical_types import (Age, AgeNullable, Boolean, BooleanNullable, Double, Integer, IntegerNullable,
                                     Ordinal)

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


class Assembler:
    """One pandas column per feature, typed the way ``init_ww_and_concat_fm`` types it, filled chunk by chunk.

    Double columns (nearly all of them) are preallocated float64 arrays that each chunk
    is written into, so the matrix is held once; the other columns are few and keep
    their chunks until :meth:`frame`, because whether they are nullable depends on all rows.
    Integer, Boolean and Age become their nullable variants when a value is missing;
    integer and boolean columns are built from numpy directly; any other logical type
    goes through woodwork's own ``transform``. When an instance is not visible at its
    cutoff featuretools concatenates object rows of defaults, and whether a categorical
    then keeps its declared categories depends on pandas' concat internals; the engine
    always keeps them (values are identical).
    """

    def __init__(self, features: list, metas: list[ColumnMeta], entityset, rows: int):
        ltypes = _logical_types(features, entityset)
        self.names = [f.get_name() for f in features]
        self.metas = metas
        self.ltypes = [ltypes[name] for name in self.names]
        self.doubles = {i: np.empty(rows, dtype="float64") for i, (meta, ltype) in enumerate(zip(metas, self.ltypes))
                        if meta.categories is None and type(ltype) is Double}
        self.pieces: dict[int, list[pl.Series]] = {i: [] for i in range(len(features)) if i not in self.doubles}

    def add(self, start: int, chunk: pl.DataFrame) -> None:
        """Take the outputs ``out{i}`` of the chunk's instances, which start at row ``start``."""
        for i, values in self.doubles.items():
            values[start:start + chunk.height] = chunk[f"out{i}"].cast(pl.Float64).to_numpy()
        for i, pieces in self.pieces.items():
            pieces.append(chunk[f"out{i}"])

    def frame(self, fed: list[bool], index: pd.Index) -> pd.DataFrame:
        out = {}
        for i, name in enumerate(self.names):
            if i in self.doubles:
                out[name] = self.doubles[i]
            else:
                pieces = self.pieces[i]
                column = pl.concat(pieces) if len(pieces) > 1 else pieces[0]
                out[name] = _typed(column, self.metas[i], self.ltypes[i], fed[i])
        return pd.DataFrame(out, index=index, copy=False)


def _typed(column: pl.Series, meta: ColumnMeta, ltype, fed: bool):
    kind = type(ltype)
    if kind in _NULLABLE and column.null_count() > 0:
        kind = _NULLABLE[kind]
    if meta.categories is None and kind is Integer:
        return column.cast(pl.Int64).to_numpy()
    if meta.categories is None and kind is IntegerNullable:
        values = column.cast(pl.Float64).to_numpy()
        mask = np.isnan(values)
        return pd.arrays.IntegerArray(np.where(mask, 0, values).astype(np.int64), mask)
    if meta.categories is None and kind is Boolean:
        return column.to_numpy().astype(bool)
    if meta.categories is None and kind is BooleanNullable:
        mask = column.is_null().to_numpy()
        return pd.arrays.BooleanArray(column.fill_null(False).to_numpy().astype(bool), mask)
    if meta.categories is None and kind is Ordinal:  # Month, Weekday, ...: their Ordinal.transform costs 1 ms
        values = column.to_pandas()
        ordinal = pd.Categorical(values, categories=ltype.order, ordered=True)
        if not ((ordinal.codes == -1) & values.notna().to_numpy()).any():
            return ordinal
    series = to_pandas(column, meta, fed)
    if ltype is not None:
        series = (kind() if kind is not type(ltype) else ltype).transform(series)
    return series.array if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) else series.to_numpy()


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
