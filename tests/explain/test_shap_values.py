from __future__ import annotations

import numpy as np
import pytest
import shap
import xgboost as xgb

from creditml.explain.shap_values import (AdditivityError, importance_stability, mean_abs_importance, monotonicity,
                                          shap_values)
from creditml.model.reasons import top_risk_contributors
from creditml.model.frame import model_frame
from tests.explain.conftest import fit, random_frame


@pytest.fixture(scope="module")
def model():
    X, y = random_frame(800, seed=3)
    booster, features, categories = fit(X, y, rounds=40)
    return X, booster, features, categories


def test_contributions_add_up_to_the_margin_with_a_categorical_column(model):
    X, booster, features, categories = model
    sv = shap_values(booster, X, features, categories, best_iteration=39)
    assert sv.values.shape == (len(X), len(features))
    assert "city" in categories
    assert sv.additivity_error <= 1e-4
    np.testing.assert_allclose(sv.values.sum(axis=1) + sv.base, sv.margin, atol=1e-4)
    dm = xgb.DMatrix(model_frame(X, features, categories), enable_categorical=True)
    np.testing.assert_allclose(sv.margin, booster.predict(dm, output_margin=True), atol=1e-6)
    assert np.abs(sv.values[:, features.index("city")]).sum() > 0


def test_an_earlier_iteration_range_is_explained_against_its_own_margin(model):
    X, booster, features, categories = model
    sv = shap_values(booster, X, features, categories, best_iteration=9)
    dm = xgb.DMatrix(model_frame(X, features, categories), enable_categorical=True)
    np.testing.assert_allclose(sv.margin, booster.predict(dm, output_margin=True, iteration_range=(0, 10)), atol=1e-6)
    assert sv.additivity_error <= 1e-4


def test_matches_shap_tree_explainer_on_numeric_features():
    X, y = random_frame(300, seed=5)
    X = X.drop(columns="city")
    booster, features, categories = fit(X, y, rounds=20)
    ours = shap_values(booster, X, features, categories, best_iteration=19)
    theirs = shap.TreeExplainer(booster).shap_values(model_frame(X, features, categories))
    np.testing.assert_allclose(ours.values, theirs, atol=1e-5)


def test_additivity_failure_names_the_row_and_tolerance(model):
    X, booster, features, categories = model
    with pytest.raises(AdditivityError, match=r"row \d+ is off by .* \(tolerance -1; 800 of 800 rows exceed it\)"):
        shap_values(booster, X, features, categories, best_iteration=39, tolerance=-1)


def test_empty_input_is_refused(model):
    X, booster, features, categories = model
    with pytest.raises(ValueError, match="X has no rows"):
        shap_values(booster, X.iloc[:0], features, categories, best_iteration=39)


def test_importance_and_stability_rank_the_signal_first(model):
    X, booster, features, categories = model
    sv = shap_values(booster, X, features, categories, best_iteration=39)
    imp = mean_abs_importance(sv)
    assert imp.index[0] == "num_0" and imp.iloc[0] >= imp.iloc[-1]
    half = np.arange(len(X)) < 400
    table = importance_stability(sv.subset(half), sv.subset(~half), top=2)
    assert {"train", "test", "train_rank", "test_rank", "rank_change"} <= set(table.columns)
    assert (table.rank_change == table.train_rank - table.test_rank).all()


def test_monotonicity_agrees_with_a_constrained_model_and_flags_a_wrong_declaration():
    X, y = random_frame(800, seed=4)
    booster, features, categories = fit(X, y, rounds=30, monotone={"num_0": 1, "num_1": -1})
    sv = shap_values(booster, X, features, categories, best_iteration=29)
    table = monotonicity(X, sv, {"num_0": 1, "num_1": 1, "city": 1, "absent": -1}).set_index("feature")
    assert table.loc["num_0", "status"] == "ok" and table.loc["num_0", "spearman"] > 0
    assert table.loc["num_1", "status"] == "violated"
    assert table.loc["city", "status"] == "not measurable"
    assert table.loc["absent", "status"] == "not measurable"


def test_top_risk_contributors_keep_only_positive_pushes():
    out = top_risk_contributors(np.array([0.1, -0.5, 0.3, 0.0]), ["a", "b", "c", "d"], k=4)
    assert out == [("c", 0.3), ("a", 0.1)]
