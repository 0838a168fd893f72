"""Stability by month and segment: the figures, the intervals and exactly when a group is flagged."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from creditml.explain.stability import Figure, flag, stability, wilson_interval
from creditml.modeling.metrics import roc_auc


def world(n: int = 3000, seed: int = 0):
    """Three months; in March the model is blind (probabilities are noise) and the bad rate doubles."""
    rng = np.random.default_rng(seed)
    month = rng.choice(["2023-01-15", "2023-02-15", "2023-03-15"], n)
    march = month == "2023-03-15"
    y = (rng.random(n) < np.where(march, 0.3, 0.15)).astype(int)
    p = np.where(march, rng.random(n), np.clip(0.1 + 0.5 * y + rng.normal(0, 0.2, n), 0, 1))
    channel = np.where(rng.random(n) < 0.5, "web", "branch")
    channel[:30], channel[30:60] = "phone", "post"  # values too small to stand alone, 60 together
    return y, p, pd.to_datetime(pd.Series(month)), pd.DataFrame({"applications.channel": channel})


def test_flag_rule_needs_both_conditions():
    overall = Figure(0.70, 0.68, 0.72)
    assert flag(0.60, 0.55, 0.65, overall) == "below"  # outside, and its interval excludes 0.70
    assert flag(0.60, 0.45, 0.75, overall) == ""  # outside, but its interval holds 0.70: noise
    assert flag(0.80, 0.75, 0.85, overall) == "above"
    assert flag(0.71, 0.705, 0.715, overall) == ""  # inside the overall interval


def test_wilson_interval_reference_values():
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(1.959964 ** 2 / (10 + 1.959964 ** 2))  # 0.2775
    assert wilson_interval(5, 10) == pytest.approx((0.236593, 0.763407), abs=1e-6)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_the_blind_month_is_flagged_and_the_others_are_not():
    y, p, times, segments = world()
    result = stability(y, p, times, segments, n_bootstrap=200)
    months = {r.group: r for r in result.tables[0].rows}
    assert list(months) == ["2023-01", "2023-02", "2023-03"]
    assert months["2023-03"].auc.flag == "below" and months["2023-03"].rate.flag == "above"
    # the blind month drags the overall AUC down, so the two sound months stand out above it
    assert months["2023-01"].auc.flag == months["2023-02"].auc.flag == "above"
    march = times.dt.month.to_numpy() == 3
    assert months["2023-03"].auc.value == pytest.approx(roc_auc(y[march], p[march]))
    assert months["2023-03"].rate.value == pytest.approx(y[march].mean())
    assert months["2023-03"].n == march.sum() and months["2023-03"].positives == y[march].sum()
    assert result.tables[0].flagged == 3


def test_a_homogeneous_window_flags_nothing():
    rng = np.random.default_rng(4)
    n = 4000
    y = (rng.random(n) < 0.2).astype(int)
    p = np.clip(0.1 + 0.4 * y + rng.normal(0, 0.25, n), 0, 1)
    times = pd.Series(pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 180, n), unit="D"))
    result = stability(y, p, times, n_bootstrap=200)
    assert len(result.tables[0].rows) == 6 and result.tables[0].flagged == 0
    overall = result.overall
    assert overall.n == len(y) and overall.rate.low < overall.rate.value < overall.rate.high


def test_small_segment_values_are_pooled_and_never_flagged():
    y, p, times, segments = world()
    result = stability(y, p, times, segments, n_bootstrap=100, min_group=50)
    rows = {r.group: r for r in result.tables[1].rows}
    assert result.tables[1].by == "applications.channel"
    assert set(rows) == {"web", "branch", "other (2 smaller values)"}
    other = rows["other (2 smaller values)"]
    assert other.n == 60 and other.pooled == 2
    assert other.rate.flag == "" and other.auc.flag in ("", "too small") and not other.flagged


def test_a_group_lacking_a_class_is_too_small_for_an_auc():
    y = np.array([0] * 60 + [1] * 60)
    p = np.linspace(0, 1, 120)
    times = pd.Series(pd.to_datetime(["2023-01-01"] * 60 + ["2023-02-01"] * 60))
    result = stability(y, p, times, n_bootstrap=50)
    jan = result.tables[0].rows[0]
    assert jan.auc.flag == "too small" and math.isnan(jan.auc.value) and jan.rate.value == 0.0


def test_mismatched_lengths_name_each_input():
    with pytest.raises(ValueError, match=r"labels \(3\), probabilities \(2\), cutoff times \(3\) must describe the "
                                         r"same instances"):
        stability([0, 1, 0], [0.1, 0.2], pd.Series(pd.to_datetime(["2023-01-01"] * 3)))
