"""Points-to-double-odds scaling and banding."""

from __future__ import annotations

import math

import numpy as np
import pytest

from creditml.model.scorecard import ScoreScale


def test_base_odds_score_base_points():
    scale = ScoreScale(base_score=600, base_odds=50, pdo=20)
    assert scale.score(1 / 51) == pytest.approx(600.0)  # odds good:bad = 50
    assert scale.factor == pytest.approx(20 / math.log(2))
    assert scale.offset == pytest.approx(600 - scale.factor * math.log(50))


def test_doubling_odds_adds_pdo():
    scale = ScoreScale(pdo=20)
    odds = np.array([1.0, 5.0, 50.0, 300.0])
    s1 = scale.score(1 / (1 + odds))
    s2 = scale.score(1 / (1 + 2 * odds))
    np.testing.assert_allclose(s2 - s1, 20.0)


def test_round_trip():
    scale = ScoreScale(base_score=500, base_odds=20, pdo=40)
    p = np.array([0.001, 0.02, 0.1, 0.5, 0.9, 0.999])
    np.testing.assert_allclose(scale.probability(scale.score(p)), p, rtol=1e-10)
    scores = np.array([200.0, 450.0, 700.0])
    np.testing.assert_allclose(scale.score(scale.probability(scores)), scores)


def test_higher_risk_lower_score_and_clipping():
    scale = ScoreScale()
    s = scale.score([0.0, 0.01, 0.5, 1.0])
    assert np.all(np.isfinite(s)) and np.all(np.diff(s) < 0)
    assert s[0] == pytest.approx(scale.score(1e-6))


def test_extreme_scores_do_not_overflow():
    with np.errstate(over="raise"):
        p = ScoreScale().probability([-1e6, 1e6])
    np.testing.assert_allclose(p, [1.0, 0.0])


def test_band_edges():
    scale = ScoreScale()
    scores = [1000, 680, 679.999, 640, 639.9, 600, 599.9, 560, 559.9, -1e9]
    assert scale.band(scores).tolist() == ["A", "A", "B", "B", "C", "C", "D", "D", "E", "E"]


def test_custom_bands_from_lists():
    scale = ScoreScale(bands=[[700, "low"], [-math.inf, "high"]])
    assert scale.band([700, 699]).tolist() == ["low", "high"]
    assert scale.bands == ((700.0, "low"), (-math.inf, "high"))


def test_last_band_takes_scores_below_its_bound():
    scale = ScoreScale(bands=((600, "A"), (560, "B")))
    assert scale.band([600, 560, 100]).tolist() == ["A", "B", "B"]


def test_from_settings_orders_bands_by_bound():
    from creditml.config import ScoringSettings

    settings = ScoringSettings(base_score=500, base_odds=20, pdo=40, bands={"low": -1e9, "high": 520, "mid": 480})
    scale = ScoreScale.from_settings(settings)
    assert (scale.base_score, scale.base_odds, scale.pdo) == (500, 20, 40)
    assert scale.bands == ((520.0, "high"), (480.0, "mid"), (-1e9, "low"))
    assert scale.band([530, 500, -2e9]).tolist() == ["high", "mid", "low"]
    assert ScoreScale.from_settings(ScoringSettings()) == ScoreScale(bands=(
        (680, "A"), (640, "B"), (600, "C"), (560, "D"), (-1e9, "E")))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pdo": 0}, r"ScoreScale.pdo \(points to double the odds\) must be positive; got 0"),
        ({"base_odds": -1}, r"ScoreScale.base_odds must be a positive"),
        ({"bands": ()}, r"ScoreScale.bands is empty"),
        ({"bands": ((600, "A"), (640, "B"), (-math.inf, "C"))}, r"lower bounds must strictly decrease"),
        ({"bands": ((600, "A"), (-math.inf, "A"))}, r"labels must be unique"),
    ],
)
def test_invalid_scale(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ScoreScale(**kwargs)


def test_invalid_inputs():
    with pytest.raises(ValueError, match=r"ScoreScale.score: p must be probabilities in \[0, 1\]; found 2 NaN"):
        ScoreScale().score([np.nan, 1.5, 0.2])
    with pytest.raises(ValueError, match=r"ScoreScale.band: found 1 NaN scores"):
        ScoreScale().band([600, np.nan])
