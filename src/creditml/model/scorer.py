"""The compiled scorer of a served model: raw JSON records to scores over plain arrays.

What ``ModelBundle.score`` runs for a request of a few records (the REST server, the
MLflow pyfunc, small batches). The general path builds pandas tables from the records
(``records.tables_from_records``), types them the way woodwork does, converts them to
the engine's columns, assembles a pandas feature frame and converts that to the model's
matrix: about 40 ms of Python per request spent on work whose result is a few hundred
numbers. Here, per request:

1. each declared column the model's plan reads goes from the records straight into the
   numpy column the engine's evaluator reads (:class:`RecordTyper`, the rules of
   ``tables_from_records`` + woodwork + ``ServedMatrix`` for the value types a validated
   record holds: integer keys, numbers, booleans, ISO times, strings);
2. the model's numpy instance program, compiled once per table schema
   (``features.engine.ArrayMatrix``), computes the DFS features; graph features (fraud)
   come from the link and target rows coded as arrays (``model.graph_records``);
3. the feature vector goes straight into a float32 matrix in the model's column order,
   converted per feature exactly as ``model.frame.model_matrix`` converts the frame
   column the general path would have built; XGBoost predicts on one thread, and reason
   codes read TreeSHAP contributions and the top features' values only.

Anything it does not cover (an offset or anchored time column, an unpivoted table, a value
of another type than the contract's, a missing nullable foreign key whose parent is read,
more than 16 records, a feature the engine does not compute) returns
``None`` and ``ModelBundle.score`` takes the general path. ``tests/model/test_scorer.py``
requires identical feature values, probabilities and reason codes on random records of all
three tasks.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import polars as pl
from woodwork.logical_types import Boolean, BooleanNullable, Categorical, Double, Integer, IntegerNullable

from creditml.config import DatasetConfig
from creditml.features.engine import ArrayMatrix, ArrayTable
from creditml.features.engine import _output
from creditml.features.entityset import declared_columns, excluded_columns
from creditml.model._values import (Unsupported, declared_kind, first_rows, int_key, number, str_key,
                                    text as _text, times)
from creditml.model.graph_records import GraphCoder
from creditml.model.records import rows_by_table
from creditml.model.frame import _category_codes, _float_column, _level_lookup

class _Universe:
    """Per categorical column, the sorted union of every value seen, and each value's code."""

    def __init__(self):
        self._columns: dict[tuple[str, str], tuple[pd.CategoricalDtype, dict[str, int]]] = {}
        self._lock = threading.Lock()

    def codes(self, key: tuple[str, str], values: list) -> tuple[np.ndarray, pd.CategoricalDtype]:
        found = self._columns.get(key)
        if found is None or any(v is not None and v not in found[1] for v in values):
            with self._lock:
                known = [] if key not in self._columns else list(self._columns[key][0].categories)
                grown = sorted(set(known) | {v for v in values if v is not None})
                dtype = pd.CategoricalDtype(pd.Index(grown, dtype=object))
                found = self._columns[key] = (dtype, {v: i for i, v in enumerate(grown)})
        dtype, lookup = found
        codes = [-1 if v is None else lookup[v] for v in values]
        return np.array(codes, dtype=np.int64), dtype


