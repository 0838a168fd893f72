"""`creditml run` end to end on the small built-in world, into a fresh MLflow store."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
import optuna
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from creditml.cli import app
from tests.conftest import PIPELINES

SMALL = ["tuning.n_trials=3", "features.max_candidates=400", "selection.max_selected=40", "training.min_positives=5"]


def _env(tmp: Path) -> dict:
    return {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}"}


@pytest.fixture(scope="module")
def credit_run(small_world, tmp_path_factory):
    """One credit_default run through the CLI, with its JSON summary."""
    tmp = tmp_path_factory.mktemp("pipeline")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", _env(tmp)["MLFLOW_TRACKING_URI"])
        mp.chdir(tmp)
        args = ["run", str(PIPELINES / "credit_default.yaml"), "--dataset", str(small_world), "--json"]
        for override in SMALL + [f"tuning.storage=sqlite:///{tmp / 'optuna.db'}"]:
            args += ["--set", override]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, result.stdout  # --json: exactly one machine-readable line
    summary = json.loads(lines[0])
    return summary, tmp


def test_json_summary_names_everything(credit_run):
    summary, _ = credit_run
    assert summary["task"] == "credit_default" and summary["model_name"] == "creditml-credit-default"
    assert summary["version"] == "1" and summary["candidates"] == 400 and 0 < summary["selected"] <= 40
    assert set(summary["metrics"]) == {"train", "validation", "test"}
    assert 0.5 < summary["metrics"]["test"]["auc"] <= 1 and summary["oracle_auc"] > 0.6
    assert summary["artifacts"].startswith("file://")


def test_a_rerun_says_it_reused_the_study_registers_nothing_and_writes_beside_the_store(credit_run, small_world):
    """The same config again, from another folder, with --no-register: the finished study is reused and said to
    be; no version is added; the study and artifacts stay beside the tracking store, not in the working folder."""
    _, tmp = credit_run
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", _env(tmp)["MLFLOW_TRACKING_URI"])
        mp.chdir(elsewhere)
        args = ["run", str(PIPELINES / "credit_default.yaml"), "--dataset", str(small_world), "--no-register"]
        for override in SMALL:
            args += ["--set", override]
        result = CliRunner().invoke(app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "reused study" in out and "its 3 trials finished in an earlier run and this run added none" in out
    assert "not registered (--no-register)" in out
    assert list(elsewhere.iterdir()) == []
    assert [str(v.version) for v in MlflowClient(_env(tmp)["MLFLOW_TRACKING_URI"], _env(tmp)["MLFLOW_TRACKING_URI"]).search_model_versions(
        "name='creditml-credit-default'")] == ["1"]


def test_run_records_lineage_and_version_tags(credit_run):
    summary, tmp = credit_run
    os.environ["MLFLOW_TRACKING_URI"] = _env(tmp)["MLFLOW_TRACKING_URI"]
    try:
        client = MlflowClient()
        run = client.get_run(summary["run_id"])
        assert run.data.tags["creditml.data_fingerprint"] and run.data.tags["creditml.code_version"]
        assert run.data.metrics["test_auc"] == pytest.approx(summary["metrics"]["test"]["auc"])
        artifacts = {a.path for a in client.list_artifacts(summary["run_id"])}
        # MLflow 3 keeps the model itself as a logged model of the run, not among its artifacts
        assert {"config", "features", "tuning", "evaluation", "explain", "gates", "serving"} <= artifacts
        version = client.get_model_version("creditml-credit-default", "1")
        assert version.tags["run_id"] == summary["run_id"]
        assert version.tags["creditml.gates"] in {"passed", "failed"}
    finally:
        del os.environ["MLFLOW_TRACKING_URI"]


def test_fresh_process_scores_a_raw_application_like_offline(credit_run):
    summary, tmp = credit_run
    script = f"""
import json, mlflow, pandas as pd
model = mlflow.pyfunc.load_model("models:/creditml-credit-default/{summary['version']}")
record = json.loads(open(mlflow.artifacts.download_artifacts(run_id="{summary['run_id']}",
                    artifact_path="serving/example_record.json")).read())
predictions = pd.read_parquet(mlflow.artifacts.download_artifacts(run_id="{summary['run_id']}",
                    artifact_path="evaluation/predictions.parquet")).set_index("instance_id")
