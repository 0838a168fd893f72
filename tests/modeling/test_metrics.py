"""Split metrics against scikit-learn and hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from creditml import stats
from creditml.modeling.metrics import (
    SplitMetrics,
    bootstrap_auc,
    evaluate,
    ks_statistic,
    psi,
    roc_auc,
)
from creditml.modeling.plots import (
    calibration_plot,
    figure_to_svg,
    lift_plot,
    roc_plot,
    score_distribution_plot,
)
from creditml.model.scorecard import ScoreScale


@pytest.fixture(scope="module")
def scored():
    """Seeded labels with informative, tied-in-places probabilities."""
    rng = np.random.default_rng(42)
    n = 2_000
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x - 2)))).astype(int)
    p = np.round(1 / (1 + np.exp(-(0.8 * x - 2))), 3)  # rounding creates ties
    return y, p


@pytest.fixture(scope="module")
def metrics(scored) -> SplitMetrics:
    return evaluate(*scored, n_bootstrap=200, seed=0)


def test_matches_sklearn(scored, metrics):
    y, p = scored
    assert metrics.n == len(y) and metrics.positives == y.sum()
    assert metrics.label_rate == pytest.approx(y.mean())
    assert metrics.auc == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    assert metrics.pr_auc == pytest.approx(average_precision_score(y, p), abs=1e-12)
    assert metrics.brier == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    assert metrics.log_loss == pytest.approx(log_loss(y, p), abs=1e-12)
    assert metrics.gini == pytest.approx(2 * metrics.auc - 1)


def test_ks_hand_example():
    # thresholds (desc): 0.9 -> tpr 1/2 fpr 0; 0.8 -> 1/2, 1/3; 0.7 -> 1, 1/3; 0.3 -> 1, 2/3; 0.1 -> 1, 1
    y = [1, 0, 1, 0, 0]
    p = [0.9, 0.8, 0.7, 0.3, 0.1]
    assert ks_statistic(y, p) == pytest.approx(2 / 3)


def test_ks_does_not_split_tied_scores():
    # One threshold at 0.5 cannot separate anything: both CDFs jump together.
    assert ks_statistic([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]) == 0.0


def test_bootstrap_interval_contains_auc_and_is_seeded(scored, metrics):
    assert metrics.auc_low < metrics.auc < metrics.auc_high
    assert bootstrap_auc(*scored, n=200, seed=0) == (metrics.auc_low, metrics.auc_high)
    assert bootstrap_auc(*scored, n=200, seed=1) != (metrics.auc_low, metrics.auc_high)


def test_bootstrap_resample_auc_matches_sklearn_on_same_indices(scored):
    y, p = scored
    idx = np.random.default_rng(5).integers(0, len(y), size=(1, len(y)))[0]  # the draw bootstrap_auc makes
    low, high = bootstrap_auc(y, p, n=1, seed=5)
    assert low == high == pytest.approx(roc_auc_score(y[idx], p[idx]), abs=1e-12)


def test_bootstrap_skips_resamples_lacking_a_class():
    low, high = bootstrap_auc([1, 0, 0], [0.9, 0.2, 0.1], n=50, seed=3)
    assert low == high == 1.0


def test_roc_auc_counts_ties_as_half():
    assert roc_auc([1, 0], [0.4, 0.4]) == 0.5


def test_ece_zero_when_every_bin_is_calibrated():
    # Bin b has 20 instances at p = (2b + 1) / 20 and exactly 2b + 1 positives.
    p = np.repeat((2 * np.arange(10) + 1) / 20, 20)
    y = np.concatenate([np.r_[np.ones(2 * b + 1), np.zeros(20 - 2 * b - 1)] for b in range(10)])
    m = evaluate(y, p, n_bootstrap=0)
    assert m.ece == pytest.approx(0.0, abs=1e-12)
    assert [b["n"] for b in m.reliability] == [20] * 10
    assert [b["observed_rate"] for b in m.reliability] == pytest.approx(list((2 * np.arange(10) + 1) / 20))


def test_ece_positive_when_miscalibrated(scored):
    y, p = scored
    assert evaluate(y, np.clip(p * 3, 0, 1), n_bootstrap=0).ece > evaluate(y, p, n_bootstrap=0).ece


def test_deciles_sum_and_gain(scored, metrics):
    y, _ = scored
    deciles = metrics.deciles
    assert [d["decile"] for d in deciles] == list(range(1, 11))
    assert sum(d["n"] for d in deciles) == metrics.n
    assert sum(d["positives"] for d in deciles) == y.sum()
    assert deciles[-1]["cumulative_gain"] == pytest.approx(1.0)
    assert deciles[-1]["cumulative_lift"] == pytest.approx(1.0)
    assert deciles[0]["rate"] > deciles[-1]["rate"]  # decile 1 is the riskiest
    assert deciles[0]["lift"] == pytest.approx(deciles[0]["rate"] / metrics.label_rate)
    assert sum(b["n"] for b in metrics.reliability) == metrics.n


def test_default_extra(metrics):
    assert metrics.extra["bad_rate_top_decile"] == metrics.deciles[0]["rate"]
    assert metrics.extra["bad_rate_bottom_half"] < metrics.label_rate


def test_fraud_extra_tiny_example():
    # 200 instances, 4 frauds; scores rank frauds at positions 1, 3, 8 and 150.
    n = 200
    p = np.linspace(0.99, 0.0, n)
    y = np.zeros(n, dtype=int)
    y[[0, 2, 7, 149]] = 1
    extra = evaluate(y, p, task_kind="fraud", n_bootstrap=0).extra
    # 1% alerts the top 2 (one fraud); 5% alerts the top 10 (three frauds).
    assert extra == pytest.approx({
        "recall_at_1pct": 1 / 4, "precision_at_1pct": 1 / 2,
        "recall_at_5pct": 3 / 4, "precision_at_5pct": 3 / 10,
    })


def test_collection_extra_tiny_example():
    # 20 instances: top decile (2 highest p) has 2 cures; 5 cures overall.
    p = np.linspace(0.95, 0.0, 20)
    y = np.zeros(20, dtype=int)
    y[[0, 1, 5, 10, 15]] = 1
    extra = evaluate(y, p, task_kind="collection", n_bootstrap=0).extra
    assert extra == pytest.approx({"cure_rate_top_decile": 1.0, "cure_rate_overall": 0.25, "top_decile_lift": 4.0})


def test_as_flat_dict(metrics):
    flat = metrics.as_flat_dict("test")
    assert flat["test_auc"] == metrics.auc and flat["test_auc_low"] == metrics.auc_low
    assert flat["test_bad_rate_top_decile"] == metrics.extra["bad_rate_top_decile"]
    assert all(isinstance(v, float) for v in flat.values())
    assert not any(k.endswith(("reliability", "deciles", "extra")) for k in flat)


def test_psi_identical_and_shifted():
    rng = np.random.default_rng(0)
    scores = rng.normal(600, 40, size=5_000)
    assert psi(scores, scores) == pytest.approx(0.0, abs=1e-12)
    assert psi(scores, scores + 40) > 0.25
    assert psi(scores, rng.normal(600, 40, size=5_000)) < 0.02


def test_psi_handles_empty_bins_and_ties():
    expected = np.r_[np.zeros(50), np.arange(50.0)]
    value = psi(expected, np.full(10, 1_000.0))
    assert np.isfinite(value) and value > 1


def test_psi_is_the_shared_statistic():
    rng = np.random.default_rng(1)
    train, test = rng.beta(2, 5, size=3_000), rng.beta(2, 4, size=800)
    assert psi(train, test) == stats.psi(train, test)
    assert psi(train, test, bins=20) == stats.psi(train, test, bins=20)


@pytest.mark.parametrize(
    ("y", "p", "kwargs", "match"),
    [
        ([0] * 120, [0.1] * 120, {}, r"AUC needs both classes; the split has 0 positives among 120 instances"),
        ([1, 1, 1], [0.1, 0.2, 0.3], {}, r"the split has 3 positives among 3 instances"),
        ([0, 1, 0], [0.1, 0.2], {}, r"y_true has 3 values but p has 2"),
        ([], [], {}, r"the split is empty \(0 instances\)"),
        ([0, 1, 2], [0.1, 0.2, 0.3], {}, r"y_true must hold only 0 and 1; found \[2\.0\]"),
        (["no", "yes"], [0.1, 0.2], {}, r"y_true must hold only 0 and 1; found \['no', 'yes'\]"),
        ([0, 1, 0], [0.1, np.nan, 1.5], {}, r"p must be probabilities in \[0, 1\]; found 1 NaN and 1 outside"),
        ([[0, 1]], [[0.1, 0.2]], {}, r"y_true must be 1-D; got shape \(1, 2\)"),
        ([0, 1], [0.1, 0.2], {"task_kind": "credit"}, r"task_kind must be one of 'default', 'fraud', 'collection'; got 'credit'"),
        ([0, 1], [0.1, 0.2], {"n_bootstrap": -1}, r"n_bootstrap must be >= 0"),
    ],
)
def test_evaluate_errors(y, p, kwargs, match):
    with pytest.raises(ValueError, match=match):
        evaluate(y, p, **kwargs)


def test_other_errors():
    with pytest.raises(ValueError, match=r"KS needs both classes; the split has 0 positives among 2"):
        ks_statistic([0, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"psi: bins must be >= 2; got 1"):
        psi([1.0, 2.0], [1.0], bins=1)
    with pytest.raises(ValueError, match=r"psi: actual holds 1 NaN/infinite scores"):
        psi([1.0, 2.0], [np.nan])
    with pytest.raises(ValueError, match=r"psi: expected must be a non-empty 1-D array"):
        psi([], [1.0])
    with pytest.raises(ValueError, match=r"bootstrap_auc: n \(number of resamples\) must be >= 1; got 0"):
        bootstrap_auc([0, 1], [0.1, 0.2], n=0, seed=0)


def test_plots_render_to_svg(scored, metrics):
    y, p = scored
    other = evaluate(y[:1000], p[:1000], n_bootstrap=0)
    by_split = {"train": metrics, "test": other}
    scores = ScoreScale().score(p)
    figures = [
        calibration_plot(by_split),
        lift_plot(by_split),
        roc_plot({"train": y, "test": y[:1000]}, {"train": p, "test": p[:1000]}),
        score_distribution_plot({"train": scores, "test": scores[:1000]}, scale=ScoreScale()),
    ]
    for fig in figures:
        svg = figure_to_svg(fig)
        assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "ECE" in figure_to_svg(calibration_plot(by_split))  # text kept as text


def test_plot_errors():
    with pytest.raises(ValueError, match=r"calibration_plot: no splits given"):
        calibration_plot({})
    with pytest.raises(ValueError, match=r"roc_plot: y_by_split and p_by_split must name the same splits"):
        roc_plot({"train": [0, 1]}, {"test": [0.1, 0.9]})
