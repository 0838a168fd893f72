"""The compiled scorer (``model.scorer``) computes exactly what the general path computes.

For every task on the built-in world, all DFS candidates (a superset of any model's
features) plus the graph features, random instances scored one record at a time and in
small batches, through one scorer so that its programs and category universes are reused
and grown across requests the way a server's are. The model matrix must be identical (no
tolerance, NaN where NaN) to ``model_matrix(model_inputs(...))``, every feature's
reason-code value identical to the general path's frame value, and every request must
have taken the compiled path (for fraud, the graph coder too), or the test proves nothing. The probabilities and reason
codes of trained champions are compared in ``tests/serving/test_compiled_scoring.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from creditml.config import ScoringSettings, load_pipeline_config
from creditml.data import Dataset, load_dataset
from creditml.features.dfs import build_candidates
from creditml.features.entityset import build_entityset
from creditml.features.inputs import model_inputs
from creditml.features.pipeline import fix_graph_kinds
from creditml.model.bundle import ModelBundle, _Row
from creditml.model.frame import fit_categories, model_matrix
from creditml.model.paths import feature_paths
from creditml.model.records import key_kinds, records_for, tables_from_records
from creditml.model.scorer import Unsupported, times
from creditml.tasks import build_instances
from tests.conftest import PIPELINES, WORLD_TASKS

SINGLE, BATCHES, BATCH = 30, 5, 3


def _general(bundle: ModelBundle, records: list[dict]) -> pd.DataFrame:
    """The general path's feature frame of the records (what ``ModelBundle.feature_matrix`` falls back to)."""
    cfg, target, pk = bundle.dataset, bundle.task.target, bundle.index_name
    tables = tables_from_records(cfg, target, records, bundle.key_kinds)
    cutoff = bundle.cutoff_times(records)
    cutoff[pk] = cutoff[pk].astype(tables[target][pk].dtype)
    return model_inputs(Dataset(cfg, tables), target, cutoff, bundle.definitions, bundle.features_settings)


def _same(a, b) -> bool:
    if pd.isna(a) and pd.isna(b):
        return True
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("task", WORLD_TASKS)
def test_compiled_features_equal_the_general_path_on_random_records(task, small_world):
    cfg = load_pipeline_config(PIPELINES / f"{task}.yaml", dataset=small_world)
    dataset = load_dataset(cfg.dataset)
    instances = build_instances(dataset, cfg.task)
    cfg = fix_graph_kinds(cfg, dataset, until=instances.times.max())
    definitions = build_candidates(build_entityset(dataset, cfg.features.ignore_columns), cfg.task.target,
                                   cfg.features)
    paths = feature_paths(definitions)
    rng = np.random.default_rng(11)
    ids = list(rng.choice(instances.times.index.to_numpy(), SINGLE + BATCHES * BATCH, replace=False))
    requests = [[i] for i in ids[:SINGLE]] + [ids[SINGLE + k * BATCH:SINGLE + (k + 1) * BATCH] for k in range(BATCHES)]
    records = [records_for(dataset.config, dataset.tables, cfg.task.target, chosen, paths, cfg.features.graph,
                           cfg.task.cutoff) for chosen in requests]

    bundle = ModelBundle(dataset=dataset.config, task=cfg.task, features_settings=cfg.features,
                         definitions=definitions, features=[], categories={}, booster=None, best_iteration=0,
                         scoring=ScoringSettings(), key_kinds=key_kinds(dataset.config, dataset.tables))
    first = _general(bundle, records[0])
    bundle.features = list(first.columns)  # every DFS candidate, then the graph features
    bundle.categories = fit_categories(pd.concat([_general(bundle, r) for r in records[:8]]))
    assert bundle.categories, "no categorical model input: the category conversion goes untested"

    for chosen, request in zip(requests, records):
        want = _general(bundle, request)
        compiled = bundle.scorer.feature_block(request)
        assert compiled is not None, f"instances {chosen} left the compiled path"
        if cfg.features.graph is not None:  # the graph features came from the coder, not the pandas fallback
            cutoffs = times([r.get("cutoff_time") or r["instance"].get(cfg.task.cutoff) for r in request])
            bundle.scorer._graph_coder(request, compiled[0], cutoffs)
        got_ids, block, values_of = compiled
        assert got_ids == [int(i) for i in chosen]
        np.testing.assert_array_equal(block, model_matrix(want, bundle.features, bundle.categories))
        for row in range(len(chosen)):
            values, reference = values_of(row), _Row(want, row)
            wrong = [(name, values.get(name), reference.get(name)) for name in bundle.features
                     if not _same(values.get(name), reference.get(name))]
            assert not wrong, f"instance {chosen[row]}: {len(wrong)} reason-code values differ, e.g. {wrong[:3]}"


def test_records_off_the_compiled_path_are_refused_not_guessed():
    """A time pandas reads differently (a zone, nanoseconds) is left to the general path."""
    np.testing.assert_array_equal(times(["2024-03-01T10:00:00", None, "2024-03-01"]),
                                  pd.to_datetime(pd.Series(["2024-03-01T10:00:00", None, "2024-03-01"]),
                                                 format="ISO8601").to_numpy())
    for value in ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00.123456789", "20240301", 12345, "3000-01-01"):
        with pytest.raises(Unsupported, match="time"):
            times([value])
