"""Forward-chaining cross-validation for the Optuna objective (``tuning.cv_folds``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from pydantic import ValidationError
from sklearn.metrics import roc_auc_score

from creditml.config import ParamRange, PipelineConfig, TaskSpec, TuningSettings
from creditml.errors import ConfigError, CreditmlError
from creditml.splits import describe_folds, forward_chaining_folds
from creditml.modeling.train import check_folds, final_rounds, refit_rounds, study_name_for
from creditml.modeling.tuning import tune


def _times(n_days: int = 90, per_day: int = 13, seed: int = 0) -> pd.Series:
    """Cutoffs with many ties (``per_day`` instances share each day), shuffled so order is not assumed."""
    days = pd.Timestamp("2021-01-01") + pd.to_timedelta(np.repeat(np.arange(n_days), per_day), unit="D")
    order = np.random.default_rng(seed).permutation(len(days))
    return pd.Series(days[order], index=pd.RangeIndex(len(days), name="id"), name="time")


@pytest.mark.parametrize("k", [2, 3, 4, 7])
def test_folds_chain_forward_in_time_and_never_split_a_cutoff(k):
    times = _times()
    folds = forward_chaining_folds(times, k)
    t = times.to_numpy()
    assert len(folds) == k
    for i, (train, valid) in enumerate(folds):
        assert len(train) and len(valid) and not set(train) & set(valid)
        assert t[train].max() < t[valid].min()  # trains strictly before the block it validates on
        if i:  # fold i trains on everything fold i - 1 saw
            assert set(train) == set(folds[i - 1][0]) | set(folds[i - 1][1])
    blocks = [folds[0][0]] + [valid for _, valid in folds]
    assert sorted(np.concatenate(blocks)) == list(range(len(t)))
    for a, b in zip(blocks, blocks[1:]):  # no cutoff time on both sides of a boundary
        assert not set(t[a]) & set(t[b])
    sizes = [len(b) for b in blocks]
    assert max(sizes) - min(sizes) <= 13  # about equal, up to one day of tied cutoffs


def test_describe_folds_names_each_fold_block():
    times = _times(n_days=20, per_day=5)
    labels = pd.Series(np.arange(len(times)) % 4 == 0, index=times.index).astype(int)
    rows = describe_folds(times, labels, forward_chaining_folds(times, 3))
    assert [r["fold"] for r in rows] == [0, 1, 2]
    assert all(r["train_until"] < r["validation_from"] for r in rows)
    assert rows[-1]["train_instances"] + rows[-1]["validation_instances"] == len(times)
    assert sum(r["validation_positives"] for r in rows) + rows[0]["train_positives"] == labels.sum()


def test_too_few_distinct_cutoffs_for_the_folds():
    with pytest.raises(ConfigError, match=r"tuning\.cv_folds=5: the 30 training instances have 3 distinct cutoff "
                                          r"time\(s\), too few to cut into 6 time blocks.*lower tuning\.cv_folds"):
        forward_chaining_folds(_times(n_days=3, per_day=10), 5)


@pytest.mark.parametrize("value", [1, -2])
def test_cv_folds_must_be_zero_or_at_least_two(value):
    with pytest.raises(ValidationError, match=rf"expected 0 \(score trials on the validation split\) or at least 2 "
                                              rf"forward-chaining folds of the training split, got {value}"):
        TuningSettings(cv_folds=value)


def test_cv_folds_typo_in_a_pipeline_names_the_key(tmp_path):
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text("name: p\ndataset: d.yaml\ntask: {name: t, target: a, cutoff: c, label: l}\n"
                        "tuning: {cv_folds: 1}\n")
    from creditml.config import load_pipeline_config

    with pytest.raises(ConfigError, match=r"tuning\.cv_folds: Value error, expected 0 .* got 1"):
        load_pipeline_config(pipeline)


def test_blocks_without_enough_positives_are_refused_before_training():
    times = _times(n_days=40, per_day=10)
    split = pd.Series("train", index=times.index)
    labels = pd.Series((times.dt.day % 2 == 0) & (times >= pd.Timestamp("2021-01-20")), index=times.index).astype(int)
    cfg = PipelineConfig(name="p", dataset=Path("d.yaml"),
                         task=TaskSpec(name="fraud", target="a", cutoff="c", label="l"),
                         tuning=TuningSettings(cv_folds=3, small_data_rows=0), training={"min_positives": 5})
    with pytest.raises(CreditmlError, match=r"task 'fraud': tuning with 3 folds cuts the training split into blocks "
                                            r"\(by time\).*block 0: 0 positive\(s\) among 100 instances.*"
                                            r"Lower tuning\.cv_folds \(or tuning\.small_data_folds"):
        check_folds(labels, times, split, cfg)
    no_folds = cfg.model_copy(update={"tuning": TuningSettings(cv_folds=0, small_data_rows=0)})
    check_folds(labels, times, split, no_folds)  # no folds, nothing to check


def test_study_name_changes_with_the_fold_scheme():
    cfg = PipelineConfig(name="p", dataset=Path("d.yaml"), task=TaskSpec(name="t", target="a", cutoff="c", label="l"))
    names = {study_name_for(cfg.model_copy(update={"tuning": TuningSettings(cv_folds=k)}), "data", ["x"])
             for k in (0, 3, 4)}
    assert len(names) == 3


def test_cross_validated_objective_is_the_mean_auc_over_the_folds(tmp_path):
    rng = np.random.default_rng(3)
    times = _times(n_days=60, per_day=20)
    X = rng.normal(size=(len(times), 4))
    y = (rng.random(len(times)) < 1 / (1 + np.exp(-(X[:, 0] - X[:, 1] - 1.5)))).astype(int)
    dtrain = xgb.DMatrix(X, label=y)
    dvalid = xgb.DMatrix(X[:10], label=y[:10])  # never looked at with folds
    folds = forward_chaining_folds(times, 3)
    # no row or column sampling: xgb.cv interleaves the folds' boosters, which share XGBoost's random engine
    space = {"max_depth": ParamRange(low=2, high=4, int=True), "learning_rate": ParamRange(low=0.05, high=0.3)}
    settings = TuningSettings(n_trials=3, max_boost_rounds=60, early_stopping_rounds=10, nthread=1, cv_folds=3,
                              search_space=space)
    fixed = {"objective": "binary:logistic", "eval_metric": "auc", "tree_method": "hist", "seed": 0,
             "verbosity": 0, "nthread": 1}
    result = tune(dtrain, dvalid, settings, seed=0, storage=f"sqlite:///{tmp_path / 'optuna.db'}",
                  study_name="cv", fixed=fixed, folds=folds, fold_summary=describe_folds(times, pd.Series(y), folds))
    assert result.objective == "mean AUC over 3 forward-chaining folds of the training split"
    assert [f["fold"] for f in result.folds] == [0, 1, 2]
    assert {"best_iteration", "cv_auc_std"} <= set(c.removeprefix("user_attrs_") for c in result.trials.columns)
    params = {**fixed, **result.best_params}
    aucs = []
    for train, valid in folds:  # refit each fold by hand for the chosen number of rounds
        booster = xgb.train(params, dtrain.slice(train), num_boost_round=result.best_iteration + 1)
        aucs.append(roc_auc_score(y[valid], booster.predict(dtrain.slice(valid))))
    assert result.best_value == pytest.approx(np.mean(aucs), abs=1e-6)


def test_select_stable_takes_the_trial_with_the_best_mean_minus_spread_over_the_folds(tmp_path):
    rng = np.random.default_rng(5)
    times = _times(n_days=60, per_day=20)
    X = rng.normal(size=(len(times), 4))
    y = (rng.random(len(times)) < 1 / (1 + np.exp(-(X[:, 0] - X[:, 1] - 1.5)))).astype(int)
    dtrain, dvalid = xgb.DMatrix(X, label=y), xgb.DMatrix(X[:10], label=y[:10])
    folds = forward_chaining_folds(times, 3)
    fixed = {"objective": "binary:logistic", "eval_metric": "auc", "tree_method": "hist", "seed": 0,
             "verbosity": 0, "nthread": 1}
    results = {}
    for select in ("best", "stable"):
        settings = TuningSettings(n_trials=8, max_boost_rounds=60, early_stopping_rounds=10, nthread=1, cv_folds=3,
                                  select=select)
        results[select] = tune(dtrain, dvalid, settings, seed=0, storage=f"sqlite:///{tmp_path / 'optuna.db'}",
                               study_name="cv", fixed=fixed, folds=folds)
    trials = results["best"].trials[results["best"].trials.state == "COMPLETE"]
    stable = trials.loc[(trials.value - trials.user_attrs_cv_auc_std).idxmax()]
    assert results["stable"].new_trials == 0  # the same study: select changes the choice, not the search
    assert results["stable"].best_value == stable.value and results["best"].best_value == trials.value.max()
    assert results["stable"].best_params == {k.removeprefix("params_"): stable[k] for k in trials.columns
                                             if k.startswith("params_")}
    assert results["stable"].best_params != results["best"].best_params  # this study's two choices differ


def test_select_stable_without_folds_is_refused_before_any_work():
    times = _times(n_days=40, per_day=10)
    split = pd.Series("train", index=times.index)
    labels = pd.Series(np.arange(len(times)) % 5 == 0, index=times.index).astype(int)
    cfg = PipelineConfig(name="p", dataset=Path("d.yaml"), task=TaskSpec(name="fraud", target="a", cutoff="c", label="l"),
                         tuning=TuningSettings(select="stable", small_data_rows=100))
    with pytest.raises(ConfigError, match=r"^task 'fraud': tuning\.select: stable ranks trials by their mean fold AUC "
                                          r"minus its standard deviation over the folds, but this run scores trials on "
                                          r"the validation split \(tuning\.cv_folds is 0 and the 400 training rows are "
                                          r"not below tuning\.small_data_rows 100\); set tuning\.cv_folds to 2 or "
                                          r"more, or tuning\.select to best$"):
        check_folds(labels, times, split, cfg)
    # a small training split whose small-data folds fall back to the validation split: 4 days cannot make 6 blocks
    few_days = _times(n_days=4, per_day=10)
    small = cfg.model_copy(update={"tuning": TuningSettings(select="stable", small_data_rows=1000)})
    with pytest.raises(ConfigError, match=r"\(tuning\.cv_folds is 0 and the 40 training rows cannot be cut into "
                                          r"tuning\.small_data_folds 5 folds with enough positives in each\); set "
                                          r"tuning\.cv_folds to 2 or more, or tuning\.select to best$"):
        check_folds(pd.Series(np.arange(40) % 5 == 0, index=few_days.index).astype(int), few_days,
                    pd.Series("train", index=few_days.index), small)


def test_select_does_not_rename_the_study():
    cfg = PipelineConfig(name="p", dataset=Path("d.yaml"), task=TaskSpec(name="t", target="a", cutoff="c", label="l"))
    stable = cfg.model_copy(update={"tuning": TuningSettings(select="stable")})
    assert study_name_for(stable, "data", ["x"]) == study_name_for(cfg, "data", ["x"])


def test_final_round_count_scales_the_cv_optimum_to_the_rows_of_the_final_fit():
    times = pd.Series(pd.date_range("2020-01-01", periods=100, freq="D"))
    folds = forward_chaining_folds(times, 4)  # the folds train on 20, 40, 60 and 80 instances
    rounds, why = final_rounds(cv_best_iteration=29, folds=folds, n_fit=100, max_rounds=2000)
    assert rounds == 60  # 30 rounds at the CV optimum x 100 / 50
    assert why == ("60 rounds: the CV optimum (30) x 2.00 (training split / mean fold training size); "
                   "no early stopping, the validation split stays held out")
    rounds, why = final_rounds(29, folds, n_fit=125, max_rounds=2000, fit_on="train+validation")
    assert rounds == 75
    assert why.startswith("75 rounds: the CV optimum (30) x 2.50 (training + validation splits / mean fold "
                          "training size); refit on both")
    assert final_rounds(999, folds, 100, max_rounds=1500)[0] == 1500


def test_refit_round_count_scales_the_validation_optimum_to_the_refit_rows():
    rounds, why = refit_rounds(best_iteration=39, n_train=800, n_fit=1000, max_rounds=2000)
    assert rounds == 50  # 40 rounds at the validation optimum x 1000 / 800
    assert why == ("50 rounds: the validation optimum (40) x 1.25 (training + validation splits / training split); "
                   "refit on both; the validation metrics are the training-split fit's, early-stopped on the "
                   "validation split")
    assert refit_rounds(1999, 800, 1000, max_rounds=2000)[0] == 2000