out = model.predict(pd.DataFrame({{"record": [json.dumps(record)]}}))
iid = record["instance"]["application_id"]
print(json.dumps({{"served": float(out.probability[0]), "offline": float(predictions.loc[iid, "probability"]),
                  "reasons": json.loads(out.reason_codes[0]), "band": out.band[0]}}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp, env={**os.environ, **_env(tmp)},
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["served"] == pytest.approx(got["offline"], abs=1e-9)
    assert got["band"] in {"A", "B", "C", "D", "E"}
    assert all({"feature", "description", "value", "contribution"} <= set(r) for r in got["reasons"])


def test_no_pii_value_appears_in_any_artifact_of_a_run(credit_run, small_world, tmp_path):
    """Done-when: every file of the run's folder and of the model's folder, scanned for every value of every
    column the dataset declares ``pii:``; the examples hold masked stand-ins instead."""
    from creditml.data import load_dataset

    summary, tmp = credit_run
    os.environ["MLFLOW_TRACKING_URI"] = _env(tmp)["MLFLOW_TRACKING_URI"]
    try:
        client = MlflowClient()
        run_dir = Path(client.download_artifacts(summary["run_id"], "", str(tmp_path / "run")))
        source = client.get_model_version("creditml-credit-default", summary["version"]).source
        model_dir = Path(mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(tmp_path / "model")))
    finally:
        del os.environ["MLFLOW_TRACKING_URI"]
    dataset = load_dataset(small_world)
    values = {str(v) for name, spec in dataset.config.tables.items() for column in spec.pii
              for v in dataset.tables[name][column].dropna().unique()}
    assert len(values) > 100  # names, phone numbers and e-mails of the small world
    files = [p for folder in (run_dir, model_dir) for p in folder.rglob("*") if p.is_file()]
    assert {"example_record.json", "input_example.json", "serving_input_example.json"} <= {p.name for p in files}
    found = []
    for path in files:
        texts = [path.read_bytes()]
        if path.suffix == ".json":  # JSON may escape non-ASCII letters of a name
            texts.append(json.dumps(json.loads(texts[0]), ensure_ascii=False).encode("utf-8"))
        found += [(path.name, v) for v in values if any(v.encode("utf-8") in t for t in texts)]
    assert not found, found[:10]
    record = json.loads((run_dir / "serving/example_record.json").read_text())
    customers = record["related"]["customers"]
    assert customers and all(c["full_name"].startswith("masked-full_name-") for c in customers)


def _collection_run(small_world: Path, tmp_path: Path, overrides: list[str]) -> tuple[dict, MlflowClient]:
    args = ["run", str(PIPELINES / "collection_cure.yaml"), "--dataset", str(small_world), "--json"]
    for override in SMALL + [f"tuning.storage=sqlite:///{tmp_path / 'optuna.db'}"] + overrides:
        args += ["--set", override]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][0]), MlflowClient()


def _assert_validation_figures_are_the_training_split_fits(run, predictions: pd.DataFrame, refit: bool) -> None:
    """Each split's metrics come from held-out predictions; validation is the training-split fit's when refit."""
    valid = predictions[predictions.split == "validation"]
    assert run.data.metrics["validation_auc"] == pytest.approx(roc_auc_score(valid.label, valid.evaluation_probability))
    assert (not np.allclose(valid.evaluation_probability, valid.probability)) == refit
    other = predictions[predictions.split != "validation"]
    assert np.array_equal(other.evaluation_probability, other.probability)


