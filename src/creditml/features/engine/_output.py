"""Polars results to the pandas frame featuretools returns: same index, columns and dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
from featuretools.computational_backends.utils import get_ww_types_from_features
from woodwork.logical_types import (Age, AgeNullable, Boolean, BooleanNullable, Categorical, Double, Integer,
                                     IntegerNullable, Ordinal)

from creditml.features.engine._frames import numbers
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
    numbers, booleans, categories and ordinals are built from numpy directly; any other
    logical type goes through woodwork's own ``transform``. When an instance is not
    visible at its cutoff featuretools concatenates object rows of defaults, and whether
    a categorical then keeps its declared categories depends on pandas' concat
    internals; the engine always keeps them (values are identical).
    """

    def __init__(self, features: list, metas: list[ColumnMeta], entityset, rows: int):
        ltypes = _logical_types(features, entityset)
        self.names = [f.get_name() for f in features]
        self.metas = metas
        self.ltypes = [ltypes[name] for name in self.names]
        self.doubles = {i: np.empty(rows, dtype="float64") for i, (meta, ltype) in enumerate(zip(metas, self.ltypes))
                        if meta.categories is None and type(ltype) is Double}
        self.pieces: dict[int, list] = {i: [] for i in range(len(features)) if i not in self.doubles}

    def add(self, start: int, chunk: pl.DataFrame) -> None:
        """Take the outputs ``out{i}`` of a Polars chunk whose instances start at row ``start``."""
        for i, values in self.doubles.items():
            values[start:start + chunk.height] = chunk[f"out{i}"].cast(pl.Float64).to_numpy()
        for i, pieces in self.pieces.items():
            pieces.append(chunk[f"out{i}"])

    def add_arrays(self, start: int, columns: list[np.ndarray]) -> None:
        """Take numpy outputs (float64 with NaN for numbers, booleans and category codes)."""
        for i, values in self.doubles.items():
            values[start:start + len(columns[i])] = columns[i]
        for i, pieces in self.pieces.items():
            column = columns[i]
            pieces.append(column if column.dtype.kind in "fiub" else pl.Series(column))

    def frame(self, fed: list[bool], index: pd.Index) -> pd.DataFrame:
        out = {}
        for i, name in enumerate(self.names):
            if i in self.doubles:
                out[name] = self.doubles[i]
            else:
                out[name] = _typed(_joined(self.pieces[i]), self.metas[i], self.ltypes[i], fed[i])
        if len(index) <= 64:
            # a served request: consolidated blocks make what the caller does next (select,
            # reorder, predict) 3-5x cheaper, and _from_arrays skips checks done above
            return pd.DataFrame._from_arrays(list(out.values()), columns=pd.Index(self.names, dtype=object),
                                             index=index, verify_integrity=False)
        return pd.DataFrame(out, index=index, copy=False)  # many rows: no second copy


def _joined(pieces: list):
    """One column from its chunks (all numpy, or all Polars): numpy when numbers, else a Polars Series."""
    if isinstance(pieces[0], np.ndarray):
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
    column = pl.concat(pieces) if len(pieces) > 1 else pieces[0]
    values = numbers(column)
    return values if values is not None else column


def _typed(column, meta: ColumnMeta, ltype, fed: bool):
    if isinstance(column, pl.Series):
        return _typed_by_woodwork(column, meta, ltype, fed)
    nulls = np.isnan(column) if column.dtype.kind == "f" else np.zeros(len(column), dtype=bool)
    has_null = bool(nulls.any())
    kind = type(ltype)
    if kind in _NULLABLE and has_null:
        kind = _NULLABLE[kind]
    if meta.categories is not None:
        if kind is not Categorical or (meta.aggregated and not fed):
            return _typed_by_woodwork(pl.Series(column).fill_nan(None), meta, ltype, fed)
        codes = np.where(nulls, -1, column) if has_null else column
        return pd.Categorical.from_codes(codes.astype(np.int64), dtype=meta.categories)
    if kind is Integer:
        return column.astype(np.int64)
    if kind is IntegerNullable:
        return pd.arrays.IntegerArray(np.where(nulls, 0, column).astype(np.int64), nulls)
    if kind is Boolean:
        return column.astype(bool)
    if kind is BooleanNullable:
        return pd.arrays.BooleanArray(np.where(nulls, 0, column).astype(bool), nulls)
    if kind is Double:
        return column.astype(np.float64)
    if kind is Ordinal:  # Month, Weekday, ...: their Ordinal.transform costs 1 ms
        dtype, order, lookup = _ordinal(ltype)
        codes = order.get_indexer(column) if len(column) > 64 else \
            np.array([lookup.get(v, -1) for v in column.tolist()], dtype=np.int64)
        if not ((codes == -1) & ~nulls).any():
            return pd.Categorical.from_codes(codes, dtype=dtype)
    series = pl.Series(column)
    return _typed_by_woodwork(series.fill_nan(None) if series.dtype.is_float() else series, meta, ltype, fed)


def _typed_by_woodwork(column: pl.Series, meta: ColumnMeta, ltype, fed: bool):
    kind = type(ltype)
    if kind in _NULLABLE and column.null_count() > 0:
        kind = _NULLABLE[kind]
    series = to_pandas(column, meta, fed)
    if ltype is not None:
        series = (kind() if kind is not type(ltype) else ltype).transform(series)
    return series.array if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) else series.to_numpy()


_ORDINALS: dict[tuple, tuple[pd.CategoricalDtype, pd.Index, dict]] = {}


def _ordinal(ltype) -> tuple[pd.CategoricalDtype, pd.Index, dict]:
    """The dtype of an ordinal, and its codes by value (an index for many rows, a dict for a few)."""
    key = tuple(ltype.order)
    found = _ORDINALS.get(key)
    if found is None:
        found = _ORDINALS[key] = (pd.CategoricalDtype(ltype.order, ordered=True), pd.Index(ltype.order),
                                  {v: i for i, v in enumerate(ltype.order)})
    return found


_LTYPES_CACHE: dict[tuple, dict] = {}


def _logical_types(features: list, entityset) -> dict:
    # one lookup, then the local value: another request may clear the cache in between
    key = (id(entityset), tuple(f.unique_name() for f in features))
    found = _LTYPES_CACHE.get(key)
    if found is None:
        ltypes = get_ww_types_from_features(features, entityset)["logical_types"]
        found = {k: (v() if isinstance(v, type) else v) for k, v in ltypes.items()}
        if len(_LTYPES_CACHE) > 8:
            _LTYPES_CACHE.clear()
        _LTYPES_CACHE[key] = found
    return found


def instance_index(ids: pd.Series, target_df: pd.DataFrame) -> pd.Index:
    index_col = target_df.ww.index
    return index_like(ids, target_df[index_col].dtype, index_col)


def index_like(ids: pd.Series, dtype, index_col: str) -> pd.Index:
    """The output's instance index: ``ids`` in the target key's dtype (as they are when they do not fit it)."""
    try:
        values = ids.astype(dtype)
    except (TypeError, ValueError):
        values = ids
    return pd.Index(np.asarray(values) if not isinstance(dtype, pd.api.extensions.ExtensionDtype) else values,
                    name=index_col)
