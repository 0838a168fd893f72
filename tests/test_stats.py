"""The shared statistics: AUC against scikit-learn and hand counts, PSI against hand-computed tables."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

from creditml import stats
from creditml.stats import auc_from_counts, auc_from_ranks, psi, psi_from_counts, reference_edges


def _psi_by_hand(expected_counts, actual_counts) -> float:
    """The textbook sum over occupied bins, shares smoothed by 0.5 pseudo-counts."""
    pairs = [(e, a) for e, a in zip(expected_counts, actual_counts) if e + a > 0]
    e_total = sum(e + 0.5 for e, _ in pairs)
    a_total = sum(a + 0.5 for _, a in pairs)
    total = 0.0
    for e, a in pairs:
        e_share, a_share = (e + 0.5) / e_total, (a + 0.5) / a_total
        total += (a_share - e_share) * math.log(a_share / e_share)
    return total


# --------------------------------------------------------------------------------- AUC


def test_auc_from_ranks_matches_sklearn_with_ties_and_per_column():
    rng = np.random.default_rng(3)
    y = (rng.random(500) < 0.3).astype(int)
    scores = np.round(rng.normal(size=(500, 3)) + y[:, None] * [0.0, 0.5, 2.0], 1)  # rounding ties
    ranks = np.column_stack([rankdata(scores[:, j]) for j in range(3)])
    per_column = auc_from_ranks(ranks, y)
    assert per_column == pytest.approx([roc_auc_score(y, scores[:, j]) for j in range(3)], abs=1e-12)
    assert auc_from_ranks(ranks[:, 2], y) == per_column[2]


def test_auc_from_ranks_small_example_by_hand():
    # scores 0.1, 0.4, 0.4, 0.8 with labels 0, 0, 1, 1: pairs (pos, neg) = 4, of which
    # 0.4 vs 0.1, 0.8 vs 0.1, 0.8 vs 0.4 are won and 0.4 vs 0.4 is a tie: 3.5 / 4
    assert auc_from_ranks(rankdata([0.1, 0.4, 0.4, 0.8]), [0, 0, 1, 1]) == 0.875


def test_auc_from_counts_by_hand_and_against_sklearn():
    # groups in ascending score: (positives, negatives) = (0, 2), (1, 1), (1, 0)
    # the positive of group 2 beats 2 negatives and ties 1; the one of group 3 beats all 3
    assert auc_from_counts(np.array([0.0, 1, 1]), np.array([2.0, 1, 0])) == pytest.approx(5.5 / 6)
    rng = np.random.default_rng(0)
    positives = rng.integers(0, 20, size=(4, 6)).astype(float)
    negatives = rng.integers(0, 20, size=(4, 6)).astype(float)
    for row in range(4):
        labels = np.repeat([1, 0] * 6, np.ravel(np.column_stack([positives[row], negatives[row]])).astype(int))
        group = np.repeat(np.repeat(np.arange(6), 2), np.ravel(np.column_stack([positives[row], negatives[row]]))
                          .astype(int))
        assert auc_from_counts(positives, negatives)[row] == pytest.approx(roc_auc_score(labels, group), abs=1e-12)


def test_auc_from_counts_gives_nan_without_a_class_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = auc_from_counts(np.array([[0.0, 0.0], [1.0, 2.0]]), np.array([[3.0, 1.0], [0.0, 0.0]]))
    assert np.isnan(out).all()


# --------------------------------------------------------------------------------- PSI


def test_psi_from_counts_by_hand():
    expected, actual = [10, 0, 30], [20, 10, 10]
    # e = (10.5, 0.5, 30.5) / 41.5, a = (20.5, 10.5, 10.5) / 41.5
    e = np.array([10.5, 0.5, 30.5]) / 41.5
    a = np.array([20.5, 10.5, 10.5]) / 41.5
    by_hand = float(np.sum((a - e) * np.log(a / e)))
    assert psi_from_counts(np.array(expected), np.array(actual)) == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(_psi_by_hand(expected, actual), rel=1e-12)


def test_psi_from_counts_drops_bins_empty_in_both_is_symmetric_and_zero_on_equal_tables():
    base = psi_from_counts(np.array([10, 0, 30]), np.array([20, 10, 10]))
    assert psi_from_counts(np.array([10, 0, 0, 30]), np.array([20, 10, 0, 10])) == base
    assert psi_from_counts(np.array([20, 10, 10]), np.array([10, 0, 30])) == pytest.approx(base, rel=1e-12)
    assert psi_from_counts(np.array([[5, 7, 0]]), np.array([[5, 7, 0]])).tolist() == [0.0]


def test_psi_from_counts_rejects_different_bins():
    with pytest.raises(ValueError, match=r"psi_from_counts: expected and actual must count the same bins; "
                                         r"found shapes \(3,\) and \(2,\)"):
        psi_from_counts(np.array([1, 2, 3]), np.array([1, 2]))


def test_psi_bins_numeric_values_by_reference_quantiles():
    reference = np.arange(10.0)  # the median 4.5 splits it 5 / 5 with bins=2
    current = [1.0, 2.0, 8.0, 9.0, 9.0, 100.0]  # 2 below 4.5, 4 above (100 in the top bin)
    assert reference_edges(reference, 2).tolist() == [4.5]
    assert psi(reference, current, bins=2) == pytest.approx(_psi_by_hand([5, 5], [2, 4]), rel=1e-12)


def test_psi_is_zero_for_the_same_values_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    scores = rng.normal(600, 40, size=5_000)
    assert psi(scores, scores) == 0.0
    assert psi(scores, scores + 4) < psi(scores, scores + 20) < psi(scores, scores + 40)
    assert psi(scores, scores + 40) > 0.25


def test_psi_puts_values_below_the_reference_minimum_in_the_first_bin():
    # 60% of the reference at its minimum 0: the quantiles at 0 are no edge, so a bin
    # below 0 (which the reference never occupies) does not exist
    reference = np.r_[np.zeros(60), np.arange(1.0, 41.0)]
    assert reference_edges(reference, 10).min() > 0
    shifted_down = np.r_[-np.ones(1), np.zeros(59), np.arange(1.0, 41.0)]
    assert psi(reference, shifted_down) == 0.0


def test_psi_keeps_missing_values_apart():
    reference = pd.Series(np.arange(100.0))
    current = pd.Series(np.r_[np.arange(90.0), [np.nan] * 10])  # 10 values missing, none in the top decile
    by_hand = _psi_by_hand([10] * 10 + [0], [10] * 9 + [0, 10])
    assert psi(reference, current) == pytest.approx(by_hand, rel=1e-12)
    assert psi(reference, pd.Series(["x", None, "7"]).astype(object)) == pytest.approx(
        _psi_by_hand([10] * 10 + [0], [1] + [0] * 9 + [2]), rel=1e-12)  # non-numbers count as missing


def test_psi_bins_other_values_by_level_with_missing_as_a_level():
    by_hand = _psi_by_hand([200, 100], [100, 200])
    assert psi(list("aab") * 100, list("abb") * 100) == pytest.approx(by_hand, rel=1e-12)
    reference = pd.Series(["a"] * 290 + [None] * 10)
    current = pd.Series(["a"] * 280 + ["b"] * 20)  # a new level, no missing values
    assert psi(reference, current) == pytest.approx(_psi_by_hand([290, 10, 0], [280, 0, 20]), rel=1e-12)
    flags = pd.Series([True, False, True, True])  # booleans are levels, not numbers
    assert psi(flags, flags) == 0.0
    assert psi(pd.Categorical(list("ab")), pd.Categorical(list("bb"))) == pytest.approx(
        _psi_by_hand([1, 1], [0, 2]), rel=1e-12)


@pytest.mark.parametrize(("reference", "current", "bins", "match"), [
    ([1.0, 2.0], [1.0], 1, r"psi: bins must be >= 2; got 1 \(10 gives deciles of the reference\)"),
    ([1.0, 2.0], [1.0], 2.5, r"psi: bins must be >= 2; got 2.5"),
    ([], [1.0], 10, r"psi: reference holds no values; PSI compares two non-empty samples"),
    ([1.0], pd.Series([], dtype=float), 10, r"psi: current holds no values"),
    ([[1.0, 2.0]], [1.0], 10, r"psi: reference must be one-dimensional; got shape \(1, 2\)"),
])
def test_psi_errors(reference, current, bins, match):
    with pytest.raises(ValueError, match=match):
        psi(reference, current, bins=bins)


def test_stats_imports_no_other_creditml_module():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(stats.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "numpy", "pandas", "scipy"}, imported
