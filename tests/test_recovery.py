"""Runs that die are closed: SIGKILL a `creditml run` at five points; the next command leaves no RUNNING run
or trial, and no version is registered without its complete artifacts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
from mlflow.tracking import MlflowClient

from tests.conftest import PIPELINES

POINTS = ("features", "tuning", "run_started", "logging", "registration")
SMALL = ["tuning.n_trials=1", "features.max_candidates=100", "selection.max_selected=20", "training.min_positives=5",
         "tuning.cv_folds=0", "training.final_fit=train", "tuning.max_boost_rounds=60",
         "tuning.early_stopping_rounds=10", "tuning.heartbeat_seconds=1", "tuning.stale_after_seconds=2"]


def _running(tmp: Path) -> tuple[list[str], list[int]]:
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = [r.info.run_id for r in client.search_runs(experiments, "attributes.status = 'RUNNING'")] \
        if experiments else []
    trials = []
    if (tmp / "optuna.db").exists():
        storage = f"sqlite:///{tmp / 'optuna.db'}"
        for summary in optuna.get_all_study_summaries(storage):
            study = optuna.load_study(study_name=summary.study_name, storage=storage)
            trials += [t.number for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
    return runs, trials


def test_sigkill_at_five_points_leaves_nothing_running_after_the_next_command(small_world, tmp_path):
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
           "CREDITML_HOME": str(tmp_path / "home"), "CREDITML_TOKEN": "", "CREDITML_OPTUNA_STALE_SECONDS": "2"}
    args = [sys.executable, "-m", "creditml.cli", "run", str(PIPELINES / "credit_default.yaml"), "--dataset",
            str(small_world), "--json"]
    for override in SMALL + [f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}"]:
        args += ["--set", override]
    left: dict[str, tuple] = {}
    for point in POINTS:
        marker = tmp_path / f"paused-{point}"
        proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env={**env, "CREDITML_TEST_PAUSE_AT": point, "CREDITML_TEST_PAUSE_FILE": str(marker)})
        try:
            deadline = time.monotonic() + 400
            while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            assert marker.exists(), f"the run never reached {point}: {proc.stderr.read()[-2000:] if proc.poll() else ''}"
            before = _running(tmp_path)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        if point in ("run_started", "logging"):
            assert before[0], f"killed at {point}: expected the run RUNNING at the kill"
        if point == "tuning":
            assert before[1], "killed in tuning: expected a trial RUNNING at the kill"
        time.sleep(3)  # the killed trial's heartbeat goes stale (tuning.stale_after_seconds=2)
        nxt = subprocess.run([sys.executable, "-m", "creditml.cli", "recover"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=120)
        assert nxt.returncode == 0, nxt.stderr[-2000:]
        left[point] = _running(tmp_path)
    assert left == {p: ([], []) for p in POINTS}, left
    client = MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"], registry_uri=env["MLFLOW_TRACKING_URI"])
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    failed = [r for r in runs if r.info.status == "FAILED"]
    assert len(failed) == 2  # killed at run_started and during logging
    assert all("ended without closing the run (killed or crashed)" in r.data.tags["creditml.failure_reason"]
               for r in failed)
    # killed just before registration: the run is complete (FINISHED) and nothing was registered
    assert [r.info.status for r in runs if r.info.status != "FAILED"] == ["FINISHED"]
    assert client.search_model_versions() == []
