"""Scores rise with the chance of the good outcome; reason codes name what pulls a score down."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import xgboost as xgb

from creditml.config import ScoringSettings
from creditml.model.bundle import ModelBundle


def _bundle(label_is_good: bool) -> tuple[ModelBundle, pd.DataFrame]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"late_share": rng.random(400), "noise": rng.random(400)})
    y = (rng.random(400) < X.late_share).astype(int)  # the label follows late_share
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2, "seed": 0},
                        xgb.DMatrix(X.rename(columns={"late_share": "f0", "noise": "f1"}), label=y), 30)
    bundle = ModelBundle(dataset=None, task=None, features_settings=None, definitions=[],
                         features=["late_share", "noise"], categories={}, booster=booster, best_iteration=29,
                         scoring=ScoringSettings(label_is_good=label_is_good))
    return bundle, X


def test_a_bad_label_lowers_the_score_and_its_drivers_are_the_reasons():
    bundle, X = _bundle(label_is_good=False)
    out = bundle.score_matrix(X.iloc[:50])
    assert out.probability.corr(out.score, method="spearman") < -0.99
    risky = out.loc[out.probability.idxmax()]
    assert json.loads(risky.reason_codes)[0]["feature"] == "late_share"


def test_a_good_label_raises_the_score_and_reasons_pull_it_down():
    bundle, X = _bundle(label_is_good=True)
    out = bundle.score_matrix(X.iloc[:50])
    assert out.probability.corr(out.score, method="spearman") > 0.99
    unlikely = out.loc[out.probability.idxmin()]  # least likely to cure: its low late_share pulls it down
    assert json.loads(unlikely.reason_codes)[0]["feature"] == "late_share"
    assert all(r["contribution"] > 0 for r in json.loads(unlikely.reason_codes))
