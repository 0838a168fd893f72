"""Too few positives: the message says which cause applies and what to do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from creditml.errors import CreditmlError
from creditml.modeling.train import check_trainable


def _labels(n: int, positives: int) -> tuple[pd.Series, pd.Series]:
    labels = pd.Series([1] * positives + [0] * (n - positives))
    split = pd.Series(["train"] * (n // 2) + ["validation"] * (n // 4) + ["test"] * (n - n // 2 - n // 4))
    return labels.sample(frac=1, random_state=0).reset_index(drop=True), split


def test_maturity_is_named_when_it_cut_most_instances():
    labels, split = _labels(300, 12)
    with pytest.raises(CreditmlError, match=r"Cause: label maturity left out 900 instances \(75% of those with a "
                                            r"label row\), whose 365-day outcome window had not closed by the "
                                            r"dataset's as_of; set the dataset's as_of"):
        check_trainable(labels, split, 10, "credit_default", {"label not matured": 900}, 365)


def test_a_small_portfolio_is_named_when_maturity_is_not_the_cause():
    labels, split = _labels(314, 20)
    with pytest.raises(CreditmlError, match=r"Cause: the whole portfolio has only 20 positive\(s\) among 314 matured "
                                            r"instances, too few to split three ways"):
        check_trainable(labels, split, 10, "credit_default", {"label not matured": 5}, 365)


def test_a_short_split_period_is_named_otherwise():
    labels = pd.Series([0] * 50 + [1] * 100 + [0] * 50)
    split = pd.Series(["test"] * 50 + ["train"] * 100 + ["validation"] * 50)
    with pytest.raises(CreditmlError, match=r"test: 0 positive\(s\) among 50 instances.*Cause: the split leaves one "
                                            r"period short of positives; move the split dates"):
        check_trainable(labels, split, 10, "credit_default", {}, 365)


def test_a_short_hash_split_is_named_with_the_hash_split_advice():
    labels = pd.Series([0] * 50 + [1] * 100 + [0] * 50)
    split = pd.Series(["test"] * 50 + ["train"] * 100 + ["validation"] * 50)
    with pytest.raises(CreditmlError, match=r"test: 0 positive\(s\) among 50 instances.*Cause: the hash split leaves "
                                            r"one split short of positives; raise split.test_share or "
                                            r"split.validation_share, choose another split.seed"):
        check_trainable(labels, split, 10, "home_credit_default", {}, None, "key_hash")


def test_a_small_training_split_is_tuned_on_folds_by_key_or_by_time(small_world):
    from creditml.config import load_pipeline_config
    from creditml.modeling.train import tuning_folds
    from tests.conftest import PIPELINES

    keys = pd.Index(range(600), name="id")
    labels = pd.Series([1, 0, 0, 0, 0, 0] * 100, index=keys)
    times = pd.Series(pd.Timestamp("2020-01-01"), index=keys)
    split = pd.Series(["train"] * 600)
    cfg = load_pipeline_config(PIPELINES / "credit_default.yaml", ["split.method=key_hash", "training.min_positives=5"],
                               small_world)
    folds = tuning_folds(cfg, labels, times, split)
    assert len(folds) == cfg.tuning.small_data_folds == 5
    assert sorted(np.concatenate([v for _, v in folds]).tolist()) == list(range(600))  # each row validated once
    assert all(len(set(t) & set(v)) == 0 for t, v in folds)
    big = load_pipeline_config(PIPELINES / "credit_default.yaml", ["split.method=key_hash", "training.min_positives=5",
                                                                  "tuning.small_data_rows=500"], small_world)
    assert tuning_folds(big, labels, times, split) is None
    dated = pd.Series(pd.date_range("2020-01-01", periods=600, freq="D"), index=keys)
    by_time = tuning_folds(load_pipeline_config(PIPELINES / "credit_default.yaml", ["training.min_positives=5"],
                                                small_world), labels, dated, split)
    assert all(dated.iloc[t].max() < dated.iloc[v].min() for t, v in by_time)  # forward-chaining
    # the default never refuses a run: blocks short of training.min_positives fall back to the validation split
    strict = load_pipeline_config(PIPELINES / "credit_default.yaml", ["training.min_positives=50"], small_world)
    assert tuning_folds(strict, labels, dated, split) is None
