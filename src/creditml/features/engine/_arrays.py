"""The served engine over plain numpy columns: no pandas, no woodwork, no Polars per request.

:class:`ServedMatrix` starts from typed pandas tables; :class:`ArrayMatrix` starts from
:class:`ArrayTable` (one numpy column per kept column, already in the entityset's row
order and in the representation the numpy evaluator reads) and runs the same compiled
instance program (``_instance``). The plan is made once per table *schema* (a column's
kind, and for a categorical column its category universe), from an empty Polars frame
of that schema: the planner reads dtypes, never values.

Column kinds and what the evaluator reads (``_instance._numpy`` of the Polars column the
pandas path would have built):

* ``int``: int64 without missing values; ``Int64``: a nullable integer (pandas
  extension dtype), int64 when nothing is missing, else float64 with NaN;
* ``float``: float64 with NaN; ``bool``: a nullable boolean as float64 1/0/NaN;
* ``datetime``: datetime64[ns] with NaT; ``str``: a string key (woodwork's ``string`` dtype)
  as an object array with None;
* ``category``: codes into the column's universe (a sorted ``pd.CategoricalDtype``),
  int64 when nothing is missing, else float64 with NaN.

Used by ``creditml.model.scorer`` (the compiled scorer of a served model); equality
with the pandas path is tested on random records (``tests/model/test_scorer.py``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import polars as pl

from creditml.features.engine import _api
from creditml.features.engine._api import _Prepared
from creditml.features.engine._frames import ROW, Table
from creditml.features.engine._instance import InstanceEvaluator

MAX_PROGRAMS = 64

_POLARS = {"int": pl.Int64, "Int64": pl.Int64, "float": pl.Float64, "bool": pl.Boolean,
           "datetime": pl.Datetime("ns"), "category": pl.Int32, "str": pl.String}
_EXTENSION = {"Int64", "bool", "str"}  # pandas extension dtypes: comparisons with a missing value give NA


@dataclass
class ArrayTable:
    """One table of a request as the numpy evaluator reads it (see the module doc)."""

    name: str
    index: str
    time_index: str | None
    secondary: dict[str, list[str]]
    columns: dict[str, np.ndarray]
    kinds: dict[str, str]
    categories: dict[str, pd.CategoricalDtype] = field(default_factory=dict)

    def signature(self) -> tuple:
        return (self.name, tuple((c, k, id(self.categories.get(c))) for c, k in self.kinds.items()))

    def schema(self) -> Table:
        """The engine's :class:`Table` with this schema and no rows: what planning reads."""
        frame = pl.DataFrame([pl.Series(ROW, [], dtype=pl.Int64)]
                             + [pl.Series(c, [], dtype=_POLARS[k]) for c, k in self.kinds.items()])
        return Table(name=self.name, index=self.index, time_index=self.time_index, frame=frame,
                     categories=dict(self.categories), nullable_compare={c for c, k in self.kinds.items()
                                                                         if k in _EXTENSION},
                     secondary=dict(self.secondary), time_sorted=self.time_index is not None)


class _ArrayEvaluator(InstanceEvaluator):
    """The numpy evaluator compiled once; each call's columns and key indexes are thread-local."""

    def __init__(self, plan, tables):
        self._local = threading.local()
        super().__init__(plan, tables)

    _indexes = property(lambda self: self._local.indexes,
                        lambda self, value: setattr(self._local, "indexes", value))

    def column(self, name: str, col: str) -> np.ndarray:
        return self._local.data[name].columns[col]

    def run_on(self, data: dict[str, ArrayTable], ids, cutoffs, outputs, fed) -> list[np.ndarray]:
        self._local.data, self._indexes = data, {}
        try:
            return self.run(ids, cutoffs, outputs, fed)
        finally:
            self._local.data = self._indexes = None


@dataclass
class ArrayProgram:
    prepared: _Prepared
    evaluator: _ArrayEvaluator


class ArrayMatrix:
    """The model's DFS features of a few instances from :class:`ArrayTable` s, as numpy arrays."""

    def __init__(self, features: list, target: str):
        self.features, self.target = list(features), target
        self._programs: dict[tuple, ArrayProgram | None] = {}
        self._lock = threading.Lock()

    def program(self, tables: dict[str, ArrayTable]) -> ArrayProgram | None:
        """The compiled program for this schema of tables (None: a feature the engine does not compute)."""
        signature = tuple(sorted(t.signature() for t in tables.values()))
        if signature in self._programs:
            return self._programs[signature]
        schemas = {name: t.schema() for name, t in tables.items()}
        prepared = _Prepared(self.features, schemas, self.target)
        program = None if prepared.unsupported else ArrayProgram(prepared, _ArrayEvaluator(prepared.plan, schemas))
        with self._lock:
            if len(self._programs) >= MAX_PROGRAMS:
                self._programs.clear()
            self._programs[signature] = program
        return program

    def __call__(self, tables: dict[str, ArrayTable], ids: np.ndarray, cutoffs: np.ndarray
                 ) -> tuple[ArrayProgram, list[np.ndarray], set[str]] | None:
        """Outputs of ``program.prepared.supported`` (one array each) and the fed aggregations."""
        if len(ids) > _api.FEW_INSTANCES:
            return None
        program = self.program(tables)
        if program is None:
            return None
        fed: set[str] = set()
        outputs = program.evaluator.run_on(tables, ids, cutoffs, program.prepared.supported, fed)
        return program, outputs, fed

    def needed(self, tables: dict[str, ArrayTable]) -> dict[str, set[str]] | None:
        """Tables and columns the plan reads (from the program of these tables)."""
        program = self.program(tables)
        return None if program is None else {name: set(cols) for name, cols in program.prepared.plan.raw.items()}
