"""The challenger-against-champion maths on cases small enough to check by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from creditml.explain.compare import (compare_models, delong_difference, feature_overlap,
                                      paired_bootstrap_difference, swap_set)
from creditml.model.scorecard import ScoreScale
from creditml.modeling.metrics import psi, roc_auc

# 3 positives, 2 negatives. Model a: V10 = [1, 1, 1/2] (AUC 5/6), V01 = [2/3, 1].
# Model b: V10 = [1, 0, 1/2] (AUC 1/2), V01 = [1/3, 2/3].
# D10 = [0, 1, 0/2 -> 0], s² = 1/3, /m -> 1/9; D01 = [1/3, 1/3], s² = 0.
# Var = 1/9, se = 1/3, difference 1/3, z = 1, p = 2·Φ(−1) = 0.317311.
HAND_Y = [1, 1, 1, 0, 0]
HAND_A = [0.9, 0.5, 0.3, 0.4, 0.1]
HAND_B = [0.8, 0.2, 0.6, 0.7, 0.3]


def naive_delong(y, a, b):
    """DeLong from the definition: the Mann-Whitney kernel over every (positive, negative) pair."""
    y = np.asarray(y)
    comps = []
    for p in (np.asarray(a), np.asarray(b)):
        x, z = p[y == 1], p[y == 0]
        kernel = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
        comps.append((kernel.mean(axis=1), kernel.mean(axis=0), kernel.mean()))
    d10, d01 = comps[0][0] - comps[1][0], comps[0][1] - comps[1][1]
    var = d10.var(ddof=1) / len(d10) + d01.var(ddof=1) / len(d01)
    return comps[0][2] - comps[1][2], math.sqrt(var)


def test_delong_matches_the_hand_computed_case():
    out = delong_difference(HAND_Y, HAND_A, HAND_B)
    assert out["auc_a"] == pytest.approx(5 / 6) and out["auc_b"] == pytest.approx(1 / 2)
    assert out["difference"] == pytest.approx(1 / 3)
    assert out["se"] == pytest.approx(1 / 3)
    assert out["z"] == pytest.approx(1.0)
    assert out["p_value"] == pytest.approx(0.3173105, abs=1e-6)


def test_delong_equals_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(3)
    y = rng.random(400) < 0.2
    a = np.round((rng.random(400) + 0.3 * y) / 1.3, 1)  # rounded: many ties within and across classes
    b = np.round(0.5 * a + rng.random(400) * 0.5, 2)
    fast = delong_difference(y, a, b)
    diff, se = naive_delong(y, a, b)
    assert fast["difference"] == pytest.approx(diff, abs=1e-12)
    assert fast["se"] == pytest.approx(se, rel=1e-9)
    assert fast["auc_a"] == pytest.approx(roc_auc(y, a), abs=1e-12)


def test_delong_standard_error_agrees_with_the_paired_bootstrap():
    rng = np.random.default_rng(11)
    n = 3000
    y = (rng.random(n) < 0.15).astype(int)
    signal = rng.normal(size=n) + 1.0 * y
    a = 1 / (1 + np.exp(-(signal + rng.normal(scale=0.5, size=n))))
    b = 1 / (1 + np.exp(-(signal + rng.normal(scale=1.0, size=n))))
    out = delong_difference(y, a, b)
    low, high = paired_bootstrap_difference(y, a, b, 2000, seed=0)
    # a percentile interval is about ±1.96 se wide: the two widths agree within 10%
    assert (high - low) / (2 * 1.959964 * out["se"]) == pytest.approx(1.0, abs=0.1)
    assert low < out["difference"] < high


def test_identical_models_differ_by_zero_with_an_interval_holding_zero():
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.3).astype(int)
    p = np.clip(0.3 * y + rng.random(500) * 0.7, 0, 1)
    result = compare_models(y, p, p.copy(), n_bootstrap=200)
    d = result.auc_difference
    assert d.difference == 0 and d.se == 0 and d.p_value == 1.0
    assert d.low <= 0 <= d.high and d.bootstrap_low <= 0 <= d.bootstrap_high
    assert not d.significant
    assert result.swap.swap_in == result.swap.swap_out == 0
    assert result.shift.mean == 0 and result.shift.mean_abs == 0
    assert result.psi == pytest.approx(0.0, abs=1e-12)
    assert result.candidate.auc == result.champion.auc


def test_a_monotone_transform_has_the_same_auc_but_a_shift():
    rng = np.random.default_rng(1)
    y = (rng.random(300) < 0.3).astype(int)
    p = np.clip(0.2 * y + rng.random(300) * 0.8, 0.01, 0.99)
    result = compare_models(y, p ** 2, p, n_bootstrap=0)
    assert result.auc_difference.difference == pytest.approx(0.0, abs=1e-12)
    assert result.shift.mean < 0 and math.isnan(result.auc_difference.bootstrap_low)
    assert result.swap.swap_in == 0  # the same ordering approves the same people


def test_swap_set_counts_by_hand():
    # risk order candidate: 0,1,2,3,4,5 ; champion: 5,4,0,1,2,3. 50% approval: k = 3.
    # candidate approves {0,1,2}; champion approves {5,4,0}: swap-ins {1,2}, swap-outs {4,5}, both {0}, neither {3}
    bad = np.array([0, 1, 0, 1, 0, 1])
    risk_a = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    risk_b = np.array([0.3, 0.4, 0.5, 0.6, 0.2, 0.1])
    s = swap_set(bad, risk_a, risk_b, 0.5)
    assert (s.approved, s.both_approved, s.both_declined, s.swap_in, s.swap_out) == (3, 1, 1, 2, 2)
    assert s.swap_in_bad_rate == pytest.approx(0.5)  # instances 1 (bad) and 2 (good)
    assert s.swap_out_bad_rate == pytest.approx(0.5)  # instances 4 (good) and 5 (bad)
    assert s.candidate_approved_bad_rate == pytest.approx(1 / 3)
    assert s.champion_approved_bad_rate == pytest.approx(1 / 3)


def test_swap_set_of_a_good_label_counts_label_zero_as_bad():
    # cure model: p = chance of cure; risk = 1 - p; bad = not cured
    y = np.array([1, 1, 0, 0])
    p_a = np.array([0.9, 0.8, 0.2, 0.1])  # approves 0, 1 (both cured)
    p_b = np.array([0.2, 0.9, 0.8, 0.1])  # approves 1, 2
    result = compare_models(y, p_a, p_b, approval_rate=0.5, label_is_good=True, n_bootstrap=0)
    assert (result.swap.swap_in, result.swap.swap_out) == (1, 1)
    assert result.swap.swap_in_bad_rate == 0.0 and result.swap.swap_out_bad_rate == 1.0


def test_psi_and_points_shift_use_the_shared_functions():
    rng = np.random.default_rng(5)
    y = (rng.random(1000) < 0.2).astype(int)
    a = rng.uniform(0.05, 0.5, 1000)
    b = rng.uniform(0.05, 0.3, 1000)
    scale = ScoreScale()
    result = compare_models(y, a, b, scale=scale, n_bootstrap=0)
    assert result.psi == pytest.approx(psi(b, a))
    assert result.shift_points.unit == "points"
    assert result.shift_points.mean == pytest.approx(float(np.mean(scale.score(a) - scale.score(b))))
    assert result.shift_points.mean < 0  # the candidate predicts more risk: fewer points


def test_feature_overlap_and_rank_changes():
    cand = ["a", "b", "c", "d"]
    champ = ["b", "a", "e"]
    imp_a = pd.Series({"a": 0.1, "b": 0.5, "c": 0.9, "d": 0.05})  # ranks c1 b2 a3 d4
    imp_b = pd.Series({"b": 0.2, "a": 0.8, "e": 0.4})  # ranks a1 e2 b3
    o = feature_overlap(cand, champ, imp_a, imp_b)
    assert o.shared == ["a", "b"] and o.only_candidate == ["c", "d"] and o.only_champion == ["e"]
    rows = {r.feature: (r.candidate_rank, r.champion_rank, r.change) for r in o.rank_changes}
    assert rows == {"a": (3, 1, -2), "b": (2, 3, 1), "c": (1, None, None), "d": (4, None, None),
                    "e": (None, 2, None)}
    # absent counts as ranked last by the other model (champion: 4th, candidate: 5th):
    # c |4 - 1| = 3, a 2, e |2 - 5| = 3, b 1, d |4 - 4| = 0; ties by the better rank
    assert [r.feature for r in o.rank_changes] == ["c", "e", "a", "b", "d"]


def test_errors_say_what_was_expected_and_found():
    with pytest.raises(ValueError, match=r"must be 1-D and of one length .*got shapes \(3,\), \(3,\), \(2,\)"):
        compare_models([0, 1, 0], [0.1, 0.2, 0.3], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"the champion's probabilities must be in \[0, 1\]; 1 of 3 are NaN"):
        compare_models([0, 1, 0], [0.1, 0.2, 0.3], [0.1, np.nan, 0.3])
    with pytest.raises(ValueError, match=r"AUC needs both classes; the shared instances hold 0 positives among 3"):
        compare_models([0, 0, 0], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"approval_rate must be in \(0, 1\).*got 1.5"):
        compare_models(HAND_Y, HAND_A, HAND_B, approval_rate=1.5)
    with pytest.raises(ValueError, match=r"at least 2 positives and 2 negatives; found 1 positives and 2 negatives"):
        delong_difference([1, 0, 0], [0.5, 0.2, 0.1], [0.5, 0.2, 0.1])
