"""The engine for served requests: planned and compiled once per model, not once per request.

``calculate_feature_matrix`` plans a feature list against an entityset's tables, and a
served request's entityset is new on every call, so each request paid for woodwork
typing, the plan, the numpy program and the output types. :class:`ServedMatrix` takes
the request's tables as woodwork would type them (:class:`RequestFrame`, the same
``LogicalType.transform`` calls, relationship alignment and sort) and keeps the rest:

* the plan and the compiled numpy program depend on the tables only through their
  schema: column dtypes, nullability and the categories of categorical columns. The
  categories come from the request (woodwork sorts the values present), so each column
  gets a growing *universe*: the sorted union of every value seen. Coding a request
  against its universe keeps the order of the values present, which is all the plan
  uses (equality with interesting values, Mode's tie-break by category order, unique
  counts); a value not seen before grows the universe and compiles a new program.
* the request's data lives in the call (thread-local rows of the evaluator), so
  concurrent requests share programs and never data.

Anything off the tested path (a feature the engine does not compute, a categorical
column whose values are not all strings, many instances) returns ``None`` and the
caller takes the reference path; the equality with it is tested on random records.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl

from creditml.features.engine import _output
from creditml.features.engine import _api
from creditml.features.engine._api import _Prepared
from creditml.features.engine._frames import ROW, Table, _to_polars, category_codes
from creditml.features.engine._instance import InstanceEvaluator

MAX_PROGRAMS = 64  # compiled programs kept per model (one per distinct schema of request tables)


@dataclass
class RequestFrame:
    """One table of a request, typed and ordered as ``EntitySet.add_dataframe`` leaves it."""

    name: str
    index: str
    time_index: str | None
    secondary: dict[str, list[str]]
    frame: pd.DataFrame


def type_like_woodwork(name: str, frame: pd.DataFrame, types: dict, index: str, time_index: str | None,
                       secondary: dict[str, list[str]]) -> RequestFrame:
    """Each kept column through its logical type's ``transform`` (what ``ww.init`` does)."""
    columns = {}
    for col in frame.columns:
        ltype = types[col]
        columns[col] = (ltype() if isinstance(ltype, type) else ltype).transform(frame[col])
    return RequestFrame(name, index, time_index, secondary, pd.DataFrame(columns, index=frame.index))


def align_relationship(parent: RequestFrame, parent_types: dict, child: RequestFrame, child_types: dict,
                       child_column: str) -> None:
    """``EntitySet.add_relationship``: an empty object key becomes int64, then the child's
    key takes the parent key's logical type."""
    column = child.frame[child_column]
    parent_ltype = parent_types[parent.index]
    if len(child.frame) == 0 and column.dtype == object and pd.api.types.is_numeric_dtype(
            parent.frame[parent.index].dtype) and not pd.api.types.is_bool_dtype(parent.frame[parent.index].dtype):
        child.frame[child_column] = pd.Series(name=child_column, dtype=np.int64)
        child_types[child_column] = _logical_type_of_int64()
    child_ltype = child_types[child_column]
    parent_ltype = parent_ltype() if isinstance(parent_ltype, type) else parent_ltype
    child_ltype = child_ltype() if isinstance(child_ltype, type) else child_ltype
    if parent_ltype != child_ltype:
        child.frame[child_column] = parent_ltype.transform(child.frame[child_column])
        child_types[child_column] = parent_ltype


def _logical_type_of_int64():
    from woodwork.logical_types import Integer

    return Integer()


def sort_like_woodwork(table: RequestFrame) -> RequestFrame:
    """``ww.init``'s ``sort_values([time_index, index])``, skipped when the rows are in that order."""
    frame = table.frame
    if table.time_index is None or len(frame) <= 1:
        return table
    times, keys = frame[table.time_index].to_numpy(), frame[table.index].to_numpy()
    if times.dtype.kind == "M" and keys.dtype.kind in "iu":
        # numpy sorts NaT last, as pandas does; keys are unique, so the order is total
        order = np.lexsort((keys, times))
        if (order == np.arange(len(order))).all():
            return table
    table.frame = frame.sort_values([table.time_index, table.index])
    return table


class _UnsupportedRequest(Exception):
    """This request leaves the tested fast path; the caller takes the reference path."""


class _Universe:
    """Per categorical column, the sorted union of every value seen (grows, never shrinks)."""

    def __init__(self):
        self._dtypes: dict[tuple[str, str], pd.CategoricalDtype] = {}
        self._lock = threading.Lock()

    def dtype(self, table: str, col: str, categories: pd.Index) -> pd.CategoricalDtype:
        key = (table, col)
        current = self._dtypes.get(key)
        if current is not None and (len(categories) == 0 or current.categories.get_indexer(categories).min() >= 0):
            return current
        with self._lock:
            current = self._dtypes.get(key)
            known = [] if current is None else list(current.categories)
            values = sorted(set(known) | set(categories))
            grown = pd.CategoricalDtype(pd.Index(values, dtype=object))
            self._dtypes[key] = grown
            return grown


