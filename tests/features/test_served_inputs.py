"""The served fast path (``ServedInputs``) computes exactly what ``model_inputs`` computes.

For every task on the built-in world, all DFS candidates (a superset of any model's
features), random instances scored one record at a time and in small batches, through
one ``ServedInputs`` so that its compiled programs and category universes are reused and
grown across requests the way a server's are. Values must be identical (no tolerance),
and every request must have taken the fast path, or the test proves nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from creditml.config import load_pipeline_config
from creditml.data import Dataset, load_dataset
from creditml.features.dfs import build_candidates
from creditml.features.entityset import build_entityset
from creditml.features.inputs import ServedInputs, model_inputs
from creditml.features.pipeline import fix_graph_kinds
from creditml.model.paths import feature_paths
from creditml.model.records import key_kinds, records_for, tables_from_records
from creditml.tasks import build_instances
from tests.conftest import PIPELINES, WORLD_TASKS

SINGLE, BATCHES, BATCH = 30, 5, 3


def _request(cfg, dcfg, records, kinds):
    """What ``ModelBundle.feature_matrix`` hands the feature path for these records."""
    target, pk = cfg.task.target, dcfg.tables[cfg.task.target].primary_key
    tables = tables_from_records(dcfg, target, records, kinds)
    times = [r.get("cutoff_time") or r["instance"][cfg.task.cutoff] for r in records]
    cutoff = pd.DataFrame({pk: [r["instance"][pk] for r in records],
                           "time": pd.to_datetime(pd.Series(times), format="ISO8601")})
    cutoff[pk] = cutoff[pk].astype(tables[target][pk].dtype)
    return Dataset(dcfg, tables), cutoff


@pytest.mark.parametrize("task", WORLD_TASKS)
def test_served_inputs_equal_model_inputs_on_random_records(task, small_world):
    cfg = load_pipeline_config(PIPELINES / f"{task}.yaml", dataset=small_world)
    dataset = load_dataset(cfg.dataset)
    instances = build_instances(dataset, cfg.task)
    cfg = fix_graph_kinds(cfg, dataset, until=instances.times.max())
    es = build_entityset(dataset, cfg.features.ignore_columns)
    definitions = build_candidates(es, cfg.task.target, cfg.features)
    served = ServedInputs(dataset.config, cfg.task.target, definitions, cfg.features)
    kinds = key_kinds(dataset.config, dataset.tables)
    paths = feature_paths(definitions)

    rng = np.random.default_rng(7)
    ids = list(rng.choice(instances.times.index.to_numpy(), SINGLE + BATCHES * BATCH, replace=False))
    requests = [[i] for i in ids[:SINGLE]] + [ids[SINGLE + k * BATCH:SINGLE + (k + 1) * BATCH] for k in range(BATCHES)]
    for chosen in requests:
        records = records_for(dataset.config, dataset.tables, cfg.task.target, chosen, paths,
                              cfg.features.graph, cfg.task.cutoff)
        request, cutoff = _request(cfg, dataset.config, records, kinds)
        want = model_inputs(request, cfg.task.target, cutoff, definitions, cfg.features)
        assert served.fast_matrix(request, cutoff) is not None, f"instances {chosen} left the fast path"
        got = served(request, cutoff)
        pd.testing.assert_frame_equal(_values(got), _values(want), check_exact=True)


def _values(frame: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as their values: the fast path's categories are every value seen so far
    (a superset in the same order), the reference's those of the request; dtypes otherwise equal."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
    return out
