"""The one feature path: a model's inputs for a set of instances as of their cutoffs.

Training (every candidate), batch scoring and the REST server (the selected
definitions, from raw records) all call :func:`model_inputs`, so a served feature is
computed by the same code, in the same order, as the one the model was trained on:
DFS definitions (domain ratios included) through the engine, then the identifier-graph
features.
"""

from __future__ import annotations

import featuretools as ft
import pandas as pd

from creditml.config import DatasetConfig, FeatureSettings, GraphSettings
from creditml.data import Dataset
from creditml.features.compute import MatrixBackend, compute_matrix
from creditml.features.engine import ServedMatrix, align_relationship, sort_like_woodwork, type_like_woodwork
from creditml.features.entityset import build_entityset, declared_columns, excluded_columns


def model_inputs(dataset: Dataset, target: str, cutoff_time: pd.DataFrame, definitions: list,
                 settings: FeatureSettings, *, engine: str | None = None, es: ft.EntitySet | None = None,
                 backend: MatrixBackend | None = None) -> pd.DataFrame:
    """Feature values (DFS then graph) of each instance of ``cutoff_time`` (key, ``time``), in its row order.

    ``es`` reuses an EntitySet already built from ``dataset``; ``engine`` defaults to the
    settings' engine.
    """
    es = es if es is not None else build_entityset(dataset, settings.ignore_columns)
    matrix = compute_matrix(definitions, es, cutoff_time, engine or settings.engine, backend=backend)
    key = dataset.config.tables[target].primary_key
    ids = pd.Index(cutoff_time[key].values, name=matrix.index.name)
    if not matrix.index.equals(ids):  # featuretools may return another order
        matrix = matrix.loc[ids]
    return _with_graph(dataset, target, cutoff_time, matrix, settings)


class ServedInputs:
    """:func:`model_inputs` of one model for served requests, with the work that depends only
    on the model done once (``features.engine.ServedMatrix``).

    A request of a few instances skips the woodwork EntitySet: its tables are typed by the
    same logical-type transforms and go to a plan compiled for the model. Whatever that path
    does not cover (many instances, the featuretools engine, a feature the engine does not
    compute, non-string categories) goes through :func:`model_inputs` itself.
    ``tests/features/test_served_inputs.py`` checks both give the same frame on random records.
    """

    def __init__(self, config: DatasetConfig, target: str, definitions: list, settings: FeatureSettings,
                 engine: str | None = None):
        self.config, self.target, self.definitions, self.settings = config, target, definitions, settings
        self.engine = engine or settings.engine
        self._drop = excluded_columns(config, settings.ignore_columns)
        self._matrix = ServedMatrix(definitions, target) if self.engine == "fast" and definitions else None

    def __call__(self, dataset: Dataset, cutoff_time: pd.DataFrame) -> pd.DataFrame:
        matrix = self.fast_matrix(dataset, cutoff_time) if self._matrix is not None else None
        if matrix is None:
            return model_inputs(dataset, self.target, cutoff_time, self.definitions, self.settings, engine=self.engine)
        return _with_graph(dataset, self.target, cutoff_time, matrix, self.settings)

    def fast_matrix(self, dataset: Dataset, cutoff_time: pd.DataFrame) -> pd.DataFrame | None:
        """The DFS part from the compiled plan, or None when the request leaves that path."""
        cfg = self.config
        frames, types = {}, {}
        needed = self._matrix.needed  # after the first request: only what the plan reads
        for name, spec in cfg.tables.items():
            if needed is not None and name not in needed:
                continue
            frame = dataset.tables[name]
            kept, types[name], _, sti = declared_columns(spec, frame, self._drop[name])
            if needed is not None:
                kept = [c for c in kept if c in needed[name]]
            # EntitySet.add_dataframe: a secondary time index guards its own column too
            sti = {when: cols if when in cols else [*cols, when] for when, cols in sti.items()}
            frames[name] = type_like_woodwork(name, frame[kept], types[name], spec.primary_key, spec.time_index, sti)
            sort_like_woodwork(frames[name])
        for name, spec in cfg.tables.items():
            for fk in spec.foreign_keys:
                if name not in frames or fk.references not in frames or fk.column not in frames[name].frame:
                    continue
                align_relationship(frames[fk.references], types[fk.references], frames[name], types[name], fk.column)
        key = cfg.tables[self.target].primary_key
        ids = cutoff_time[key].reset_index(drop=True)
        times = pd.to_datetime(cutoff_time["time"]).reset_index(drop=True)
        return self._matrix(frames, ids, times)


def _with_graph(dataset: Dataset, target: str, cutoff_time: pd.DataFrame, matrix: pd.DataFrame,
                settings: FeatureSettings) -> pd.DataFrame:
    if settings.graph is None:
        return matrix
    from creditml.features.graph import graph_features

    links, instances, applications, confirmations = graph_inputs(dataset, target, settings.graph, cutoff_time)
    graph = graph_features(links, instances, applications, settings.graph, confirmations)
    graph.index = matrix.index
    return pd.concat([matrix, graph], axis=1)


def graph_columns(cfg: DatasetConfig, target: str, settings: GraphSettings) -> dict[str, set[str]]:
    """The columns of each table :func:`graph_inputs` reads (primary keys included)."""
    spec = cfg.tables[target]
    out = {target: {spec.primary_key, spec.time_index, settings.customer_column},
           settings.table: {cfg.tables[settings.table].primary_key, settings.instance_column, settings.value_column,
                            settings.kind_column, settings.time_column}}
    if settings.label:
        label = cfg.labels[settings.label]
        lab = cfg.tables[label.table]
        key = spec.primary_key if label.table == target else next(
            fk.column for fk in lab.foreign_keys if fk.references == target)
        out.setdefault(label.table, set()).update({lab.primary_key, label.column, label.known_at, key})
    return {name: {c for c in cols if c is not None} for name, cols in out.items()}


def graph_inputs(dataset: Dataset, target: str, settings: GraphSettings, cutoff_time: pd.DataFrame):
    """Frames the graph features need, renamed to the names ``graph_features`` expects."""
    cfg: DatasetConfig = dataset.config
    spec = cfg.tables[target]
    pk, time_col = spec.primary_key, spec.time_index
    apps = dataset.tables[target]
    applications = pd.DataFrame({"instance_id": apps[pk].values, "time": apps[time_col].values})
    if settings.customer_column:
        applications["customer"] = apps[settings.customer_column].values
    inst = pd.DataFrame({"instance_id": cutoff_time[pk].values, "cutoff": cutoff_time["time"].values})
    if settings.customer_column:
        inst = inst.merge(applications[["instance_id", "customer"]], on="instance_id", how="left")
    confirmations = None
    if settings.label:
        label = cfg.labels[settings.label]
        lab = dataset.tables[label.table]
        positive = pd.to_numeric(lab[label.column]) == 1
        key = pk if label.table == target else next(
            fk.column for fk in cfg.tables[label.table].foreign_keys if fk.references == target)
        known = lab[label.known_at] if label.known_at else pd.Series(pd.Timestamp.max, index=lab.index)
        confirmations = pd.DataFrame({"instance_id": lab.loc[positive, key].values,
                                      "known_at": known[positive].values})
    return dataset.tables[settings.table], inst, applications, confirmations
