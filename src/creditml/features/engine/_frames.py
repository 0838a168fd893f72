"""EntitySet dataframes as Polars frames, and what each instance may see of them.

Categorical columns travel as their integer codes (null for missing) so that Mode's
tie-break (pandas sorts ties by category order) and equality against interesting
values are plain integer operations; the categories are kept to decode outputs.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import polars as pl

ROW = "__row"  # position in the entityset dataframe: featuretools' "frame order"
Q = "__q"  # instance number within a chunk
CUTOFF = "__cutoff"


@dataclass
class Table:
    name: str
    index: str
    time_index: str | None
    frame: pl.DataFrame
    categories: dict[str, pd.CategoricalDtype] = field(default_factory=dict)
    nullable_compare: set[str] = field(default_factory=set)  # pandas extension dtypes: x == v gives NA
    secondary: dict[str, list[str]] = field(default_factory=dict)
    time_sorted: bool = False  # woodwork sorts by time index unless told already_sorted


def _to_polars(series: pd.Series) -> tuple[pl.Series, pd.CategoricalDtype | None]:
    # nan_to_null at construction, not .fill_nan/.replace: those run a Polars query (~1 ms each)
    name = str(series.name)
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return category_codes(name, series.cat.codes.to_numpy()), dtype
    if dtype == "bool":
        return pl.Series(name, series.to_numpy()), None
    if str(dtype) == "boolean":
        return pl.Series(name, series.to_numpy(dtype="float64", na_value=np.nan), nan_to_null=True).cast(pl.Boolean), None
    if str(dtype) in ("Int64", "Int32", "Int16", "Int8"):
        return pl.Series(name, series.to_numpy(dtype="float64", na_value=np.nan), nan_to_null=True).cast(pl.Int64), None
    if pd.api.types.is_integer_dtype(dtype):
        return pl.Series(name, series.to_numpy().astype(np.int64)), None
    if pd.api.types.is_float_dtype(dtype):
        return pl.Series(name, series.to_numpy(dtype="float64"), nan_to_null=True), None
    if pd.api.types.is_datetime64_dtype(dtype):
        return pl.Series(name, series.to_numpy().astype("datetime64[ns]")), None
    return pl.from_pandas(series.reset_index(drop=True)).alias(name), None


def category_codes(name: str, codes: np.ndarray) -> pl.Series:
    """Category codes as Int32, null where pandas says -1 (missing)."""
    return pl.Series(name, np.where(codes < 0, np.nan, codes), nan_to_null=True).cast(pl.Int32)


def numbers(series: pl.Series) -> np.ndarray | None:
    """Numbers, booleans and category codes as numpy: int64 for integers without missing
    values (exact), else float64 with NaN for missing; None for any other dtype."""
    dtype = series.dtype
    if dtype.is_integer() and series.null_count() == 0:
        return series.to_numpy().astype(np.int64)
    if dtype.is_numeric() or dtype == pl.Boolean:
        return series.cast(pl.Float64).to_numpy()
    return None


def _table(df: pd.DataFrame) -> Table:
    schema = df.ww.schema
    columns, categories, nullable = [pl.Series(ROW, np.arange(len(df), dtype=np.int64))], {}, set()
    for col in df.columns:
        series, cats = _to_polars(df[col])
        columns.append(series)
        if cats is not None:
            categories[col] = cats
        if isinstance(df[col].dtype, pd.api.extensions.ExtensionDtype) and not isinstance(
            df[col].dtype, pd.CategoricalDtype
        ):
            nullable.add(col)
    frame = pl.DataFrame(columns)
    time_sorted = bool(schema.time_index) and frame[schema.time_index].drop_nulls().is_sorted()
    return Table(
        name=schema.name,
        index=schema.index,
        time_index=schema.time_index,
        frame=frame,
        time_sorted=time_sorted,
        categories=categories,
        nullable_compare=nullable,
        secondary=dict(schema.metadata.get("secondary_time_index") or {}),
    )


class Tables(Mapping):
    """The entityset's dataframes as :class:`Table`, each converted when first read.

    A plan reads only the tables on its paths; a served request's entityset is new on
    every call, so converting the others would be wasted work.
    """

    def __init__(self, es):
        self._frames = {df.ww.name: df for df in es.dataframes}
        self._tables: dict[str, Table] = {}

    def __getitem__(self, name: str) -> Table:
        table = self._tables.get(name)
        if table is None:
            table = self._tables[name] = _table(self._frames[name])
        return table

    def __iter__(self):
        return iter(self._frames)

    def __len__(self) -> int:
        return len(self._frames)


_CACHE: dict[int, tuple[weakref.ref, tuple[int, ...], Tables]] = {}
_CACHE_LOCK = threading.Lock()  # served requests read and prune the cache from many threads at once


def tables(es) -> Tables:
    """Polars copies of the dataframes of ``es``, converted once per dataframe object."""
    key = tuple(id(df) for df in es.dataframes)
    with _CACHE_LOCK:
        cached = _CACHE.get(id(es))
        if cached is not None and cached[0]() is es and cached[1] == key:
            return cached[2]
        out = Tables(es)
        for stale in [k for k, v in _CACHE.items() if v[0]() is None]:
            del _CACHE[stale]
        _CACHE[id(es)] = (weakref.ref(es), key, out)
        return out


def visible(frame: pl.DataFrame, table: Table) -> pl.DataFrame:
    """Rows known at each row's ``CUTOFF``, with late-known columns masked.

    Mirrors ``EntitySet._handle_time``: ``time_index <= cutoff`` (a missing time index
    is never visible), then columns guarded by a secondary time index become missing
    where ``secondary >= cutoff`` (note: ``>=``, so a value stamped at the cutoff is
    masked although its row is visible).
    """
    if table.time_index is not None:
        frame = frame.filter(pl.col(table.time_index) <= pl.col(CUTOFF))
    masks = []
    for when, cols in table.secondary.items():
        hidden = (pl.col(when) >= pl.col(CUTOFF)).fill_null(False)
        masks += [pl.when(hidden).then(None).otherwise(pl.col(c)).alias(c) for c in cols if c in frame.columns]
    return frame.with_columns(masks) if masks else frame
