"""The feature stage of a pipeline: dataset + task -> candidates, matrix, selection.

Pure wiring of the steps in this package; no files are written here (see ``outputs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from creditml.config import DatasetConfig, GraphSettings, PipelineConfig
from creditml.data import Dataset, load_dataset
from creditml.features.compute import compute_matrix
from creditml.features.dfs import build_candidates, describe
from creditml.features.entityset import build_entityset
from creditml.features.selection import FeatureSelector
from creditml.modeling.splits import time_split
from creditml.tasks import TaskInstances, build_instances


@dataclass
class FeatureResult:
    config: PipelineConfig
    instances: TaskInstances
    candidates: list  # featuretools definitions (graph features are computed apart, by name)
    matrix: pd.DataFrame  # all candidates incl. graph features, index = instance id
    split: pd.Series
    selector: FeatureSelector
    descriptions: dict[str, str] = field(default_factory=dict)

    @property
    def selected(self) -> list[str]:
        return list(self.selector.selected_)

    def all_descriptions(self) -> dict[str, str]:
        """A sentence for every selected feature: featuretools' own, or the graph feature's."""
        out = {}
        for name in self.selected:
            if name not in self.descriptions and name.startswith("GRAPH_"):
                from creditml.features.graph import describe_graph_feature

                out[name] = describe_graph_feature(name)
            else:
                out[name] = self.descriptions.get(name, name)
        return out

    @property
    def selected_definitions(self) -> list:
        keep = set(self.selected)
        return [f for f in self.candidates if f.get_name() in keep]


def graph_inputs(dataset: Dataset, target: str, settings: GraphSettings, instances: TaskInstances):
    """Frames the graph features need, renamed to the names ``graph_features`` expects."""
    cfg: DatasetConfig = dataset.config
    spec = cfg.tables[target]
    pk, time_col = spec.primary_key, spec.time_index
    apps = dataset.tables[target]
    applications = pd.DataFrame({"instance_id": apps[pk].values, "time": apps[time_col].values})
    if settings.customer_column:
        applications["customer"] = apps[settings.customer_column].values
    inst = pd.DataFrame({"instance_id": instances.cutoff_time[pk].values, "cutoff": instances.cutoff_time["time"].values})
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


def fix_graph_kinds(cfg: PipelineConfig, dataset: Dataset, until: pd.Timestamp) -> PipelineConfig:
    """Fix the graph's per-kind columns on data known by ``until``, like interesting values."""
    graph = cfg.features.graph
    if graph is None or graph.kinds is not None:
        return cfg
    from creditml.features.graph import graph_kinds

    kinds = [str(k) for k in graph_kinds(dataset.tables[graph.table], graph, until=until)]
    features = cfg.features.model_copy(update={"graph": graph.model_copy(update={"kinds": kinds})})
    return cfg.model_copy(update={"features": features})


def build_features(cfg: PipelineConfig, dataset: Dataset | None = None, progress=None) -> FeatureResult:
    """Run the feature stage; ``progress(step: str)`` is called before each step."""
    say = progress or (lambda step: None)
    say("loading and validating the dataset")
    dataset = dataset or load_dataset(cfg.dataset)
    instances = build_instances(dataset, cfg.task)
    split = time_split(instances.times, cfg.split)
    say("building the entityset")
    es = build_entityset(dataset, cfg.features.ignore_columns)
    train_end = instances.times[split == "train"].max()
    cfg = fix_graph_kinds(_own_columns_only(cfg), dataset, until=train_end)
    say("generating DFS candidate definitions")
    candidates = build_candidates(es, cfg.task.target, cfg.features, interesting_until=train_end)
    say(f"computing {len(candidates):,} candidates for {len(instances.labels):,} instances ({cfg.features.engine} engine)")
    fs = cfg.features
    matrix = compute_matrix(candidates, es, instances.cutoff_time, fs.engine, dask_scheduler=fs.dask_scheduler,
                            dask_partitions=fs.dask_partitions, ignore=fs.ignore_columns,
                            dataset_yaml=cfg.dataset if fs.dask_data == "path" else None)
    matrix = matrix.loc[instances.labels.index]
    if cfg.features.graph is not None:
        from creditml.features.graph import graph_features

        say("computing identifier-graph features")
        graph = graph_features(*_graph_args(dataset, cfg, instances))
        graph.index = matrix.index
        matrix = pd.concat([matrix, graph], axis=1)
    say("selecting features on the training split")
    train = split == "train"
    selector = FeatureSelector.from_settings(cfg.selection).fit(
        matrix.loc[train.values], instances.labels[train.values], instances.times[train.values])
    descriptions = describe([f for f in candidates if f.get_name() in set(selector.selected_)])
    return FeatureResult(cfg, instances, candidates, matrix, split, selector, descriptions)


def _own_columns_only(cfg: PipelineConfig) -> PipelineConfig:
    """``max_depth: 0`` is the target table's own columns: no identifier graph either (it is a relation)."""
    if cfg.features.max_depth > 0 or cfg.features.graph is None:
        return cfg
    return cfg.model_copy(update={"features": cfg.features.model_copy(update={"graph": None})})


def _graph_args(dataset: Dataset, cfg: PipelineConfig, instances: TaskInstances):
    settings = cfg.features.graph
    links, inst, applications, confirmations = graph_inputs(dataset, cfg.task.target, settings, instances)
    return links, inst, applications, settings, confirmations