def _codes(series: pd.Series, universe: pd.CategoricalDtype) -> np.ndarray:
    own = series.cat.categories
    lookup = np.append(universe.categories.get_indexer(own) if len(own) else np.empty(0, dtype=np.intp), -1)
    return lookup[series.cat.codes.to_numpy()].astype(np.int64)


def _table(request: RequestFrame, universe: _Universe) -> tuple[Table, tuple]:
    """The engine's :class:`Table` of a request frame, and the part of it a plan depends on."""
    df = request.frame
    columns = [pl.Series(ROW, np.arange(len(df), dtype=np.int64))]
    categories, nullable, signature = {}, set(), []
    for col in df.columns:
        series = df[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            if not all(isinstance(v, str) for v in series.cat.categories):
                raise _UnsupportedRequest(f"{request.name}.{col}: categories that are not all strings")
            dtype = universe.dtype(request.name, col, series.cat.categories)
            columns.append(category_codes(col, _codes(series, dtype)))
            categories[col] = dtype
            signature.append((col, "category", id(dtype)))
            continue
        polars, _ = _to_polars(series)
        columns.append(polars)
        extension = isinstance(series.dtype, pd.api.extensions.ExtensionDtype)
        if extension:
            nullable.add(col)
        signature.append((col, str(polars.dtype), extension))
    frame = pl.DataFrame(columns)
    time_sorted = bool(request.time_index) and frame[request.time_index].drop_nulls().is_sorted()
    table = Table(name=request.name, index=request.index, time_index=request.time_index, frame=frame,
                  categories=categories, nullable_compare=nullable, secondary=dict(request.secondary),
                  time_sorted=time_sorted)
    return table, (request.name, tuple(signature), time_sorted)


class _RequestEvaluator(InstanceEvaluator):
    """The numpy evaluator compiled once; each call's tables and their indexes are thread-local."""

    def __init__(self, plan, tables):
        self._local = threading.local()
        super().__init__(plan, tables)

    tables = property(lambda self: self._local.tables, lambda self, value: setattr(self._local, "tables", value))
    _columns = property(lambda self: self._local.columns,
                        lambda self, value: setattr(self._local, "columns", value))
    _indexes = property(lambda self: self._local.indexes,
                        lambda self, value: setattr(self._local, "indexes", value))

    def run_on(self, tables, ids, cutoffs, outputs, fed) -> list[np.ndarray]:
        self.tables, self._columns, self._indexes = tables, {}, {}
        try:
            return self.run(ids, cutoffs, outputs, fed)
        finally:
            self.tables = self._columns = self._indexes = None


@dataclass
class _Program:
    prepared: _Prepared
    evaluator: _RequestEvaluator
    fed_columns: list[str]


class ServedMatrix:
    """``calculate_feature_matrix(features, entityset, cutoff_time)`` for a few instances of
    request tables, with the plan and program reused across requests (see the module doc)."""

    def __init__(self, features: list, target: str):
        self.features, self.target = list(features), target
        self._universe = _Universe()
        self._programs: dict[tuple, _Program] = {}
        self._lock = threading.Lock()
        self.needed: dict[str, set[str]] | None = None  # tables and columns the plan reads (after the first call)

    def __call__(self, frames: dict[str, RequestFrame], ids: pd.Series, times: pd.Series) -> pd.DataFrame | None:
        if len(ids) > _api.FEW_INSTANCES:
            return None
        try:
            tables, signature = {}, []
            for name, request in frames.items():
                tables[name], part = _table(request, self._universe)
                signature.append(part)
        except _UnsupportedRequest:
            return None
        program = self._program(tuple(signature), tables)
        if program is None:
            return None
        if self.needed is None:
            self.needed = {name: set(cols) for name, cols in program.prepared.plan.raw.items()}
        target = frames[self.target].frame
        index_col = frames[self.target].index
        key_dtype = target[index_col].dtype
        typed_ids = ids.astype(key_dtype, errors="ignore")
        cutoffs = times.to_numpy().astype("datetime64[ns]")
        features = program.prepared.supported
        fed: set[str] = set()
        # the definitions' own (data-less) entityset: output logical types depend on the features only
        matrix = _output.Assembler(features, program.prepared.metas, features[0].entityset, len(ids))
        matrix.add_arrays(0, program.evaluator.run_on(tables, typed_ids.to_numpy(), cutoffs, features, fed))
        return matrix.frame([c in fed for c in program.fed_columns], _output.index_like(ids, key_dtype, index_col))

    def _program(self, signature: tuple, tables: dict[str, Table]) -> _Program | None:
        program = self._programs.get(signature)
        if program is not None:
            return program
        prepared = _Prepared(self.features, tables, self.target)
        if prepared.unsupported:
            return None
        program = _Program(prepared, _RequestEvaluator(prepared.plan, tables), prepared.fed_columns)
        with self._lock:
            if len(self._programs) >= MAX_PROGRAMS:
                self._programs.clear()
            self._programs[signature] = program
        return program