class RecordTyper:
    """Records to :class:`ArrayTable` s, by the dataset's declared column types (see the module doc)."""

    def __init__(self, cfg: DatasetConfig, target: str, key_kinds: dict[str, dict[str, str]], ignore: dict):
        self.cfg, self.target = cfg, target
        self.universe = _Universe()
        drop = excluded_columns(cfg, ignore)
        self._columns: dict[str, list[tuple[str, str]]] = {}  # table -> [(column, kind)]
        self._secondary: dict[str, dict[str, list[str]]] = {}
        self._unsupported: dict[str, str] = {}
        for name, spec in cfg.tables.items():
            columns = list(spec.columns) + [fk.column for fk in spec.foreign_keys if fk.through is not None]
            kept, _, _, sti = declared_columns(spec, pd.DataFrame(columns=columns), drop[name])
            self._secondary[name] = {when: cols if when in cols else [*cols, when] for when, cols in sti.items()}
            kinds = key_kinds.get(name, {})
            typed = []
            for col in kept:
                kind = declared_kind(spec, col, kinds.get(col))
                if kind is None:
                    self._unsupported[name] = f"column {name}.{col}"
                typed.append((col, kind))
            if spec.unpivot is not None:
                self._unsupported[name] = f"unpivoted table {name}"
            self._columns[name] = typed

    def tables(self, records: list[dict], needed: dict[str, set[str]] | None) -> dict[str, ArrayTable]:
        rows = rows_by_table(records, self.target)
        out = {}
        for name, spec in self.cfg.tables.items():
            if needed is not None and name not in needed:
                continue
            if name in self._unsupported:
                raise Unsupported(self._unsupported[name])
            out[name] = self._table(name, spec, rows.get(name, []), None if needed is None else needed[name])
        for name, spec in self.cfg.tables.items():  # EntitySet.add_relationship: the parent key's type
            for fk in spec.foreign_keys:
                child = out.get(name)
                if child is None or fk.references not in out or child.kinds.get(fk.column) != "Int64":
                    continue
                if np.isnan(child.columns[fk.column]).any():
                    raise Unsupported(f"missing {name}.{fk.column} with its parent table read")
        return out

    def _table(self, name: str, spec, rows: list[dict], needed: set[str] | None) -> ArrayTable:
        pk = spec.primary_key
        if len(rows) > 1:  # duplicates by key: the first row stays
            rows = first_rows(rows, [row.get(pk) for row in rows])
        columns, kinds, categories = {}, {}, {}
        for col, kind in self._columns[name]:
            if needed is not None and col not in needed:
                continue
            values = [row.get(col) for row in rows]
            if kind == "key":
                values = [int_key(v) for v in values]
                if any(v is None for v in values):
                    columns[col] = np.array([np.nan if v is None else v for v in values], dtype="float64")
                    kinds[col] = "Int64"
                else:
                    columns[col] = np.array(values, dtype=np.int64)
                    kinds[col] = "int"
            elif kind == "str_key":
                columns[col] = np.array([str_key(v) for v in values], dtype=object)
                kinds[col] = "str"
            elif kind == "float":
                columns[col] = np.array([np.nan if v is None else v for v in map(number, values)], dtype="float64")
                kinds[col] = "float"
            elif kind == "bool":
                if any(type(v) is not bool for v in values if v is not None):
                    raise Unsupported(f"{name}.{col}: a boolean of another type")
                columns[col] = np.array([np.nan if v is None else float(v) for v in values], dtype="float64")
                kinds[col] = "bool"
            elif kind == "datetime":
                columns[col] = times(values)
                kinds[col] = "datetime"
            else:
                codes, dtype = self.universe.codes((name, col), [_text(v) for v in values])
                missing = codes < 0
                columns[col] = np.where(missing, np.nan, codes) if missing.any() else codes
                kinds[col], categories[col] = "category", dtype
        if kinds.get(pk) not in ("int", "str") or (kinds[pk] == "str" and any(v is None for v in columns[pk])):
            raise Unsupported(f"{name}.{pk}: a missing primary key")
        table = ArrayTable(name, pk, spec.time_index, self._secondary[name], columns, kinds, categories)
        if spec.time_index and len(rows) > 1 and spec.time_index in columns and pk in columns:
            keys = columns[pk] if kinds[pk] == "int" else np.unique(columns[pk], return_inverse=True)[1]
            order = np.lexsort((keys, columns[spec.time_index]))  # woodwork: by [time index, key]; NaT last
            if not (order == np.arange(len(order))).all():
                table.columns = {c: v[order] for c, v in columns.items()}
        elif spec.time_index and len(rows) > 1:
            raise Unsupported(f"{name}: the sort columns are not read")
        return table


_DIRECT = {Double: "double", Integer: "int", IntegerNullable: "int", Boolean: "bool", BooleanNullable: "bool"}


