"""The one rule: no feature of an instance may see data from after its cutoff.

For every task on the built-in world: change every row dated after t0 (values, times,
late-known columns, extra rows), recompute the same saved definitions, and require the
features of instances with cutoff <= t0 to be unchanged, while instances after t0 do
change (so the perturbation is strong enough for the test to fail).
"""

from __future__ import annotations

import pandas as pd
import pytest

from creditml.config import load_pipeline_config
from creditml.data import load_dataset
from creditml.features.compute import compute_matrix
from creditml.features.dfs import build_candidates
from creditml.features.entityset import build_entityset
from creditml.features.inputs import graph_inputs
from creditml.features.pipeline import fix_graph_kinds
from creditml.tasks import build_instances
from tests.conftest import PIPELINES, WORLD_TASKS
from tests.features.engine._world import EVALUATORS, evaluator
from tests.leakage import perturb_after


def _features(dataset, cfg, candidates, instances, chosen):
    es = build_entityset(dataset, cfg.features.ignore_columns)
    cutoff = instances.cutoff_time[instances.cutoff_time[instances.index_name].isin(chosen)]
    matrix = compute_matrix(candidates, es, cutoff, cfg.features.engine)
    if cfg.features.graph is not None:
        from creditml.features.graph import graph_features

        sub = type(instances)(instances.task, instances.index_name, cutoff.reset_index(drop=True),
                              instances.labels.loc[cutoff[instances.index_name]], instances.as_of, {})
        links, inst, applications, confirmations = graph_inputs(dataset, cfg.task.target, cfg.features.graph,
                                                               sub.cutoff_time)
        graph = graph_features(links, inst, applications, cfg.features.graph, confirmations)
        graph.index = matrix.index
        matrix = pd.concat([matrix, graph], axis=1)
    return matrix


def _values(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object)
        elif pd.api.types.is_bool_dtype(out[col]) or str(out[col].dtype) == "boolean":
            out[col] = out[col].astype("float64")
    return out


@pytest.mark.parametrize("kind", EVALUATORS)  # the engine's Polars (training) and numpy (serving) evaluators
@pytest.mark.parametrize("task", WORLD_TASKS)
def test_features_do_not_see_after_the_cutoff(task, kind, small_world):
    cfg = load_pipeline_config(PIPELINES / f"{task}.yaml", dataset=small_world)
    dataset = load_dataset(cfg.dataset)
    instances = build_instances(dataset, cfg.task)
    times = instances.times
    t0 = times.sort_values().iloc[len(times) // 2]
    before_ids = times[times <= t0].sample(40, random_state=1).index
    after_ids = times[times > t0].sample(40, random_state=1).index
    chosen = before_ids.append(after_ids)

    cfg = fix_graph_kinds(cfg, dataset, until=t0)
    es = build_entityset(dataset, cfg.features.ignore_columns)
    candidates = build_candidates(es, cfg.task.target, cfg.features, interesting_until=t0)
    assert len(candidates) >= 500

    with evaluator(kind):
        original = _features(dataset, cfg, candidates, instances, chosen)
        changed = _features(perturb_after(dataset, t0, seed=3), cfg, candidates, instances, chosen)

    # values, not dtypes: a category first seen after t0 widens a category set, not a value;
    # floats may differ in the last bit when rows are summed in another order
    pd.testing.assert_frame_equal(_values(original.loc[before_ids]), _values(changed.loc[before_ids]),
                                  check_dtype=False, check_categorical=False, rtol=1e-9, atol=0)
    a, b = _values(original.loc[after_ids]).astype("string"), _values(changed.loc[after_ids]).astype("string")
    moved = (~((a == b).fillna(False) | (a.isna() & b.isna()))).any()
    assert moved.sum() > 0.2 * original.shape[1], "the perturbation is too weak to catch leakage"
    if cfg.features.graph is not None:
        graph_cols = [c for c in original.columns if c.startswith("GRAPH_")]
        assert graph_cols and moved[graph_cols].any()
