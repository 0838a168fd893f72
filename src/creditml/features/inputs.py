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
from creditml.features.entityset import build_entityset


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
    if settings.graph is None:
        return matrix
    from creditml.features.graph import graph_features

    links, instances, applications, confirmations = graph_inputs(dataset, target, settings.graph, cutoff_time)
    graph = graph_features(links, instances, applications, settings.graph, confirmations)
    graph.index = matrix.index
    return pd.concat([matrix, graph], axis=1)


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