class FeatureColumns:
    """Engine outputs to model-matrix columns and reason-code values, per model feature.

    A number typed Double, Integer or Boolean is converted in place (what ``_output._typed``
    then ``model_matrix`` do to it); any other feature (categories, ordinals) goes through
    those two functions themselves, one column at a time.
    """

    def __init__(self, prepared, entityset, features: list[str], categories: dict[str, list[str]]):
        supported = prepared.supported
        ltypes = _output._logical_types(supported, entityset)
        position = {f.get_name(): i for i, f in enumerate(supported)}
        self.features, self.categories = features, categories
        self.sources: list[int | None] = [position.get(name) for name in features]  # None: a graph feature
        self.metas = prepared.metas
        self.ltypes = [ltypes[f.get_name()] for f in supported]
        self.fed_columns = prepared.fed_columns
        self.rule = []
        # graph features are float64 columns: copied into the block in one step
        self.graph_at = [i for i, (name, source) in enumerate(zip(features, self.sources))
                         if source is None and name not in categories]
        self.graph_names = [features[i] for i in self.graph_at]
        for name, source in zip(features, self.sources):
            if source is None:
                self.rule.append(None)
                continue
            meta, ltype = self.metas[source], self.ltypes[source]
            plain = meta.categories is None and meta.kind in ("int", "float", "bool") and name not in categories
            direct = _DIRECT.get(type(ltype)) if plain else None
            if meta.categories is not None and type(ltype) is Categorical and name in categories:
                direct = "category"  # codes of meta.categories, when they come as numbers (see fill)
            self.rule.append(direct or "typed")

    def typed(self, outputs: list[np.ndarray], fed: set[str], source: int):
        """The frame column the general path builds for output ``source`` (``Assembler.frame``)."""
        column = outputs[source]
        piece = column if column.dtype.kind in "fiub" else pl.Series(column)
        fed_here = self.fed_columns[source] in fed
        return _output._typed(_output._joined([piece]), self.metas[source], self.ltypes[source], fed_here)

    def fill(self, block: np.ndarray, outputs: list[np.ndarray], fed: set[str],
             graph: dict[str, np.ndarray] | None) -> None:
        if self.graph_at:
            block[:, self.graph_at] = np.column_stack([graph[name] for name in self.graph_names])
        for i, (name, source, rule) in enumerate(zip(self.features, self.sources, self.rule)):
            if source is None:
                if name in self.categories:
                    block[:, i] = _model_column(pd.Series(graph[name]), self.categories[name])
                continue
            values = outputs[source]
            if rule == "double":
                block[:, i] = values
            elif rule == "int":  # astype(int64) of a whole number; missing stays missing
                block[:, i] = np.trunc(values)
            elif rule == "bool":
                block[:, i] = np.where(np.isnan(values), np.nan, values != 0)
            elif (rule == "category" and values.dtype.kind in "fiu"
                  and (not self.metas[source].aggregated or self.fed_columns[source] in fed)):
                # _typed makes Categorical.from_codes(codes, meta.categories) of these, model_matrix
                # maps each category to its training level: the same two steps on the codes
                codes = np.where(np.isnan(values), -1, values).astype(np.int64) if values.dtype.kind == "f" \
                    else values.astype(np.int64)
                levels = _level_lookup(self.metas[source].categories, self.categories[name])[codes]
                block[:, i] = np.where(levels < 0, np.nan, levels)
            else:
                block[:, i] = _model_column(pd.Series(self.typed(outputs, fed, source)), self.categories.get(name))

    def value(self, outputs: list[np.ndarray], fed: set[str], graph: dict[str, np.ndarray] | None, row: int,
              name: str):
        """``frame.iat[row, name]`` of the general path's feature frame."""
        source = self.sources[self.features.index(name)]
        if source is None:
            return graph[name][row]
        return pd.Series(self.typed(outputs, fed, source)).iat[row]


def _model_column(series: pd.Series, levels: list[str] | None) -> np.ndarray:
    if levels is not None:
        codes = _category_codes(series, levels)
        return np.where(codes < 0, np.nan, codes)
    return _float_column(series)


