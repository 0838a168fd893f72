"""The edge of the report: load one registered version's run from MLflow, write the page.

Every MLflow call of the report lives here. The tracking URI is the one
``creditml.registry.tracking.configure()`` sets (``MLFLOW_TRACKING_URI`` or the
embedded SQLite store).
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import mlflow
import pandas as pd
import yaml
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from pydantic import ValidationError

from creditml.config import GateSettings
from creditml.errors import CreditmlError
from creditml.explain.report import ReportInputs, build_report
from creditml.modeling.metrics import SplitMetrics
from creditml.registry import tracking
from creditml.serving.bundle import ModelBundle

REPORT_ARTIFACT = "report/model_report.html"


class ModelVersionNotFound(CreditmlError):
    """The registered model or the version asked for does not exist."""


def _version(client: MlflowClient, model_name: str, version: str):
    try:
        client.get_registered_model(model_name)
    except MlflowException:
        names = sorted(m.name for m in client.search_registered_models())
        known = ", ".join(names) if names else "none"
        raise ModelVersionNotFound(
            f"no registered model {model_name!r} at {mlflow.get_tracking_uri()}; registered models: {known}. "
            "Train one with `creditml train PIPELINE` or set MLFLOW_TRACKING_URI"
        ) from None
    try:
        return client.get_model_version(model_name, str(version))
    except MlflowException:
        versions = sorted((int(v.version) for v in client.search_model_versions(f"name='{model_name}'")))
        raise ModelVersionNotFound(
            f"model {model_name!r} has no version {version}; versions: {', '.join(map(str, versions)) or 'none'}"
        ) from None


def load_report_inputs(model_name: str, version: str) -> ReportInputs:
    """Everything the report shows for ``model_name`` version ``version``, from its MLflow run."""
    tracking.configure()
    client = MlflowClient()
    mv = _version(client, model_name, version)
    run = client.get_run(mv.run_id)
    tags = dict(run.data.tags)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run_dir = Path(client.download_artifacts(mv.run_id, "", str(tmp / "run")))
        model_dir = Path(mlflow.artifacts.download_artifacts(artifact_uri=mv.source, dst_path=str(tmp / "model")))
        bundle = ModelBundle.load(_find_bundle(model_dir, model_name, version))
        logged = _read_run(run_dir, model_name, version)
    notes: list[str] = []
    pipeline = logged.pop("pipeline")
    gate_settings = _gate_settings(pipeline, notes)
    split = pipeline.get("split") or {}
    if split.get("method") == "key_hash" or split.get("order") == "key":
        how = "split.method: key_hash" if split.get("method") == "key_hash" else "split.order: key"
        notes.append(f"The test split is not out-of-time: the instances share one period and were split by their "
                     f"key ({how}), so the test figures say how the model ranks unseen instances of that period, "
                     "not how it holds up in a later one.")
    predictions = logged.pop("predictions")
    test_ids = predictions.index[predictions["split"] == "test"]
    protected = _protected(tags, bundle, test_ids, notes)
    return ReportInputs(
        model_name=model_name, version=str(mv.version), run_id=mv.run_id, task=bundle.task, booster=bundle.booster,
        features=bundle.features, categories=bundle.categories, best_iteration=bundle.best_iteration,
        scoring=bundle.scoring, descriptions={**logged.pop("descriptions"), **bundle.descriptions},
        predictions=predictions, protected=protected, tags=tags, gate_settings=gate_settings, notes=notes,
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), **logged,
    )


def _find_bundle(model_dir: Path, model_name: str, version: str) -> Path:
    found = [p.parent for p in model_dir.rglob("bundle.json")]
    if not found:
        raise CreditmlError(f"model {model_name!r} version {version}: the logged pyfunc holds no bundle/ folder "
                            f"(looked under {model_dir}); it was not logged by creditml")
    return found[0]


def _read_run(run_dir: Path, model_name: str, version: str) -> dict:
    def need(rel: str) -> Path:
        path = run_dir / rel
        if not path.exists():
            raise CreditmlError(f"model {model_name!r} version {version}: its run lacks the artifact {rel!r}; "
                                "retrain with this creditml version to log it")
        return path

    def optional_json(rel: str, default):
        path = run_dir / rel
        return json.loads(path.read_text()) if path.exists() else default

    metrics = {s: SplitMetrics(**m) for s, m in json.loads(need("evaluation/metrics.json").read_text()).items()}
    predictions = pd.read_parquet(need("evaluation/predictions.parquet")).set_index("instance_id")
    trials_path = run_dir / "tuning/optuna_trials.csv"
    selection_path = run_dir / "features/selection.csv"
    return {
        "metrics": metrics, "predictions": predictions,
        "sample": pd.read_parquet(need("explain/shap_sample.parquet")),
        "selection": pd.read_csv(selection_path) if selection_path.exists() else pd.DataFrame(),
        "leakage_flags": optional_json("features/leakage_flags.json", {}).get("leakage_flags", []),
        "descriptions": optional_json("features/descriptions.json", {}),
        "tuning": optional_json("tuning/summary.json", {}),
        "trials": pd.read_csv(trials_path) if trials_path.exists() else pd.DataFrame(),
        "gates": optional_json("gates/gates.json", None),
        "pipeline": yaml.safe_load((run_dir / "config/pipeline.yaml").read_text())
        if (run_dir / "config/pipeline.yaml").exists() else {},
    }


def _gate_settings(pipeline: dict, notes: list[str]) -> GateSettings:
    try:
        return GateSettings.model_validate(pipeline.get("gates") or {})
    except ValidationError:
        notes.append("The run's gate settings could not be read; fairness uses the default approval policy.")
        return GateSettings()


def _protected(tags: dict, bundle: ModelBundle, ids: pd.Index, notes: list[str]) -> pd.DataFrame | None:
    """Protected attributes of the out-of-time instances, read from the dataset now (never logged)."""
    from creditml.data import load_dataset
    from creditml.data.protected import protected_attributes
    from creditml.runner import data_fingerprint

    path = tags.get("creditml.dataset")
    if not path or not Path(path).exists():
        notes.append(f"Fairness not computed: the run's dataset config {path!r} is not available on this machine.")
        return None
    try:
        dataset = load_dataset(path)
    except CreditmlError as exc:
        notes.append(f"Fairness not computed: the dataset {path!r} no longer loads ({str(exc).splitlines()[0]}).")
        return None
    fingerprint = data_fingerprint(dataset.config)
    if tags.get("creditml.data_fingerprint") and fingerprint != tags["creditml.data_fingerprint"]:
        notes.append(f"The dataset at {path} changed since training (fingerprint {fingerprint}, trained on "
                     f"{tags['creditml.data_fingerprint']}); protected attributes are read from its current files.")
    key_type = dataset.tables[bundle.task.target][bundle.index_name].dtype
    return protected_attributes(dataset, bundle.task.target, pd.Index(ids.astype(key_type)))


def write_report(model_name: str, version: str, out: Path, gates: dict | None = None) -> Path:
    """Build the report, write it atomically to ``out`` and log it to the version's run."""
    inputs = load_report_inputs(model_name, version)
    html = build_report(inputs, gates)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    with tempfile.TemporaryDirectory() as folder:
        named = Path(folder) / Path(REPORT_ARTIFACT).name
        named.write_text(html, encoding="utf-8")
        MlflowClient().log_artifact(inputs.run_id, str(named), str(Path(REPORT_ARTIFACT).parent))
    return out
