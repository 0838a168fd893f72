"""Hand-written cases: cutoff ties, late-known columns, empty children, shared parents,
credit primitives, the featuretools fallback and argument errors."""

from __future__ import annotations

import logging
import warnings

import featuretools as ft
import numpy as np
import pandas as pd
import pytest

from creditml.features import primitives
from creditml.features.engine import calculate_feature_matrix
from tests.features.engine._world import EVALUATORS, assert_same, cutoffs, engine_matrices, make_world

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")

D = pd.Timestamp("2024-03-01")


def _tiny() -> ft.EntitySet:
    customers = pd.DataFrame({"customer_id": [1, 2, 3]})
    loans = pd.DataFrame({"loan_id": [10, 11, 12, 13], "customer_id": [1, 1, 2, 2],
                          "at": [D - pd.Timedelta(days=5), D, D + pd.Timedelta(days=1), D - pd.Timedelta(days=2)]})
    inst = pd.DataFrame({
        "installment_id": range(6), "loan_id": [10, 10, 11, 12, 13, 13],
        "due_at": [D - pd.Timedelta(days=4), D, D, D + pd.Timedelta(days=2), D - pd.Timedelta(days=1), D],
        "amount": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
        "paid_at": [D - pd.Timedelta(days=3), D, D + pd.Timedelta(days=1), pd.NaT, pd.NaT, D - pd.Timedelta(days=1)],
        "paid": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
        "status": pd.Series(["late", "paid", "late", "late", "paid", "late"], dtype="category"),
    })
    es = ft.EntitySet("tiny")
    es.add_dataframe(customers, "customers", index="customer_id")
    es.add_dataframe(loans, "loans", index="loan_id", time_index="at")
    es.add_dataframe(inst, "installments", index="installment_id", time_index="due_at",
                     secondary_time_index={"paid_at": ["paid"]}, logical_types={"status": "Categorical"})
    es.add_relationship("customers", "customer_id", "loans", "customer_id")
    es.add_relationship("loans", "loan_id", "installments", "loan_id")
    return es


def _both(features, es, ct, **kw):
    """The engine (both evaluators) against featuretools; returns the columnar matrix."""
    ref = ft.calculate_feature_matrix(features, es, cutoff_time=ct, verbose=False)
    got = engine_matrices(features, es, ct, **kw)
    for kind, matrix in got.items():
        assert_same(ref, matrix)
    return got["columnar"]


def _feature(es, name, target="customers", **dfs):
    features = ft.dfs(entityset=es, target_dataframe_name=target, features_only=True, **dfs)
    return [f for f in features if f.get_name() == name]


def test_rows_stamped_at_the_cutoff_are_visible_and_late_columns_at_the_cutoff_are_masked():
    es = _tiny()
    ct = pd.DataFrame({"customer_id": [1, 2, 3], "time": [D, D, D]})
    feats = (_feature(es, "COUNT(installments)", agg_primitives=["count"], max_depth=2)
             + _feature(es, "SUM(installments.paid)", agg_primitives=["sum"], max_depth=2))
    got = _both(feats, es, ct)
    # customer 1: installments 0, 1 (due at D) and 2 (due at D) are visible ...
    assert got.loc[1, "COUNT(installments)"] == 3
    # ... but paid is known for installment 0 only: paid_at == cutoff is masked (>=)
    assert got.loc[1, "SUM(installments.paid)"] == 1.0


def test_empty_children_give_count_zero_and_mean_missing():
    es = _tiny()
    ct = pd.DataFrame({"customer_id": [3, 2, 1], "time": [D, D - pd.Timedelta(days=30), D]})
    feats = ft.dfs(entityset=es, target_dataframe_name="customers", features_only=True,
                   agg_primitives=["count", "mean", "num_unique", "mode"], trans_primitives=[], max_depth=2)
    got = _both(feats, es, ct)
    assert got.loc[3, "COUNT(loans)"] == 0 and got.loc[2, "COUNT(loans)"] == 0
    assert np.isnan(got.loc[3, "MEAN(installments.amount)"])
    assert list(got.index) == [3, 2, 1]


def test_nested_aggregation_of_a_shared_parent_uses_each_instance_cutoff():
    es = _tiny()
    ct = pd.DataFrame({"loan_id": [10, 11, 13], "time": [D - pd.Timedelta(days=3), D, D + pd.Timedelta(days=5)]})
    feats = ft.dfs(entityset=es, target_dataframe_name="loans", features_only=True,
                   agg_primitives=["count", "sum", "mean"], trans_primitives=[], max_depth=3)
    names = {f.get_name() for f in feats}
    assert "customers.COUNT(loans)" in names and "customers.MEAN(loans.SUM(installments.amount))" in names
    got = _both(feats, es, ct)
    # loans 10 and 11 share customer 1, seen at different cutoffs
    assert got.loc[10, "customers.COUNT(loans)"] == 1 and got.loc[11, "customers.COUNT(loans)"] == 2


