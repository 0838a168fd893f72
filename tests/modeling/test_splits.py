"""Splits: out-of-time by cutoff, or by a seeded hash of the instance key."""

from __future__ import annotations

import pandas as pd
import pytest

from creditml.config import SplitSettings, load_pipeline_config
from creditml.errors import ConfigError
from creditml.splits import key_hash_split, time_split
from tests.conftest import PIPELINES


def _one_date(n: int, keys=None) -> pd.Series:
    index = pd.Index(keys if keys is not None else range(1000, 1000 + n), name="ID")
    return pd.Series(pd.Timestamp("2005-09-30"), index=index)


def test_key_hash_split_has_the_declared_shares_and_is_deterministic():
    times = _one_date(20_000)
    split = time_split(times, SplitSettings(method="key_hash", validation_share=0.25, test_share=0.15))
    shares = split.value_counts(normalize=True)
    assert abs(shares["test"] - 0.15) < 0.01 and abs(shares["validation"] - 0.25) < 0.01
    again = time_split(times.sample(frac=1, random_state=3), SplitSettings(method="key_hash", validation_share=0.25,
                                                                             test_share=0.15))
    pd.testing.assert_series_equal(again.loc[split.index], split)


def test_an_instance_keeps_its_split_when_others_are_added_and_the_seed_changes_it():
    settings = SplitSettings(method="key_hash")
    small = key_hash_split(pd.Index(range(500)), settings)
    large = key_hash_split(pd.Index(range(5000)), settings)
    pd.testing.assert_series_equal(large.loc[small.index], small)
    other = key_hash_split(pd.Index(range(500)), SplitSettings(method="key_hash", seed=1))
    assert (other != small).mean() > 0.3


def test_string_keys_hash_too():
    split = key_hash_split(pd.Index([f"client-{i}" for i in range(2000)]), SplitSettings(method="key_hash"))
    assert set(split) == {"train", "validation", "test"}


def test_the_time_split_refuses_instances_that_all_share_one_cutoff():
    with pytest.raises(ConfigError, match=r"split: all 300 instances have the same cutoff time \(2005-09-30 "
                                          r"00:00:00\), so a split by cutoff time cannot put any of them after the "
                                          r"others; .* set split.method: key_hash"):
        time_split(_one_date(300), SplitSettings())


def test_the_time_split_is_unchanged():
    times = pd.Series(pd.date_range("2020-01-01", periods=100, freq="D"), index=pd.Index(range(100), name="id"))
    split = time_split(times, SplitSettings())
    assert (split.iloc[:60] == "train").all() and (split.iloc[60:80] == "validation").all()
    assert (split.iloc[80:] == "test").all()


def test_too_few_instances_for_a_hash_split_are_named():
    with pytest.raises(ConfigError, match=r"split: with method key_hash the .* split\(s\) of the 2 instance\(s\) "
                                          r"are empty .*; use more instances or larger shares"):
        key_hash_split(pd.Index([1, 2]), SplitSettings(method="key_hash"))


def test_key_hash_refuses_time_split_settings():
    with pytest.raises(ValueError, match="method: key_hash splits by a hash of the instance key; validation_start, "
                                         "test_start and order belong to method: time"):
        SplitSettings(method="key_hash", validation_start="2020-01-01", test_start="2020-06-01")


@pytest.mark.parametrize("pipeline", ["taiwan_default.yaml", "home_credit_default.yaml"])
def test_real_data_pipelines_declare_the_key_hash_split(pipeline):
    cfg = load_pipeline_config(PIPELINES / pipeline)  # the dataset YAML need exist; its data need not
    assert cfg.split.method == "key_hash"


def test_key_folds_are_stratified_and_stable():
    import numpy as np
    import pandas as pd

    from creditml.splits import key_folds

    keys = pd.Index([f"c{i}" for i in range(600)])
    labels = np.array([1] * 42 + [0] * 558)
    folds = key_folds(keys, 3, seed=0, labels=labels)
    assert [int(labels[v].sum()) for _, v in folds] == [14, 14, 14]
    assert sorted(np.concatenate([v for _, v in folds]).tolist()) == list(range(600))
    again = key_folds(keys, 3, seed=0, labels=labels)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again))


def test_the_folds_of_one_seed_test_every_instance_exactly_once():
    keys = pd.Index(range(3000))
    splits = [key_hash_split(keys, SplitSettings(method="key_hash", fold=k)) for k in range(5)]
    tested = pd.concat([(s == "test").astype(int) for s in splits], axis=1).sum(axis=1)
    assert (tested == 1).all()
    pd.testing.assert_series_equal(splits[0], key_hash_split(keys, SplitSettings(method="key_hash")))
    for s in splits:  # each fold keeps the declared shares
        assert abs((s == "validation").mean() - 0.2) < 0.03 and abs((s == "test").mean() - 0.2) < 0.03


def test_a_fold_is_refused_outside_its_range_and_on_a_time_split():
    with pytest.raises(ValueError, match=r"split.fold 4 with test_share 0.25: folds run from 0 to 3; choose one"):
        SplitSettings(method="key_hash", test_share=0.25, fold=4)
    with pytest.raises(ValueError, match=r"split.fold rotates a key_hash split; a split by time has no folds"):
        SplitSettings(fold=1)
