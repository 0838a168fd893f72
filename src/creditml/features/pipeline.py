"""The feature stage of a pipeline: dataset + task -> candidates, matrix, selection.

Pure wiring of the steps in this package; no files are written here (see ``outputs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from creditml.config import PipelineConfig
from creditml.data import Dataset, load_dataset
from creditml.features.compute import MatrixBackend
from creditml.features.dfs import build_candidates, describe
from creditml.features.entityset import build_entityset
from creditml.features.inputs import model_inputs
from creditml.features.selection import FeatureSelector
from creditml.splits import time_split
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


def fix_graph_kinds(cfg: PipelineConfig, dataset: Dataset, until: pd.Timestamp) -> PipelineConfig:
    """Fix the graph's per-kind columns on data known by ``until``, like interesting values."""
    graph = cfg.features.graph
    if graph is None or graph.kinds is not None:
        return cfg
    from creditml.features.graph import graph_kinds

    kinds = [str(k) for k in graph_kinds(dataset.tables[graph.table], graph, until=until)]
    features = cfg.features.model_copy(update={"graph": graph.model_copy(update={"kinds": kinds})})
    return cfg.model_copy(update={"features": features})


def build_features(cfg: PipelineConfig, dataset: Dataset | None = None, progress=None,
                   backend: MatrixBackend | None = None, split: pd.Series | None = None) -> FeatureResult:
    """Run the feature stage; ``progress(step: str)`` is called before each step.

    ``backend`` computes the candidate matrix elsewhere (``creditml.scale.backends``).
    ``split`` replaces the configured split (train / validation / test per instance, indexed
    like the instances' labels; ``bench/refit_backtest.py`` moves it one period back).
    """
    say = progress or (lambda step: None)
    say("loading and validating the dataset")
    dataset = dataset or load_dataset(cfg.dataset)
    instances = build_instances(dataset, cfg.task)
    split = time_split(instances.times, cfg.split) if split is None else split.loc[instances.labels.index]
    say("building the entityset")
    es = build_entityset(dataset, cfg.features.ignore_columns)
    train_end = instances.times[split == "train"].max()
    cfg = fix_graph_kinds(_own_columns_only(cfg), dataset, until=train_end)
    say("generating DFS candidate definitions")
    candidates = build_candidates(es, cfg.task.target, cfg.features, interesting_until=train_end)
    say(f"computing {len(candidates):,} candidates for {len(instances.labels):,} instances ({cfg.features.engine} engine)")
    matrix = model_inputs(dataset, cfg.task.target, instances.cutoff_time, candidates, cfg.features, es=es,
                          backend=backend)
    matrix = matrix.loc[instances.labels.index]
    say("selecting features on the training split")
    train = split == "train"
    selector = FeatureSelector.from_settings(cfg.selection).fit(
        matrix.loc[train.values], instances.labels[train.values], instances.times[train.values],
        X_next=matrix.loc[(split == "validation").values] if cfg.selection.psi_against_validation else None)
    descriptions = describe([f for f in candidates if f.get_name() in set(selector.selected_)])
    return FeatureResult(cfg, instances, candidates, matrix, split, selector, descriptions)


def _own_columns_only(cfg: PipelineConfig) -> PipelineConfig:
    """``max_depth: 0`` is the target table's own columns: no identifier graph either (it is a relation)."""
    if cfg.features.max_depth > 0 or cfg.features.graph is None:
        return cfg
    return cfg.model_copy(update={"features": cfg.features.model_copy(update={"graph": None})})