def test_where_clauses_on_interesting_values():
    es = _tiny()
    es.add_interesting_values(dataframe_name="installments", values={"status": ["late", "absent"]})
    ct = pd.DataFrame({"customer_id": [1, 2, 3], "time": [D, D + pd.Timedelta(days=3), D]})
    feats = ft.dfs(entityset=es, target_dataframe_name="customers", features_only=True, max_depth=2,
                   agg_primitives=["count", "sum"], where_primitives=["count", "sum"], trans_primitives=[])
    got = _both(feats, es, ct)
    assert got.loc[1, "COUNT(installments WHERE status = late)"] == 2


@pytest.mark.parametrize("seed", [0, 1])
def test_credit_primitives(seed):
    es = make_world(seed, 12, 40, 150, jitter=True, credit=True)
    feats = ft.dfs(entityset=es, target_dataframe_name="customers", features_only=True, max_depth=2,
                   agg_primitives=primitives.credit_primitives([7, 30]) + ["count"], trans_primitives=[])
    kinds = {type(f.primitive).__name__ for f in feats}
    assert {"CountInLastDays", "ShareOnTime", "PartialPaymentRatio", "Utilisation",
            "DaysSinceLastDelinquency", "ShareDaysPastDueOver"} <= kinds
    _both(feats, es, cutoffs(seed, es, jitter=True))


def test_unsupported_features_go_to_featuretools_with_one_warning(caplog):
    es = make_world(3, 8, 20, 60)
    feats = ft.dfs(entityset=es, target_dataframe_name="customers", features_only=True, max_depth=2,
                   agg_primitives=["count", "median", "n_most_common"], trans_primitives=[])
    with caplog.at_level(logging.WARNING, logger="creditml.features.engine"):
        _both(feats, es, cutoffs(3, es))
    warnings_ = [r for r in caplog.records if "computed by featuretools" in r.getMessage()]
    assert len(warnings_) == len(EVALUATORS)  # one per call, whichever evaluator
    assert all("MEDIAN(loans.amount)" in w.getMessage() for w in warnings_)


def test_chunks_give_the_same_matrix():
    es = make_world(4, 10, 30, 90)
    feats = ft.dfs(entityset=es, target_dataframe_name="customers", features_only=True, max_depth=2,
                   agg_primitives=["count", "mean", "trend", "mode"], trans_primitives=["month"])
    ct = cutoffs(4, es)
    pd.testing.assert_frame_equal(calculate_feature_matrix(feats, es, ct, chunk_size=3),
                                  calculate_feature_matrix(feats, es, ct))


def test_argument_errors_name_the_parameter():
    es = _tiny()
    feats = _feature(es, "COUNT(loans)", agg_primitives=["count"])
    ct = pd.DataFrame({"customer_id": [1], "time": [D]})
    with pytest.raises(NotImplementedError, match="training_window"):
        calculate_feature_matrix(feats, es, ct, training_window="30 days")
    with pytest.raises(ValueError, match="chunk_size"):
        calculate_feature_matrix(feats, es, ct, chunk_size=0)
    with pytest.raises(ValueError, match="cutoff_time: expected columns"):
        calculate_feature_matrix(feats, es, ct.rename(columns={"time": "when"}))


def test_lookup_through_a_missing_parent_gives_the_feature_default():
    """A loan with no customer (a null key, like an application with no broker): counts are 0."""
    customers = pd.DataFrame({"customer_id": ["a", "b"]})
    loans = pd.DataFrame({"loan_id": [1, 2, 3, 4], "customer_id": ["a", None, "a", "zz"],
                          "at": [D - pd.Timedelta(days=3), D - pd.Timedelta(days=2), D - pd.Timedelta(days=1), D],
                          "amount": [1.0, 2.0, 3.0, 4.0]})
    es = ft.EntitySet("nullable")
    es.add_dataframe(customers, "customers", index="customer_id")
    es.add_dataframe(loans, "loans", index="loan_id", time_index="at")
    es.add_relationship("customers", "customer_id", "loans", "customer_id")
    feats = [f for f in ft.dfs(entityset=es, target_dataframe_name="loans", features_only=True,
                               agg_primitives=["count", "sum", "mean"], trans_primitives=[], max_depth=2)
             if f.get_name().startswith("customers.")]
    ct = pd.DataFrame({"loan_id": [1, 2, 3, 4], "time": [D, D, D, D]})
    got = _both(feats, es, ct)
    assert got.loc[2, "customers.COUNT(loans)"] == 0 and got.loc[4, "customers.SUM(loans.amount)"] == 0
    assert np.isnan(got.loc[2, "customers.MEAN(loans.amount)"])
    assert got.loc[1, "customers.COUNT(loans)"] == 2


