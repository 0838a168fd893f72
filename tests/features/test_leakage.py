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


AGES = ["features.trans_primitives=[time_since, days_between, is_null]"]  # every date family, ages too


def _setup(task: str, small_world):
    """Config, dataset, instances, t0, 40 instances at or before t0 and 40 after, candidates."""
    cfg = load_pipeline_config(PIPELINES / f"{task}.yaml", AGES, dataset=small_world)
    dataset = load_dataset(cfg.dataset)
    instances = build_instances(dataset, cfg.task)
    times = instances.times
    t0 = times.sort_values().iloc[len(times) // 2]
    before_ids = times[times <= t0].sample(40, random_state=1).index
    after_ids = times[times > t0].sample(40, random_state=1).index

    cfg = fix_graph_kinds(cfg, dataset, until=t0)
    es = build_entityset(dataset, cfg.features.ignore_columns)
    candidates = build_candidates(es, cfg.task.target, cfg.features, interesting_until=t0)
    return cfg, dataset, instances, t0, before_ids, after_ids, candidates


def _moved(original: pd.DataFrame, changed: pd.DataFrame, ids) -> pd.Series:
    """Which columns changed for any of ``ids``."""
    a, b = _values(original.loc[ids]).astype("string"), _values(changed.loc[ids]).astype("string")
    return (~((a == b).fillna(False) | (a.isna() & b.isna()))).any()


def _assert_unchanged(original: pd.DataFrame, changed: pd.DataFrame, ids) -> None:
    # values, not dtypes: a category first seen after t0 widens a category set, not a value;
    # floats may differ in the last bit when rows are summed in another order
    pd.testing.assert_frame_equal(_values(original.loc[ids]), _values(changed.loc[ids]),
                                  check_dtype=False, check_categorical=False, rtol=1e-9, atol=0)


@pytest.mark.parametrize("kind", EVALUATORS)  # the engine's Polars (training) and numpy (serving) evaluators
@pytest.mark.parametrize("task", WORLD_TASKS)
def test_features_do_not_see_after_the_cutoff(task, kind, small_world):
    cfg, dataset, instances, t0, before_ids, after_ids, candidates = _setup(task, small_world)
    chosen = before_ids.append(after_ids)
    assert len(candidates) >= 500
    names = [f.get_name() for f in candidates]
    assert any("DAYS_BETWEEN(" in n for n in names) and any("TIME_SINCE(" in n for n in names)

    with evaluator(kind):
        original = _features(dataset, cfg, candidates, instances, chosen)
        changed = _features(perturb_after(dataset, t0, seed=3), cfg, candidates, instances, chosen)

    _assert_unchanged(original, changed, before_ids)
    moved = _moved(original, changed, after_ids)
    assert moved.sum() > 0.2 * original.shape[1], "the perturbation is too weak to catch leakage"
    if cfg.features.graph is not None:
        graph_cols = [c for c in original.columns if c.startswith("GRAPH_")]
        assert graph_cols and moved[graph_cols].any()


def _dates(feature) -> bool:
    return type(feature.primitive).__name__ in ("DaysBetween", "TimeSince") or any(
        _dates(b) for b in feature.base_features)


@pytest.mark.parametrize("kind", EVALUATORS)
def test_date_features_do_not_see_late_known_dates(kind, small_world):
    """Days between two dates of a row and ages at the cutoff, over installments, loans,
    bureau accounts and applications: late-known dates (paid_at, default_known_at, ...)
    changed after t0 must not move a feature of an instance cut off at or before t0."""
    cfg, dataset, instances, t0, before_ids, after_ids, candidates = _setup("credit_default", small_world)
    dates = [f for f in candidates if _dates(f)]
    names = [f.get_name() for f in dates]
    assert "customers.MEAN(installments.DAYS_BETWEEN(due_at, paid_at))" in names
    assert "customers.TIME_SINCE(created_at, unit=days)" in names
    chosen = before_ids.append(after_ids)
    with evaluator(kind):
        original = _features(dataset, cfg, dates, instances, chosen)
        changed = _features(perturb_after(dataset, t0, seed=3), cfg, dates, instances, chosen)
    _assert_unchanged(original, changed, before_ids)
    moved = _moved(original, changed, after_ids)
    assert moved["customers.MEAN(installments.DAYS_BETWEEN(due_at, paid_at))"], "days late did not move after t0"
    assert moved.sum() > 0.2 * len(dates), "the perturbation is too weak to catch leakage"
