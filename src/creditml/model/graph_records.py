"""The identifier-graph inputs of a few served records, coded straight from their JSON rows.

The general path types pandas tables of the records (``records.tables_from_records``),
renames them (``features.inputs.graph_inputs``) and codes them as arrays
(``features.graph`` ``read_*``): about ten small frames built per request to compute a
few dozen numbers. :class:`GraphCoder` makes the same arrays from the rows themselves
and hands them to ``features.graph.coded_graph_features``.

The codes are the general path's codes, not merely equivalent ones: rows are read in
the order ``tables_from_records`` reads them (each record's instance row, then its rows
of the table; the first row of a repeated key stays), an application is coded by its
row, identifiers and customers by first appearance, kinds by their position among the
declared (or sorted) kinds. A value of a type the general path would convert (a number
where a key is a string, a boolean label, a time that is not ISO) raises
:class:`Unsupported` and the scorer computes the graph features the general way.
``tests/model/test_scorer.py`` requires identical values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditml.config import DatasetConfig, GraphSettings
from creditml.features.graph import (ANY_KIND, NAT, NEVER, Applications, Instances, coded_graph_features,
                                     coded_sightings)
from creditml.model._values import (Unsupported, declared_kind, first_rows, int_key, number, str_key, text,
                                    times)
from creditml.model.records import rows_by_table

_TIMESTAMP_MAX = pd.Timestamp.max.value  # graph_inputs: a label without a known_at is known "never before"
# a declared kind (``_values.declared_kind``) -> how one value is read; "time": the column at once
_READERS = {"key": int_key, "str_key": str_key, "float": number, "datetime": "time", "category": text}


def _codes_by_first_appearance(values: list) -> np.ndarray:
    """``pd.factorize``: codes in order of first appearance, -1 for a missing value."""
    codes: dict = {}
    return np.array([-1 if v is None else codes.setdefault(v, len(codes)) for v in values], dtype=np.int64)


class GraphCoder:
    """Records to ``coded_graph_features`` inputs for one model's graph declaration."""

    def __init__(self, cfg: DatasetConfig, target: str, settings: GraphSettings, key_kinds: dict[str, dict[str, str]]):
        self.settings, self.target = settings, target
        spec, link = cfg.tables[target], cfg.tables[settings.table]
        self.pk, self.time = spec.primary_key, spec.time_index
        self.link_pk = link.primary_key
        self._unsupported = None
        self._reader = {}  # (table, column) -> function of a raw value
        self._read(cfg, key_kinds, target, self.pk)
        self._read(cfg, key_kinds, target, self.time)
        if settings.customer_column:
            self._read(cfg, key_kinds, target, settings.customer_column)
        for col in (self.link_pk, settings.instance_column, settings.value_column, settings.time_column,
                    settings.kind_column):
            if col:
                self._read(cfg, key_kinds, settings.table, col)
        if spec.unpivot is not None or link.unpivot is not None:
            self._unsupported = "an unpivoted table"
        self.label = None
        if settings.label:
            label = cfg.labels[settings.label]
            if label.table != target:
                self._unsupported = f"a label on table {label.table}"
            else:
                self.label = label
                self._read(cfg, key_kinds, target, label.column)
                if label.known_at:
                    self._read(cfg, key_kinds, target, label.known_at)

    def _read(self, cfg: DatasetConfig, key_kinds: dict, table: str, col: str) -> None:
        kind = declared_kind(cfg.tables[table], col, key_kinds.get(table, {}).get(col))
        reader = _READERS.get(kind)  # a boolean column is left to the pandas path
        if reader is None:
            self._unsupported = f"column {table}.{col}"
        self._reader[(table, col)] = reader

    def _column(self, table: str, col: str, rows: list[dict]) -> list | np.ndarray:
        reader = self._reader[(table, col)]
        values = [row.get(col) for row in rows]
        if reader == "time":
            return times(values).view(np.int64)  # NaT is NAT
        return [reader(v) for v in values]

    def __call__(self, records: list[dict], ids: list[int], cutoffs: np.ndarray) -> dict[str, np.ndarray]:
        """One float64 array per graph feature of the records (``Unsupported``: use the general path)."""
        if self._unsupported:
            raise Unsupported(self._unsupported)
        s, target = self.settings, self.target
        rows = rows_by_table(records, target)  # the order tables_from_records reads them in
        keys = self._column(target, self.pk, rows[target])
        app_rows = first_rows(rows[target], keys)
        app_ids = list(dict.fromkeys(keys))  # the kept rows' keys, in their order
        if any(i is None for i in app_ids):
            raise Unsupported(f"{target}.{self.pk}: a missing key")
        position: dict = {}
        for i, key in enumerate(app_ids):
            position.setdefault(key, i)
        if s.customer_column:
            customer = _codes_by_first_appearance(self._column(target, s.customer_column, app_rows))
            customers = pd.Index(range(int(customer.max()) + 1 if len(customer) else 0))
        else:
            customer, customers = np.full(len(app_rows), -1, dtype=np.int64), pd.Index([])
        apps = Applications(pd.Index(app_ids), self._column(target, self.time, app_rows), customer, customers)

        cutoff = np.asarray(cutoffs, dtype="datetime64[ns]").view(np.int64)
        if (cutoff == NAT).any():
            raise Unsupported("a missing cutoff")
        inst_app = np.array([position.get(i, -1) for i in ids], dtype=np.int64)
        if (inst_app < 0).any():
            raise Unsupported("an instance without its row")
        inst = Instances(inst_app, cutoff, apps.customer[inst_app])

        link_rows = rows.get(s.table, [])
        links = first_rows(link_rows, self._column(s.table, self.link_pk, link_rows))
        l_app = np.array([-1 if v is None else position.get(v, -1)
                          for v in self._column(s.table, s.instance_column, links)], dtype=np.int64)
        l_time = self._column(s.table, s.time_column, links)
        l_val = _codes_by_first_appearance(self._column(s.table, s.value_column, links))
        if s.kind_column:
            kind_values = self._column(s.table, s.kind_column, links)
            kinds = list(s.kinds) if s.kinds is not None else \
                sorted({k for k in kind_values if k is not None}, key=str)
            where = {k: i for i, k in enumerate(kinds)}
            l_kind = np.array([where.get(k, -1) if k is not None else -1 for k in kind_values], dtype=np.int64)
            ignore = set(s.group_ignore_kinds or ())
            ignored = np.array([k in ignore for k in kind_values], dtype=bool) if ignore else None
        else:
            kinds = list(s.kinds) if s.kinds is not None else [ANY_KIND]
            if kinds != [ANY_KIND]:
                raise Unsupported("kinds without a kind column")
            l_kind, ignored = np.zeros(len(links), dtype=np.int64), None
        sightings = coded_sightings(l_app, l_time, l_val, l_kind, ignored, apps, kinds)
        return coded_graph_features(sightings, apps, inst, self._confirmed(app_rows, apps), s)

    def _confirmed(self, app_rows: list[dict], apps: Applications) -> np.ndarray:
        """``confirmed_at`` of the label's positives among the application rows."""
        first = np.full(apps.n, NEVER, dtype=np.int64)
        label = self.label
        if label is None:
            return first
        positive = np.array([v == 1 for v in self._column(self.target, label.column, app_rows)], dtype=bool)
        known = self._column(self.target, label.known_at, app_rows) if label.known_at else \
            np.full(len(app_rows), _TIMESTAMP_MAX, dtype=np.int64)
        ok = positive & (known != NAT)
        np.minimum.at(first, np.flatnonzero(ok), known[ok])
        return first
