"""Each selection rule is triggered by one crafted column and explained in the report."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from creditml.config import SelectionSettings
from creditml.features.selection import REPORT_COLUMNS, FeatureSelector

N = 4000


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(7)
    time = pd.Series(pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 730, N), unit="D"))
    late = (time > time.median()).to_numpy()
    z, w = rng.normal(size=N), rng.normal(size=N)
    y = pd.Series((z + 0.7 * w + rng.normal(size=N) > 0.8).astype(int))
    moderate = pd.array(np.round(w * 100).astype("int64"), dtype="Int64")
    moderate[rng.random(N) < 0.1] = pd.NA
    X = pd.DataFrame({
        "strong": z,
        "all_null": np.full(N, np.nan),
        "mostly_null": np.where(rng.random(N) < 0.97, np.nan, z),
        "constant": np.full(N, 7.0),
        "strong_again": z.copy(),
        "leak": y + rng.normal(scale=0.01, size=N),
        "noise": rng.integers(0, 3, N).astype(float),
        "shifting": 0.5 * z + 3.0 * late,
        "strong_copy": z + rng.normal(scale=0.2, size=N),
        "region": pd.Categorical(np.where(z + rng.normal(size=N) > 0, "north", "south")),
        "moderate": moderate,
        "has_phone": pd.array(w + rng.normal(size=N) > 0, dtype="boolean"),
        "birth_date": pd.Timestamp("1980-01-01") + pd.to_timedelta(rng.integers(0, 9000, N), unit="D"),
    })
    return X, y, time


@pytest.fixture(scope="module")
def fitted(world) -> FeatureSelector:
    X, y, time = world
    return FeatureSelector(min_iv=0.01).fit(X, y, time)


def test_each_column_gets_the_reason_it_was_crafted_for(fitted):
    reasons = dict(zip(fitted.report_["feature"], fitted.report_["reason"]))
    assert reasons == {
        "strong": "kept",
        "all_null": "mostly_null",
        "mostly_null": "mostly_null",
        "constant": "constant",
        "strong_again": "duplicate",
        "leak": "suspected_leakage",
        "noise": "low_iv",
        "shifting": "unstable",
        "strong_copy": "correlated",
        "region": "kept",
        "moderate": "kept",
        "has_phone": "kept",
        "birth_date": "unsupported_type",
    }


def test_report_has_one_row_per_candidate_with_the_deciding_value(fitted, world):
    report = fitted.report_.set_index("feature")
    assert list(fitted.report_.columns) == REPORT_COLUMNS
    assert list(report.index) == list(world[0].columns)
    assert report.loc["all_null", "statistic"] == 1.0
    assert report.loc["all_null", "detail"].startswith("all values are missing")
    assert report.loc["mostly_null", "statistic"] == pytest.approx(0.97, abs=0.01)
    assert report.loc["constant", "statistic"] == 1
    assert report.loc["leak", "statistic"] >= 0.98
    assert report.loc["noise", "statistic"] == report.loc["noise", "iv"] < 0.01
    assert report.loc["shifting", "statistic"] == report.loc["shifting", "psi"] > 0.25
    assert report.loc["strong_copy", "statistic"] > 0.95
    assert np.isnan(report.loc["birth_date", "iv"])


def test_details_name_the_partner_column(fitted):
    detail = fitted.report_.set_index("feature")["detail"]
    assert detail["strong_again"] == "identical values to 'strong'"
    assert detail["strong_copy"].startswith("correlation 0.9")
    assert "with 'strong', which has higher IV" in detail["strong_copy"]
    assert "datetime64" in detail["birth_date"]


def test_leaking_columns_are_flagged_for_the_gate(fitted):
    assert fitted.leakage_flags_ == ["leak"]


def test_transform_returns_kept_columns_in_input_order(fitted, world):
    X = world[0]
    assert fitted.selected_ == ["strong", "region", "moderate", "has_phone"]
    out = fitted.transform(X)
    assert list(out.columns) == fitted.selected_
    pd.testing.assert_frame_equal(out, X[fitted.selected_])
    assert list(fitted.get_feature_names_out()) == fitted.selected_


def test_transform_on_new_data_does_not_refit(world):
    X, y, time = world
    selector = FeatureSelector(min_iv=0.01).fit(X, y, time)
    report = selector.report_.copy()
    shifted = X.iloc[:50].copy()
    shifted["strong"] = 0.0  # would be constant if transform refitted
    shifted["extra"] = 1
    out = selector.transform(shifted)
    assert list(out.columns) == ["strong", "region", "moderate", "has_phone"]
    assert (out["strong"] == 0.0).all()
    pd.testing.assert_frame_equal(selector.report_, report)


def test_transform_names_missing_columns(fitted, world):
    with pytest.raises(ValueError, match=r"X lacks 1 selected feature\(s\) seen in fit, e.g. \['region'\]"):
        fitted.transform(world[0].drop(columns="region"))


def test_report_is_deterministic(world, fitted):
    again = FeatureSelector(min_iv=0.01).fit(*world)
    pd.testing.assert_frame_equal(again.report_, fitted.report_)


def test_over_limit_keeps_the_top_features_by_iv(world):
    selector = FeatureSelector(min_iv=0.01, max_selected=1).fit(*world)
    report = selector.report_.set_index("feature")
    assert selector.selected_ == ["strong"]
    assert set(report.index[report["reason"] == "over_limit"]) == {"region", "moderate", "has_phone"}
    assert report.loc["moderate", "detail"].endswith("only the top 1 are kept")


def test_information_value_matches_a_hand_computation():
    # bins=2 splits 1..8 into {1..4} and {5..8}; the two NaN rows form a missing bin
    X = pd.DataFrame({
        "x": [1, 2, 3, 4, 5, 6, 7, 8, np.nan, np.nan],
        "grade": ["a", "a", "a", "a", "b", "b", "b", "b", None, None],
    })
    y = pd.Series([0, 0, 0, 1, 0, 1, 1, 1, 1, 1])
    selector = FeatureSelector(bins=2, min_iv=0, leakage_auc=1.0).fit(X, y, pd.Series(range(10)))
    # counts per bin (events, non-events): (1, 3), (3, 1), (2, 0); 0.5 added to each
    events = [1.5 / 7.5, 3.5 / 7.5, 2.5 / 7.5]
    non_events = [3.5 / 5.5, 1.5 / 5.5, 0.5 / 5.5]
    expected = sum((g - e) * math.log(g / e) for e, g in zip(events, non_events))
    assert selector.iv_["x"] == pytest.approx(expected, rel=1e-12)
    assert selector.iv_["grade"] == pytest.approx(expected, rel=1e-12)


def test_from_settings_stores_the_settings_unchanged():
    settings = SelectionSettings(max_selected=50, bins=5)
    selector = FeatureSelector.from_settings(settings)
    assert selector.get_params() == settings.model_dump()


@pytest.mark.parametrize(
    ("y", "time", "message"),
    [
        ([0, 1, 2, 3] * 3, range(12), r"y must hold 0 and 1 only; found values \[2, 3\]"),
        ([0] * 12, range(12), r"y must hold both classes 0 and 1; found only \[0\]"),
        ([0, 1] * 5 + [None, 1], range(12), r"y must hold 0 and 1 only; found 1 missing value"),
        ([0, 1] * 5, range(12), r"same number of rows; found 12, 10 and 12"),
        ([0, 1] * 6, [None] + list(range(11)), r"time must give every row's cutoff time; found 1 missing"),
    ],
)
def test_bad_inputs_raise_with_what_was_expected_and_found(y, time, message):
    X = pd.DataFrame({"x": np.arange(12.0)})
    with pytest.raises(ValueError, match=message):
        FeatureSelector().fit(X, pd.Series(y), pd.Series(time))


def test_bad_parameter_is_named():
    X, y = pd.DataFrame({"x": np.arange(4.0)}), pd.Series([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"invalid parameter\(s\): max_null_share: .* \(got 1.5\)"):
        FeatureSelector(max_null_share=1.5).fit(X, y, pd.Series(range(4)))


def test_odd_column_types_are_handled():
    X = pd.DataFrame({
        "dates_as_objects": pd.Series([pd.Timestamp("2020-01-01")] * 6, dtype=object),
        "lists": pd.Series([[1], [2], [1], [2], [1], [2]]),
        "empty_text": pd.Series([None] * 6, dtype=object),
        "text": pd.Series(["a", "b", "a", "b", "a", "b"], dtype="string"),
        "text_copy": ["a", "b", "a", "b", "a", "b"],
    })
    selector = FeatureSelector(min_iv=0, max_psi=10, leakage_auc=1.0)
    selector.fit(X, pd.Series([0, 1, 0, 1, 1, 0]), pd.Series(range(6)))
    assert selector.report_["reason"].tolist() == [
        "unsupported_type", "unsupported_type", "mostly_null", "kept", "duplicate",
    ]


def test_the_stability_rule_needs_a_minimum_sample_before_it_drops_anything(world):
    X, y, time = world
    few = slice(0, 250)  # a small portfolio, under selection.min_stability_rows
    small = FeatureSelector(min_iv=0.01).fit(X.iloc[few], y.iloc[few], time.iloc[few])
    report = small.report_.set_index("feature")
    assert report.loc["shifting", "reason"] != "unstable"
    assert report.loc["shifting", "psi"] > 0.25  # still measured and reported
    strict = FeatureSelector(min_iv=0.01, min_stability_rows=250).fit(X.iloc[few], y.iloc[few], time.iloc[few])
    assert strict.report_.set_index("feature").loc["shifting", "reason"] == "unstable"


def test_the_stability_limit_rises_with_sampling_noise_on_small_samples():
    from creditml.features.selection._rules import psi_noise_limit

    assert psi_noise_limit(314, 10) == pytest.approx(0.3553, abs=1e-3)  # chi2(9) 99.9% = 27.88, x 2 / 157
    assert psi_noise_limit(20_000, 10) < 0.01  # a portfolio of any size: max_psi decides


def test_with_psi_against_validation_a_column_that_moves_in_the_next_period_is_dropped(world):
    """Stable over the training rows, moved in the validation period: dropped only when asked, with the PSI."""
    X, y, time = world
    rng = np.random.default_rng(11)
    nxt = X.sample(1500, random_state=3).reset_index(drop=True)
    nxt["strong"] = nxt["strong"] + 1.5  # moved in the next period; the other columns keep their distribution
    nxt["region"] = pd.Categorical(np.where(rng.random(len(nxt)) < 0.5, "north", "west"))  # a new category
    plain = FeatureSelector(min_iv=0.01).fit(X, y, time, X_next=nxt).report_.set_index("feature")
    assert plain.loc["strong", "reason"] == "kept"  # off by default: X_next is not looked at
    checked = FeatureSelector(min_iv=0.01, psi_against_validation=True).fit(X, y, time, X_next=nxt)
    report = checked.report_.set_index("feature")
    assert report.loc["strong", "reason"] == "unstable"
    assert report.loc["strong", "statistic"] > 0.25
    assert re.fullmatch(r"PSI \d+\.\d{3} > 0\.250 between the training rows and the validation period's rows",
                        report.loc["strong", "detail"])
    assert report.loc["region", "reason"] == "unstable"  # half its rows in a category training never saw
    assert report.loc["moderate", "reason"] == "kept" and report.loc["has_phone", "reason"] == "kept"
    # the halves rule still decides first, with its own text
    assert report.loc["shifting", "detail"].endswith("between the early and late halves of the training rows by time")


def test_psi_against_validation_without_the_next_period_is_refused(world):
    X, y, time = world
    with pytest.raises(ValueError, match=r"psi_against_validation needs X_next: the next period's rows with X's "
                                         r"columns"):
        FeatureSelector(psi_against_validation=True).fit(X, y, time)