def test_refit_without_folds_scales_the_validation_optimum_to_train_and_validation(small_world, tmp_path,
                                                                                   monkeypatch):
    """training.final_fit: train+validation with trials scored on the validation split: the training-split
    fit stops early there; the registered refit runs that round count x (train + validation rows / train rows)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    summary, client = _collection_run(small_world, tmp_path, ["tuning.cv_folds=0", "tuning.small_data_rows=0",
                                                              "training.final_fit=train+validation"])
    run = client.get_run(summary["run_id"])
    recorded = json.loads(Path(client.download_artifacts(summary["run_id"], "tuning/summary.json",
                                                         str(tmp_path))).read_text())
    predictions = pd.read_parquet(client.download_artifacts(summary["run_id"], "evaluation/predictions.parquet",
                                                            str(tmp_path)))
    n_train = int((predictions.split == "train").sum())
    n_fit = n_train + int((predictions.split == "validation").sum())
    optimum = int(re.search(r"the validation optimum \((\d+)\)", recorded["final_fit"]).group(1))
    rounds = round(optimum * n_fit / n_train)
    assert recorded["final_fit"] == (
        f"{rounds} rounds: the validation optimum ({optimum}) x {n_fit / n_train:.2f} (training + validation "
        "splits / training split); refit on both; the validation metrics are the training-split fit's, "
        "early-stopped on the validation split")
    model = mlflow.pyfunc.load_model(f"models:/{summary['model_name']}/{summary['version']}").unwrap_python_model()
    assert model.bundle.booster.num_boosted_rounds() == rounds == run.data.metrics["best_iteration"] + 1
    _assert_validation_figures_are_the_training_split_fits(run, predictions, refit=True)


@pytest.mark.parametrize("final_fit", ["train", "train+validation"])
def test_cross_validated_tuning_records_its_folds_and_sizes_the_final_fit(small_world, tmp_path, monkeypatch,
                                                                          final_fit):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    summary, client = _collection_run(small_world, tmp_path, ["tuning.cv_folds=2", f"training.final_fit={final_fit}"])
    run = client.get_run(summary["run_id"])
    assert run.data.params["tuning.cv_folds"] == "2" and 0.5 < run.data.metrics["tuning_cv_auc"] <= 1
    local = client.download_artifacts(summary["run_id"], "tuning/summary.json", str(tmp_path))
    recorded = json.loads(Path(local).read_text())
    assert recorded["objective"] == "mean AUC over 2 forward-chaining folds of the training split"
    assert recorded["cv_folds"] == 2 and [f["fold"] for f in recorded["folds"]] == [0, 1]
    assert recorded["best_auc"] == pytest.approx(run.data.metrics["tuning_cv_auc"])
    assert all(f["train_until"] < f["validation_from"] for f in recorded["folds"])
    study = optuna.load_study(study_name=summary["study"], storage=f"sqlite:///{tmp_path / 'optuna.db'}")
    assert study.user_attrs["cv_folds"] == recorded["folds"]

    # the final fit takes the CV optimum scaled to the rows it trains on, not early stopping on validation
    predictions = pd.read_parquet(client.download_artifacts(summary["run_id"], "evaluation/predictions.parquet",
                                                            str(tmp_path)))
    n_fit = int(predictions.split.isin(final_fit.split("+")).sum())
    fold_train = np.mean([f["train_instances"] for f in recorded["folds"]])
    cv_best = study.best_trial.user_attrs["best_iteration"] + 1
    rounds = round(cv_best * n_fit / fold_train)
    assert recorded["best_iteration"] == rounds - 1 == run.data.metrics["best_iteration"]
    assert recorded["final_fit"].startswith(f"{rounds} rounds: the CV optimum ({cv_best}) x ")
    model = mlflow.pyfunc.load_model(f"models:/{summary['model_name']}/{summary['version']}").unwrap_python_model()
    assert model.bundle.booster.num_boosted_rounds() == rounds

    _assert_validation_figures_are_the_training_split_fits(run, predictions, refit=final_fit == "train+validation")


def _write_pipeline(tmp: Path, small_world: Path, **changes) -> Path:
    data = yaml.safe_load((PIPELINES / "collection_cure.yaml").read_text())
    data["dataset"] = str(small_world)
    for key, value in changes.items():
        node = data
        *parents, last = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    path = tmp / "pipeline.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("change, message", [
    ({"features.max_dept": 1}, r"features\.max_dept: unknown key; remove it or check its spelling"),
    ({"dataset": "/nowhere/dataset.yaml"}, r"dataset config '/nowhere/dataset.yaml' does not exist"),
    ({"task.label": "cure_60d"}, r"label 'cure_60d' is not declared in dataset"),
    ({"training.min_positives": 100000}, r"too few positives to train and evaluate \(need at least 100000 per split"),
    ({"tuning.cv_folds": 1}, r"tuning\.cv_folds: Value error, expected 0 \(score trials on the validation split\)"),
    ({"tuning.cv_folds": 60}, r"tuning with 60 folds cuts the training split into blocks \(by time\)"),
])
def test_bad_configs_fail_before_any_mlflow_run(tmp_path, small_world, monkeypatch, change, message):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["run", str(_write_pipeline(tmp_path, small_world, **change))])
    assert result.exit_code == 2, result.output
    assert pd.Series([result.output]).str.contains(message).iloc[0], result.output
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()


def test_label_column_absent_from_the_data(tmp_path, small_world, monkeypatch):
    monkeypatch.chdir(tmp_path)
    world = yaml.safe_load(small_world.read_text())
    world["tables"]["collection_cases"]["columns"]["cured_60d"] = "numeric"
    world["labels"]["cure_60d"] = {"table": "collection_cases", "column": "cured_60d"}
    for table in world["tables"].values():
        table["file"] = str(small_world.parent / table["file"])
    dataset = tmp_path / "dataset.yaml"
    dataset.write_text(yaml.safe_dump(world))
    pipeline = _write_pipeline(tmp_path, dataset, **{"task.label": "cure_60d"})
    result = CliRunner().invoke(app, ["run", str(pipeline)])
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert "table 'collection_cases': column 'cured_60d' is declared but not in " in out
    assert "collection_cases.parquet (did you mean 'cured_30d'?)" in out
    assert not (tmp_path / "mlruns").exists()


def test_killed_run_resumes_its_study(tmp_path, small_world):
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    args = [sys.executable, "-m", "creditml.cli", "run", str(PIPELINES / "collection_cure.yaml"),
            "--dataset", str(small_world)]
    for override in ["tuning.n_trials=8", "features.max_candidates=200", "selection.max_selected=30",
                     "training.min_positives=5", f"tuning.storage={storage}"]:
        args += ["--set", override]
    env = {**os.environ, **_env(tmp_path)}
    first = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, done = time.time() + 240, 0
        while time.time() < deadline and done < 2 and first.poll() is None:
            time.sleep(0.5)
            try:
                studies = optuna.get_all_study_summaries(storage)
                done = sum(s.n_trials for s in studies)
            except Exception:  # the storage is created by the run itself
                done = 0
        assert done >= 2, "the first run never reached two trials"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    (study_summary,) = optuna.get_all_study_summaries(storage)
    before = study_summary.n_trials
    assert before < 8
    second = subprocess.run(args + ["--json"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    study = optuna.load_study(study_name=study_summary.study_name, storage=storage)
    finished = [t for t in study.trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    assert len(finished) == 8
    assert len(study.trials) >= before  # the killed run's trials are still there
