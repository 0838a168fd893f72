"""The report's "Challenger against champion" and "Stability over time and segments" sections."""

from __future__ import annotations

import dataclasses
from html import unescape

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from creditml.explain.compare import ChampionInputs, compare_models
from creditml.explain.report import build_report
from creditml.model.frame import model_frame
from creditml.model.scorecard import ScoreScale
from tests.explain.conftest import fit, random_frame
from tests.explain.test_report import section

CHAMPION_FEATURES = ["num_0", "num_2", "city"]  # the candidate (conftest) also has num_1


def champion_for(inputs) -> ChampionInputs:
    """A weaker model (no num_1, fewer rounds) scored on the candidate's out-of-time instances."""
    X, y = random_frame(len(inputs.predictions), 0, 3)  # the rows make_inputs() trained on
    X = X[CHAMPION_FEATURES]
    booster, features, categories = fit(X, y, rounds=10, monotone={})
    test_ids = inputs.predictions.index[inputs.predictions.split == "test"]
    margin = booster.predict(xgb.DMatrix(model_frame(X.loc[test_ids], features, categories), enable_categorical=True),
                             output_margin=True, iteration_range=(0, 10))
    return ChampionInputs(version="2", run_id="champ42", probabilities=pd.Series(1 / (1 + np.exp(-margin)),
                                                                                index=test_ids),
                          features=features, categories=categories, booster=booster, best_iteration=9,
                          sample=X.loc[test_ids], descriptions={"num_2": "The second number."})


@pytest.fixture(scope="module")
def with_champion(report_inputs):
    test_ids = report_inputs.predictions.index[report_inputs.predictions.split == "test"]
    channel = pd.DataFrame({"applications.channel": np.where(np.arange(len(test_ids)) % 3, "web", "branch")},
                           index=test_ids)
    inputs = dataclasses.replace(report_inputs, champion=champion_for(report_inputs), segments=channel)
    return inputs, build_report(inputs)


def test_the_comparison_shows_the_paired_difference_its_interval_and_the_swap_set(with_champion):
    inputs, html = with_champion
    part = " ".join(section(html, "challenger").split())
    test = inputs.predictions[inputs.predictions.split == "test"]
    expected = compare_models(test.label.to_numpy(), test.probability.to_numpy(),
                              inputs.champion.probabilities.loc[test.index].to_numpy(), approval_rate=0.7,
                              scale=ScoreScale())
    d, s = expected.auc_difference, expected.swap
    assert f"<strong>{d.difference:+.4f}</strong> [{d.low:+.4f}, {d.high:+.4f}] (DeLong 95%" in part
    assert f"paired bootstrap 95% [{d.bootstrap_low:+.4f}, {d.bootstrap_high:+.4f}]" in part
    assert "champion (version 2)" in part and "champ42" in part and f"same {len(test)} out-of-time" in part
    assert "Swap set at 70% approval" in part
    assert f'swap-ins (candidate approves, champion declines)</td><td class="n">{s.swap_in}</td>' in part
    assert f'swap-outs (champion approves, candidate declines)</td><td class="n">{s.swap_out}</td>' in part
    assert "3 shared, 1 only in the candidate, 0 only in the champion" in part
    assert '<td class="feat">num_1</td>' in part
    assert "PSI candidate against champion" in part and "points" in part


def test_without_a_champion_the_section_says_so(report_inputs):
    html = build_report(report_inputs)
    assert "No champion to compare with." in section(html, "challenger")
    note = "The champion (version 1) could not be compared on this version's out-of-time instances: gone."
    html = build_report(dataclasses.replace(report_inputs, champion_note=note))
    assert f'<p class="note">{note}</p>' in unescape(section(html, "challenger"))
    over = section(html, "over-time")
    assert "No segments declared" in over and "report.segments" in over
    assert "By month" in over and "2021-" in over and "By applications" not in over


def test_stability_section_shows_months_and_segments(with_champion):
    _, html = with_champion
    over = " ".join(section(html, "over-time").split())
    assert "By month" in over and "By applications.channel" in over
    assert "<td>web</td>" in over and "<td>branch</td>" in over and "No segments declared" not in over
    assert "all out-of-time" in over