class _Values:
    """``values.get(name)`` of one row, for reason codes (only the top features are read)."""

    def __init__(self, columns: FeatureColumns, outputs, fed, graph, row: int):
        self.columns, self.outputs, self.fed, self.graph, self.row = columns, outputs, fed, graph, row

    def get(self, name: str):
        return self.columns.value(self.outputs, self.fed, self.graph, self.row, name)


class CompiledScorer:
    """A bundle's feature vectors of a few records over plain arrays (see the module doc)."""

    def __init__(self, bundle):
        self.bundle = bundle
        self.target = bundle.task.target
        self.typer = RecordTyper(bundle.dataset, self.target, bundle.key_kinds,
                                 bundle.features_settings.ignore_columns)
        usable = bundle.engine == "fast" and bundle.definitions
        self.matrix = ArrayMatrix(bundle.definitions, self.target) if usable else None
        self.needed: dict[str, set[str]] | None = None
        self._columns: dict[int, FeatureColumns] = {}
        self._graph_coder: GraphCoder | None = None
        self._lock = threading.Lock()

    def feature_block(self, records: list[dict]):
        """``(ids, float64 model matrix, values(row))`` of the records, or None off the compiled path."""
        if self.matrix is None or not records:
            return None
        bundle = self.bundle
        pk = bundle.index_name
        try:
            ids = [r["instance"][pk] for r in records]
            if any(type(i) is not int for i in ids):
                return None
            cutoffs = times(bundle.cutoff_values(records))
            tables = self.typer.tables(records, self.needed)
        except Unsupported:
            return None
        ran = self.matrix(tables, np.array(ids, dtype=np.int64), cutoffs)
        if ran is None:
            return None
        program, outputs, fed = ran
        if self.needed is None:
            self.needed = {name: set(cols) for name, cols in program.prepared.plan.raw.items()}
        columns = self._feature_columns(program)
        graph = self._graph(records, ids, cutoffs) if bundle.features_settings.graph is not None else None
        block = np.empty((len(ids), len(bundle.features)), dtype="float64")
        columns.fill(block, outputs, fed, graph)
        return ids, block, lambda row: _Values(columns, outputs, fed, graph, row)

    def _feature_columns(self, program) -> FeatureColumns:
        found = self._columns.get(id(program))
        if found is None:
            bundle = self.bundle
            found = FeatureColumns(program.prepared, bundle.definitions[0].entityset, bundle.features,
                                   bundle.categories)
            with self._lock:
                if len(self._columns) > 64:
                    self._columns.clear()
                self._columns[id(program)] = found
        return found

    def _graph(self, records: list[dict], ids: list, cutoffs: np.ndarray) -> dict[str, np.ndarray]:
        """Identifier-graph features of the records, one float64 array per feature."""
        coder = self._graph_coder
        if coder is None:
            bundle = self.bundle
            coder = self._graph_coder = GraphCoder(bundle.dataset, self.target, bundle.features_settings.graph,
                                                   bundle.key_kinds)
        try:
            return coder(records, ids, cutoffs)
        except Unsupported:
            return self._graph_of_tables(records, ids, cutoffs)

    def _graph_of_tables(self, records: list[dict], ids: list, cutoffs: np.ndarray) -> dict[str, np.ndarray]:
        """The general way: typed tables of the records' link and target rows (pandas, as offline)."""
        from creditml.data import Dataset
        from creditml.features.graph import graph_features
        from creditml.features.inputs import graph_columns, graph_inputs
        from creditml.model.records import tables_from_records

        bundle = self.bundle
        cfg, settings = bundle.dataset, bundle.features_settings.graph
        tables = tables_from_records(cfg, self.target, records, bundle.key_kinds,
                                     columns=graph_columns(cfg, self.target, settings))
        pk = bundle.index_name
        cutoff = pd.DataFrame({pk: pd.Series(ids).astype(tables[self.target][pk].dtype), "time": cutoffs})
        links, instances, applications, confirmations = graph_inputs(Dataset(cfg, tables), self.target, settings,
                                                                     cutoff)
        graph = graph_features(links, instances, applications, settings, confirmations)
        return {name: graph[name].to_numpy() for name in graph.columns}
