"""The engine against featuretools on random relational worlds and DFS settings."""

from __future__ import annotations

import warnings

import featuretools as ft
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from creditml.features.primitives import DaysBetween
from tests.features.engine._world import assert_same, cutoffs, engine_matrices, make_world

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")

AGG = ["count", "sum", "mean", "max", "min", "std", "num_unique", "mode", "percent_true", "trend",
       "time_since_last", "time_since_first", "avg_time_between", "skew"]
# dates: the age at the cutoff in featuretools' default unit and in days, and the days
# between two dates of a row, exact and in calendar days (loans: disbursed_at, closed_at; installments: due_at, paid_at,
# both late-known columns masked until known)
TRANS = ["month", "weekday", "is_null", "time_since", ft.primitives.TimeSince(unit="days"), DaysBetween(),
         DaysBetween(unit="calendar_days")]
WHERE = ["count", "sum", "mean", "percent_true", "max"]


def _features(es, depth, agg, trans, where):
    es.add_interesting_values(dataframe_name="installments", values={"status": ["late", "missed"]})
    es.add_interesting_values(dataframe_name="loans", values={"purpose": ["car"]})
    return ft.dfs(entityset=es, target_dataframe_name="customers", agg_primitives=agg, trans_primitives=trans,
                  where_primitives=where, max_depth=depth, features_only=True)


@settings(max_examples=int(__import__("os").environ.get("ENGINE_EXAMPLES", 25)), deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking: keeps CI time bounded
@given(
    seed=st.integers(0, 2**31 - 1),
    sizes=st.tuples(st.integers(1, 12), st.integers(1, 30), st.integers(1, 80)),
    depth=st.integers(1, 2),
    agg=st.lists(st.sampled_from(AGG), min_size=1, max_size=6, unique=True),
    trans=st.lists(st.sampled_from(TRANS), max_size=3, unique=True),
    where=st.lists(st.sampled_from(WHERE), max_size=3, unique=True),
    null_rate=st.sampled_from([0.0, 0.2, 0.6]),
    jitter=st.booleans(),
    after_join=st.booleans(),  # False: some customers do not exist yet at their cutoff (features get defaults)
)
def test_engine_matches_featuretools(seed, sizes, depth, agg, trans, where, null_rate, jitter, after_join):
    es = make_world(seed, *sizes, null_rate=null_rate, jitter=jitter)
    features = _features(es, depth, agg, trans, where)
    ct = cutoffs(seed, es, jitter=jitter, after_join=after_join)
    ref = ft.calculate_feature_matrix(features, es, cutoff_time=ct, verbose=False)
    for got in engine_matrices(features, es, ct, chunk_size=5).values():
        assert_same(ref, got)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_all_primitives_depth_two(seed):
    es = make_world(seed, 15, 40, 120, jitter=seed == 2)
    features = _features(es, 2, AGG, TRANS, WHERE)
    ct = cutoffs(seed, es, jitter=seed == 2)
    ref = ft.calculate_feature_matrix(features, es, cutoff_time=ct, verbose=False)
    for got in engine_matrices(features, es, ct).values():
        assert_same(ref, got)