def test_roundness_and_ratios_to_a_parent_column():
    from creditml.features.primitives import Roundness

    customers = pd.DataFrame({"customer_id": [1, 2, 3], "income": [3000.0, 0.0, np.nan]})
    loans = pd.DataFrame({"loan_id": [1, 2, 3, 4, 5, 6], "customer_id": [1, 1, 2, 3, 2, 1],
                          "at": [D] * 6, "declared": [45000.0, 12345.0, 0.0, 10000.0, np.nan, -2500.0]})
    es = ft.EntitySet("ratios")
    es.add_dataframe(customers, "customers", index="customer_id")
    es.add_dataframe(loans, "loans", index="loan_id", time_index="at")
    es.add_relationship("customers", "customer_id", "loans", "customer_id")
    declared = ft.IdentityFeature(es["loans"].ww["declared"])
    income = ft.DirectFeature(ft.IdentityFeature(es["customers"].ww["income"]), "loans",
                              relationship=es.relationships[0])
    feats = [ft.Feature(declared, primitive=Roundness), ft.Feature([declared, income], primitive=ft.primitives.DivideNumeric)]
    ct = pd.DataFrame({"loan_id": [1, 2, 3, 4, 5, 6], "time": [D] * 6})
    got = _both(feats, es, ct)
    assert got["ROUNDNESS(declared)"].tolist()[:4] == [5000.0, 0.0, 0.0, 10000.0]
    assert np.isnan(got.loc[5, "ROUNDNESS(declared)"]) and got.loc[6, "ROUNDNESS(declared)"] == 500.0
    ratio = got["declared / customers.income"]
    assert ratio.loc[1] == 15.0 and np.isnan(ratio.loc[3]) and np.isnan(ratio.loc[4])  # 0/0 and x/NaN


def test_date_features_hide_a_late_known_date_until_it_is_known():
    """DAYS_BETWEEN(due_at, paid_at) and the age of paid_at at the cutoff: paid_at is the
    installments' secondary time index, so featuretools and the engine both treat it as
    missing while ``paid_at >= cutoff``; TIME_SINCE uses each instance's own cutoff."""
    from creditml.features.primitives import DaysBetween

    es = _tiny()
    inst, loans = es["installments"], es["loans"]
    late = ft.Feature([ft.IdentityFeature(inst.ww["due_at"]), ft.IdentityFeature(inst.ww["paid_at"])],
                      primitive=DaysBetween)
    paid_age = ft.Feature(ft.IdentityFeature(inst.ww["paid_at"]), primitive=ft.primitives.TimeSince(unit="days"))
    feats = [ft.Feature(late, parent_dataframe_name="loans", primitive=ft.primitives.Mean),
             ft.Feature(late, parent_dataframe_name="loans", primitive=ft.primitives.Min),
             ft.Feature(paid_age, parent_dataframe_name="loans", primitive=ft.primitives.Max),
             ft.Feature(ft.IdentityFeature(loans.ww["at"]), primitive=ft.primitives.TimeSince(unit="days"))]
    from creditml.features.primitives import ShareDaysPastDueOver

    days_late = ft.Feature([ft.IdentityFeature(inst.ww["due_at"]), ft.IdentityFeature(inst.ww["paid_at"])],
                           primitive=DaysBetween(role="days_past_due"))  # a role: credit aggregations stack on it
    feats.append(ft.Feature(days_late, parent_dataframe_name="loans", primitive=ShareDaysPastDueOver(threshold=0)))
    ct = pd.DataFrame({"loan_id": [10, 11, 13, 12], "time": [D + pd.Timedelta(days=5), D, D, D]})
    got = _both(feats, es, ct)
    mean, least, oldest, age, share_late = (got[f.get_name()] for f in feats)
    assert share_late[10] == 0.5 and np.isnan(share_late[11]) and share_late[13] == 0.0
    # loan 10 at D+5: paid 1 day late (due D-4, paid D-3) and on the day (due = paid = D)
    assert mean[10] == 0.5 and least[10] == 0.0 and oldest[10] == 8.0 and age[10] == 10.0
    # loan 11 at D: its installment (due D) is visible, but paid_at = D + 1 is not known yet
    assert np.isnan(mean[11]) and np.isnan(least[11]) and np.isnan(oldest[11])
    # loan 13 at D: paid a day early (due D, paid D-1); the other one has no payment
    assert mean[13] == -1.0 and least[13] == -1.0 and oldest[13] == 1.0 and age[13] == 2.0
    # loan 12 starts after its cutoff: defaults
    assert np.isnan(mean[12]) and np.isnan(age[12])


