"""DFS candidates on the built-in world: every path gets its depth, keys are never features."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from creditml.config import FeatureSettings, load_pipeline_config
from creditml.errors import ConfigError
from creditml.features.dfs import build_candidates
from creditml.features.entityset import load_entityset
from creditml.features.pipeline import build_features
from tests.conftest import PIPELINES


@pytest.fixture(scope="module")
def es(small_world):
    return load_entityset(small_world)


def test_parent_history_is_reached_at_full_depth_and_ids_are_not_features(es):
    names = [f.get_name() for f in build_candidates(es, "applications", FeatureSettings(max_candidates=100_000))]
    assert len(names) >= 2000 and len(set(names)) == len(names)
    assert "customers.SHARE_ON_TIME(installments.days_late)" in names
    assert "customers.MAX(loans.default_90dpd_12m)" in names  # an earlier loan's default, once known
    assert any(n.startswith("customers.") and n.count("(") >= 2 for n in names)  # stacked aggregations
    assert any(n.startswith("customers.COUNT(collection_actions WHERE outcome = ") for n in names)
    assert not any(n in {"customer_id", "intermediary_id"} or "(customer_id" in n for n in names)
    assert "ROUNDNESS(declared_income)" in names


def test_max_depth_zero_is_the_target_table_only(es):
    names = [f.get_name() for f in build_candidates(es, "applications", FeatureSettings(max_depth=0))]
    assert names == ["amount_requested", "term_months", "declared_income", "purpose", "channel", "decision"]


def test_max_depth_zero_leaves_out_the_identifier_graph_too(small_world):
    cfg = load_pipeline_config(PIPELINES / "intermediary_fraud.yaml", ["features.max_depth=0"], small_world)
    assert cfg.features.graph is not None
    features = build_features(cfg)
    assert list(features.matrix.columns) == ["amount_requested", "term_months", "declared_income", "purpose",
                                             "channel", "decision"]
    assert features.config.features.graph is None  # so the model bundle computes no graph features either


def test_the_cap_takes_every_group_in_turn(es):
    names = [f.get_name() for f in build_candidates(es, "applications", FeatureSettings(max_candidates=300))]
    assert len(names) == 300
    assert any(n.startswith("customers.") for n in names) and any(n.startswith("intermediaries.") for n in names)


def test_ratios_look_up_parent_columns_and_bad_ones_say_why(es):
    settings = FeatureSettings(ratios=[("applications.declared_income", "customers.monthly_income")])
    names = [f.get_name() for f in build_candidates(es, "applications", settings)]
    assert names[0] == "declared_income / customers.monthly_income"
    share = FeatureSettings(ratios=[("intermediaries.SUM(applications.fraud_confirmed)",
                                     "intermediaries.COUNT(applications)")])
    assert build_candidates(es, "applications", share)[0].get_name() == \
        "intermediaries.SUM(applications.fraud_confirmed) / intermediaries.COUNT(applications)"
    with pytest.raises(ConfigError, match=r"'customers.income' is neither a candidate feature nor a column of the entityset"):
        build_candidates(es, "applications", FeatureSettings(ratios=[("applications.declared_income", "customers.income")]))
    with pytest.raises(ConfigError, match=r"'loans.principal' cannot be looked up from 'applications'"):
        build_candidates(es, "applications", FeatureSettings(ratios=[("loans.principal", "applications.declared_income")]))


def test_candidates_come_in_the_same_order_in_every_process(small_world):
    """featuretools' order follows Python's string hashing; a capped candidate list must not."""
    script = ("import sys, warnings; warnings.filterwarnings('ignore')\n"
              "from creditml.config import FeatureSettings\n"
              "from creditml.features.dfs import build_candidates\n"
              "from creditml.features.entityset import load_entityset\n"
              "es = load_entityset(sys.argv[1])\n"
              "print('\\n'.join(f.get_name() for f in build_candidates(es, 'applications', "
              "FeatureSettings(max_candidates=500))))\n")
    runs = [subprocess.run([sys.executable, "-c", script, str(small_world)], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")]
    assert len(runs[0].splitlines()) == 500 and runs[0] == runs[1]


def test_dates_become_days_late_and_ages_stacked_into_history(es):
    names = build_candidates(es, "applications", FeatureSettings(
        max_candidates=100_000, trans_primitives=["time_since", "days_between", "is_null"]))
    names = [f.get_name() for f in names]
    history = "customers.{}(installments.DAYS_BETWEEN(due_at, paid_at))"
    assert {history.format(agg) for agg in ("MEAN", "MAX", "STD")} <= set(names)
    assert "customers.TREND(installments.DAYS_BETWEEN(due_at, paid_at), due_at)" in names
    assert "customers.TIME_SINCE(created_at, unit=days)" in names  # tenure at the cutoff
    assert "intermediaries.TIME_SINCE(registered_at, unit=days)" in names
    assert "customers.MAX(bureau_accounts.TIME_SINCE(opened_at, unit=days))" in names  # oldest account
    # one orientation per pair, time index first; no MONTH / WEEKDAY by default
    assert not any("DAYS_BETWEEN(paid_at, due_at)" in n or "MONTH(" in n or "WEEKDAY(" in n for n in names)
    # the ages of child rows' own times are TIME_SINCE_FIRST/LAST already; no where-clauses on dates
    assert not any("TIME_SINCE(due_at" in n or "TIME_SINCE(disbursed_at" in n for n in names)
    assert not any("WHERE" in n and ("DAYS_BETWEEN(" in n or "TIME_SINCE(" in n) for n in names)


def test_declared_date_pairs_replace_the_automatic_ones_and_bad_ones_say_why(es):
    settings = FeatureSettings(max_candidates=100_000, date_pairs=[("bureau_accounts.opened_at",
                                                                    "bureau_accounts.reported_at")])
    names = [f.get_name() for f in build_candidates(es, "applications", settings)]
    between = {n for n in names if "DAYS_BETWEEN(" in n}
    assert between and all("DAYS_BETWEEN(opened_at, reported_at)" in n for n in between)
    # a role on a pair: the credit aggregations of that role stack on the difference
    days_late = FeatureSettings(max_candidates=100_000, date_pairs=[("installments.due_at", "installments.paid_at",
                                                                     "days_past_due")])
    names = [f.get_name() for f in build_candidates(es, "applications", days_late)]
    late = "installments.DAYS_BETWEEN(due_at, paid_at, role=days_past_due)"
    assert {f"customers.SHARE_DAYS_PAST_DUE_OVER({late})", f"customers.SHARE_ON_TIME({late})",
            f"customers.MEAN({late})", f"customers.TREND({late}, due_at)"} <= set(names)
    assert not any("DAYS_BETWEEN(due_at, paid_at)" in n for n in names)  # only the declared one
    with pytest.raises(ConfigError, match=r"features.date_pairs: \[installments.due_at, loans.disbursed_at\]: "
                                          r"expected two different datetime columns of one table as table.column, "
                                          r"found tables 'installments' and 'loans'"):
        build_candidates(es, "applications", FeatureSettings(date_pairs=[("installments.due_at",
                                                                           "loans.disbursed_at")]))
    with pytest.raises(ConfigError, match=r"features.date_pairs: installments.amount_due is not a datetime column "
                                          r"of the entityset \(datetime columns of 'installments': due_at, paid_at"):
        build_candidates(es, "applications", FeatureSettings(date_pairs=[("installments.due_at",
                                                                           "installments.amount_due")]))
    with pytest.raises(ConfigError, match=r"features.date_pairs: expected 'days_between' in "
                                          r"features.trans_primitives to use the pairs, found \['is_null'\]; add it"):
        build_candidates(es, "applications", FeatureSettings(trans_primitives=["is_null"], date_pairs=[
            ("installments.due_at", "installments.paid_at")]))


def test_automatic_date_pairs_can_leave_out_the_dates_labels_became_known(es):
    """``pair_label_dates: false``: no DAYS_BETWEEN against a declared label's known_at date, nor
    against a date learned with the label (``fraud_confirmed_at``, guarded by ``fraud_label_known_at``)."""
    def pairs(settings):
        names = [f.get_name() for f in build_candidates(es, "applications", settings)]
        return {n[n.index("DAYS_BETWEEN("):].split(")")[0] + ")" for n in names if "DAYS_BETWEEN(" in n}

    label_dates = {"DAYS_BETWEEN(disbursed_at, default_known_at)", "DAYS_BETWEEN(applied_at, fraud_label_known_at)",
                   "DAYS_BETWEEN(fraud_confirmed_at, fraud_label_known_at)", "DAYS_BETWEEN(opened_at, cured_known_at)",
                   "DAYS_BETWEEN(applied_at, fraud_confirmed_at)"}
    every = pairs(FeatureSettings(max_candidates=100_000))
    assert label_dates <= every
    without = pairs(FeatureSettings(max_candidates=100_000, pair_label_dates=False))
    assert without == every - label_dates
    # dates learned with something else than a label stay (paid_at guards amount_paid and days_late)
    assert {"DAYS_BETWEEN(due_at, paid_at)", "DAYS_BETWEEN(action_at, promise_checked_at)"} <= without
    # a declared pair is the user's choice and stays
    declared = FeatureSettings(max_candidates=100_000, pair_label_dates=False,
                               date_pairs=[("loans.disbursed_at", "loans.default_known_at")])
    assert pairs(declared) == {"DAYS_BETWEEN(disbursed_at, default_known_at)"}


def test_days_between_unit_reaches_every_date_difference_dfs_builds(es):
    settings = FeatureSettings(max_candidates=100_000, days_between_unit="calendar_days",
                               date_pairs=[("installments.due_at", "installments.paid_at", "days_past_due"),
                                           ("bureau_accounts.opened_at", "bureau_accounts.reported_at")])
    between = {n for n in (f.get_name() for f in build_candidates(es, "applications", settings)) if "DAYS_BETWEEN(" in n}
    assert "customers.SHARE_ON_TIME(installments.DAYS_BETWEEN(due_at, paid_at, role=days_past_due, "\
           "unit=calendar_days))" in between
    assert "customers.MAX(bureau_accounts.DAYS_BETWEEN(opened_at, reported_at, unit=calendar_days))" in between
    assert all("unit=calendar_days)" in n for n in between)


def test_date_features_keep_the_candidate_count_bounded(es):
    """Default settings on the small built-in world: 2855 candidates with MONTH/WEEKDAY before dates."""
    names = build_candidates(es, "applications", FeatureSettings(max_candidates=100_000))
    assert len(names) <= 3000  # fits the default cap: the cap takes none away


def test_psi_against_validation_compares_the_training_rows_with_the_validation_rows_only(small_world):
    import numpy as np
    from creditml.features.selection._statistics import period_psi

    cfg = load_pipeline_config(PIPELINES / "credit_default.yaml",
                               ["features.max_candidates=200", "selection.psi_against_validation=true"], small_world)
    features = build_features(cfg)
    split, matrix = features.split.to_numpy(), features.matrix
    expected = period_psi(matrix.loc[split == "train"], matrix.loc[split == "validation"], cfg.selection.bins)
    assert np.array_equal(features.selector.next_psi_.to_numpy(), expected, equal_nan=True)
    with_test = period_psi(matrix.loc[split == "train"], matrix.loc[split == "test"], cfg.selection.bins)
    assert not np.array_equal(expected, with_test, equal_nan=True)  # the test rows were not the ones compared
