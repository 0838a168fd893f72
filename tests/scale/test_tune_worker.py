"""Two tuning workers (processes) share one PostgreSQL study; the pipeline's run fits its best trial."""

from __future__ import annotations

import json
import subprocess
import sys

import optuna
import pytest

from creditml.config import load_pipeline_config
from creditml.features.outputs import write_feature_outputs
from creditml.features.pipeline import build_features
from creditml.modeling.train import train_model
from creditml.data.fingerprint import data_fingerprint
from creditml.config import load_dataset_config
from creditml.scale.tune_worker import tune_worker, worker_seed
from tests.conftest import PIPELINES, REPO

PIPELINE = PIPELINES / "credit_default.yaml"
SETTINGS = ["features.max_candidates=200", "tuning.max_boost_rounds=60", "tuning.early_stopping_rounds=10",
            "tuning.nthread=1", "training.min_positives=5"]
TRIALS = (4, 3)
WORKER = """
import json, sys
from creditml.scale.tune_worker import tune_worker
pipeline, storage, trials, dataset, features, *overrides = sys.argv[1:]
summary = tune_worker(pipeline, storage, int(trials), overrides=overrides, dataset=dataset,
                      features_dir=features or None)
print(json.dumps(summary.__dict__))
"""


def test_worker_seeds_differ_by_process_and_host_and_repeat_for_the_same_worker():
    assert worker_seed(0, "a", 1) == worker_seed(0, "a", 1)
    assert len({worker_seed(0, "a", 1), worker_seed(0, "a", 2), worker_seed(0, "b", 1), worker_seed(1, "a", 1)}) == 4


def test_two_workers_add_their_trials_to_one_study_and_the_run_takes_its_best(small_world, postgres_url, tmp_path):
    cfg = load_pipeline_config(PIPELINE, SETTINGS, small_world)
    features = build_features(cfg)
    write_feature_outputs(features, tmp_path / "features")
    # one worker reads the cached feature folder, the other computes the features itself: same study
    cached = [sys.executable, "-c", WORKER, str(PIPELINE), postgres_url, str(TRIALS[0]), str(small_world),
              str(tmp_path / "features"), *SETTINGS]
    computing = [sys.executable, "-c", WORKER, str(PIPELINE), postgres_url, str(TRIALS[1]), str(small_world), "",
                 *SETTINGS]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for cmd in (cached, computing)]
    try:
        outputs = [p.communicate(timeout=120) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err[-3000:]
    summaries = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert summaries[0]["study_name"] == summaries[1]["study_name"]
    assert summaries[0]["sampler_seed"] != summaries[1]["sampler_seed"]
    assert [s["trials"] for s in summaries] == list(TRIALS)

    study = optuna.load_study(study_name=summaries[0]["study_name"], storage=postgres_url)
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(finished) == sum(TRIALS)
    params = [tuple(sorted(t.params.items())) for t in finished]
    assert len(set(params)) == len(params), "two trials share the same parameters"
    assert {t.user_attrs["worker"] for t in finished} == {s["worker"] for s in summaries}

    # the pipeline's run (creditml run --set tuning.storage=URL) finds the study and fits its best trial
    run_cfg = load_pipeline_config(PIPELINE, [*SETTINGS, f"tuning.storage={postgres_url}",
                                              f"tuning.n_trials={sum(TRIALS)}"], small_world)
    trained = train_model(features, run_cfg, storage=postgres_url,
                          data_fingerprint=data_fingerprint(load_dataset_config(run_cfg.dataset)))
    assert trained.tuning.study_name == study.study_name
    assert trained.tuning.resumed_trials == sum(TRIALS)
    assert trained.tuning.best_params == study.best_params
    assert trained.params.items() >= study.best_params.items()


def test_a_worker_needs_at_least_one_trial(small_world):
    from creditml.errors import CreditmlError

    with pytest.raises(CreditmlError, match="--trials: expected at least 1 trial, got 0"):
        tune_worker(PIPELINE, "sqlite://", 0, dataset=small_world)


def test_cli_tune_worker_adds_trials_and_refuses_zero(small_world, tmp_path):
    from typer.testing import CliRunner

    from creditml.cli import app

    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    args = ["tune-worker", str(PIPELINE), "--storage", storage, "--dataset", str(small_world),
            *[a for s in SETTINGS for a in ("--set", s)]]
    done = CliRunner().invoke(app, [*args, "--trials", "2"])
    assert done.exit_code == 0, done.output
    assert "done: 2 trial(s) by" in done.output and "holds 2 finished trial(s)" in done.output
    refused = CliRunner().invoke(app, [*args, "--trials", "0"])
    assert refused.exit_code == 2 and "--trials: expected at least 1 trial, got 0" in refused.output
