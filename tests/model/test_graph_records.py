"""The served graph coder (``model.graph_records``) codes a request's rows exactly as the pandas path does.

Records of the small world's fraud instances, with their identifier groups, are edited
into the awkward cases a link store and clients produce: a sighting repeated under one
key with another value, a blank and an undeclared kind, a sighting without a time, a group
application without a customer, confirmations with and without a known-at time. Every
graph feature must equal, bit for bit, what ``graph_features`` computes from the typed
tables of the same records. A value of another type than the contract's is refused with
``Unsupported`` (the scorer then takes the pandas path), never coded differently.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from creditml.config import load_pipeline_config
from creditml.data import Dataset, load_dataset
from creditml.features.graph import graph_features
from creditml.features.inputs import graph_columns, graph_inputs
from creditml.features.pipeline import fix_graph_kinds
from creditml.model._values import Unsupported, times
from creditml.model.graph_records import GraphCoder
from creditml.model.records import key_kinds, records_for, tables_from_records
from creditml.tasks import build_instances
from tests.conftest import PIPELINES


@pytest.fixture(scope="module")
def fraud(small_world):
    cfg = load_pipeline_config(PIPELINES / "intermediary_fraud.yaml", dataset=small_world)
    dataset = load_dataset(cfg.dataset)
    instances = build_instances(dataset, cfg.task)
    cfg = fix_graph_kinds(cfg, dataset, until=instances.times.max())
    kinds = key_kinds(dataset.config, dataset.tables)
    settings, target = cfg.features.graph, cfg.task.target
    # instances whose group holds other applications: the cases below need neighbours
    links = dataset.tables[settings.table]
    shared = links[links.duplicated(settings.value_column, keep=False)][settings.instance_column].unique()
    records = []
    for i in instances.times.index[instances.times.index.isin(shared)][:400]:
        record = records_for(dataset.config, dataset.tables, target, [int(i)], {}, settings, cfg.task.cutoff)[0]
        if record["related"].get(target):  # the group held other applications at the cutoff
            records.append(record)
        if len(records) == 6:
            break
    assert len(records) == 6, f"only {len(records)} instances with a group at their cutoff: the cases are untested"
    return cfg, dataset.config, kinds, records


def _pandas_path(cfg, dataset_cfg, kinds, records: list[dict], cutoffs: np.ndarray) -> dict[str, np.ndarray]:
    target, settings = cfg.task.target, cfg.features.graph
    tables = tables_from_records(dataset_cfg, target, records, kinds, columns=graph_columns(dataset_cfg, target,
                                                                                             settings))
    pk = dataset_cfg.tables[target].primary_key
    cutoff = pd.DataFrame({pk: pd.Series([r["instance"][pk] for r in records]).astype(tables[target][pk].dtype),
                           "time": cutoffs})
    links, instances, applications, confirmations = graph_inputs(Dataset(dataset_cfg, tables), target, settings,
                                                                 cutoff)
    graph = graph_features(links, instances, applications, settings, confirmations)
    return {name: graph[name].to_numpy() for name in graph.columns}


def _coded(cfg, dataset_cfg, kinds, records: list[dict]):
    target, pk = cfg.task.target, dataset_cfg.tables[cfg.task.target].primary_key
    cutoffs = times([r["instance"][cfg.task.cutoff] for r in records])
    coder = GraphCoder(dataset_cfg, target, cfg.features.graph, kinds)
    return coder(records, [r["instance"][pk] for r in records], cutoffs), cutoffs


def _awkward(cfg, records: list[dict]) -> list[dict]:
    settings, target = cfg.features.graph, cfg.task.target
    label = "fraud_confirmed", "fraud_label_known_at"
    out = copy.deepcopy(records)
    first, second = out[0]["related"], out[1]["related"]
    sighting = first[settings.table][0]
    first[settings.table].append({**sighting, settings.value_column: "another-value"})  # same key: first stays
    first[settings.table][1][settings.kind_column] = "   "  # blank: a missing kind
    if len(first[settings.table]) > 2:
        first[settings.table][2][settings.kind_column] = "fax"  # not a declared kind: totals only
    second[settings.table][0][settings.time_column] = None  # a sighting without a time is left out
    apps = first[target]
    apps[0][settings.customer_column] = None
    apps[0][label[0]], apps[0][label[1]] = 1, None  # confirmed, known_at missing
    for other in second[target]:
        other[label[0]], other[label[1]] = 1.0, "2000-01-01T00:00:00"  # confirmed long before every cutoff
    return out


def test_coded_features_equal_the_pandas_path_on_awkward_records(fraud):
    cfg, dataset_cfg, kinds, records = fraud
    for request in (records[:1], records[:3], _awkward(cfg, records)[:1], _awkward(cfg, records)):
        got, cutoffs = _coded(cfg, dataset_cfg, kinds, request)
        want = _pandas_path(cfg, dataset_cfg, kinds, request, cutoffs)
        assert list(got) == list(want)
        different = [name for name in want if not np.array_equal(got[name], want[name], equal_nan=True)]
        assert not different, f"{len(different)} graph features differ, e.g. {different[0]}: " \
                              f"{got[different[0]]} coded, {want[different[0]]} by pandas"
    awkward = _awkward(cfg, records)
    got, _ = _coded(cfg, dataset_cfg, kinds, awkward)
    assert got["GRAPH_shared_confirmed"].max() > 0, "no edited confirmation is a neighbour: the case is untested"


def test_a_value_of_another_type_is_refused_not_coded(fraud):
    cfg, dataset_cfg, kinds, records = fraud
    settings = cfg.features.graph
    request = copy.deepcopy(records[:1])
    row = request[0]["related"][settings.table][0]
    row[settings.instance_column] = str(row[settings.instance_column])  # an integer key sent as text
    with pytest.raises(Unsupported, match="is not an integer"):
        _coded(cfg, dataset_cfg, kinds, request)
    request = copy.deepcopy(records[:1])
    request[0]["instance"]["fraud_confirmed"] = True  # a boolean where the label is a number
    with pytest.raises(Unsupported, match="number True"):
        _coded(cfg, dataset_cfg, kinds, request)