def test_days_between_in_calendar_days_counts_whole_days_as_days_past_due_are_counted():
    """A payment at 18:00 on its due date is 0 days late in calendar days (0.75 in exact days); due at 23:00 and
    paid at 02:00 the next day, 1 (0.125 exact); paid at 23:00 the day before, -1; both evaluators agree with
    featuretools, also across 1970-01-01."""
    from creditml.features.primitives import DaysBetween

    hour = pd.Timedelta(hours=1)
    old = pd.Timestamp("1969-12-31 22:00")
    inst = pd.DataFrame({"installment_id": range(5), "loan_id": [1, 2, 3, 4, 5],
                         "due_at": [D, D + 23 * hour, D, old, D],
                         "paid_at": [D + 18 * hour, D + 26 * hour, D - hour, old + 3 * hour, pd.NaT]})
    es = ft.EntitySet("calendar")
    es.add_dataframe(pd.DataFrame({"loan_id": [1, 2, 3, 4, 5]}), "loans", index="loan_id")
    es.add_dataframe(inst, "installments", index="installment_id", time_index="due_at")
    es.add_relationship("loans", "loan_id", "installments", "loan_id")
    due, paid = ft.IdentityFeature(es["installments"].ww["due_at"]), ft.IdentityFeature(es["installments"].ww["paid_at"])
    calendar = ft.Feature([due, paid], primitive=DaysBetween(unit="calendar_days"))
    exact = ft.Feature([due, paid], primitive=DaysBetween)
    feats = [ft.Feature(f, parent_dataframe_name="loans", primitive=ft.primitives.Max) for f in (calendar, exact)]
    assert feats[0].get_name() == "MAX(installments.DAYS_BETWEEN(due_at, paid_at, unit=calendar_days))"
    ct = pd.DataFrame({"loan_id": [1, 2, 3, 4, 5], "time": [D + 10 * 24 * hour] * 5})
    got = _both(feats, es, ct)
    whole, fraction = got[feats[0].get_name()], got[feats[1].get_name()]
    assert whole.tolist()[:4] == [0.0, 1.0, -1.0, 1.0] and np.isnan(whole[5])
    assert fraction.tolist()[:4] == [0.75, 0.125, -1 / 24, 0.125] and np.isnan(fraction[5])
    # a saved model's definitions keep the unit (and an older model's, saved without one, stay exact)
    loaded = ft.load_features(ft.save_features(feats))
    assert [f.base_features[0].primitive.unit for f in loaded] == ["calendar_days", "days"]
    with pytest.raises(ValueError, match="DaysBetween unit: expected 'days' or 'calendar_days', found 'hours'"):
        DaysBetween(unit="hours")


def test_the_trend_of_a_constant_series_is_exactly_zero_in_both_evaluators():
    """Centred on its mean, a constant 0.1 leaves rounding noise (about 1e-28) that depended on the summation
    order: 0 offline and 1e-28 served sent one demo instance down the other branch of a split at 0."""
    customers = pd.DataFrame({"customer_id": [1, 2]})
    # the demo's case: 22 monthly installments of 5322.54 due on the 14th to 16th (numpy's mean of the amounts
    # is 1.8e-12 off the value, and the due days' mean is not exact either)
    days = [15, 15, 14, 15, 14, 15, 14, 14, 16, 15, 16, 15, 16, 15, 15, 15, 14, 15, 14, 14, 15, 15]
    due = [pd.Timestamp(2022 + (6 + k) // 12, (6 + k) % 12 + 1, d) for k, d in enumerate(days)]
    inst = pd.DataFrame({"installment_id": range(29), "customer_id": [1] * 22 + [2] * 7,
                         "due_at": due + due[:7], "amount": [5322.54] * 22 + [0.1] * 7})
    es = ft.EntitySet("constant")
    es.add_dataframe(customers, "customers", index="customer_id")
    es.add_dataframe(inst, "installments", index="installment_id", time_index="due_at")
    es.add_relationship("customers", "customer_id", "installments", "customer_id")
    features = _feature(es, "TREND(installments.amount, due_at)", agg_primitives=["trend"], trans_primitives=[])
    cutoff = pd.Timestamp("2024-04-18 00:43:12")
    ct = pd.DataFrame({"customer_id": [1, 2], "time": [cutoff, cutoff]})
    got = engine_matrices(features, es, ct)
    for kind in EVALUATORS:
        values = got[kind]["TREND(installments.amount, due_at)"].to_numpy()
        assert values.tolist() == [0.0, 0.0], (kind, values)
