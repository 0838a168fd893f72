"""The edge of the report: load one registered version's run through the registry, write the page."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import yaml
from pydantic import ValidationError

from creditml.config import GateSettings, ReportSettings
from creditml.data import Dataset, load_dataset
from creditml.data.fingerprint import data_fingerprint
from creditml.data.segments import column_values
from creditml.errors import ConfigError, CreditmlError
from creditml.explain.report import ReportInputs, build_report
from creditml.modeling.artifacts import (GateRecord, LeakageFlags, TuningSummary, check_selection_table,
                                        read_record)
from creditml.modeling.metrics import SplitMetrics
from creditml.registry import ModelRegistry, open_registry
from creditml.registry.compare_inputs import load_champion
from creditml.model.bundle import ModelBundle

REPORT_ARTIFACT = "report/model_report.html"


def load_report_inputs(model_name: str, version: str, registry: ModelRegistry | None = None) -> ReportInputs:
    """Everything the report shows for ``model_name`` version ``version``, from its MLflow run."""
    registry = registry or open_registry()
    mv = registry.get_version(model_name, version)
    tags = registry.run_tags(mv.run_id)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run_dir = registry.download_artifacts(mv.run_id, "", tmp / "run")
        model_dir = registry.download_model(model_name, mv.version, tmp / "model")
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
    dataset, problem = _dataset(tags, notes)
    protected = None
    if dataset is None:
        notes.append(f"Fairness not computed: {problem}")
    else:
        protected = _protected(dataset, bundle, test_ids)
    segments, segment_note = _segments(pipeline, dataset, problem, bundle, test_ids)
    champion, champion_note = load_champion(registry, model_name, str(mv.version), bundle, predictions, dataset,
                                            problem, notes)
    return ReportInputs(
        model_name=model_name, version=str(mv.version), run_id=mv.run_id, task=bundle.task, booster=bundle.booster,
        features=bundle.features, categories=bundle.categories, best_iteration=bundle.best_iteration,
        scoring=bundle.scoring, descriptions={**logged.pop("descriptions"), **bundle.descriptions},
        predictions=predictions, protected=protected, tags=tags, gate_settings=gate_settings, notes=notes,
        champion=champion, champion_note=champion_note, segments=segments,
        **({"segment_note": segment_note} if segment_note else {}),
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

    def record(model, rel: str):
        return read_record(model, need(rel).read_text(), rel)

    metrics = {s: SplitMetrics(**m) for s, m in json.loads(need("evaluation/metrics.json").read_text()).items()}
    predictions = pd.read_parquet(need("evaluation/predictions.parquet")).set_index("instance_id")
    trials_path = run_dir / "tuning/optuna_trials.csv"
    selection_path = run_dir / "features/selection.csv"
    return {
        "metrics": metrics, "predictions": predictions,
        "sample": pd.read_parquet(need("explain/shap_sample.parquet")),
        "selection": check_selection_table(pd.read_csv(need("features/selection.csv"))),
        "leakage_flags": record(LeakageFlags, "features/leakage_flags.json").leakage_flags,
        "descriptions": json.loads(need("features/descriptions.json").read_text()),
        "tuning": record(TuningSummary, "tuning/summary.json"),
        "trials": pd.read_csv(need("tuning/optuna_trials.csv")),
        "gates": record(GateRecord, "gates/gates.json"),
        "pipeline": yaml.safe_load((run_dir / "config/pipeline.yaml").read_text())
        if (run_dir / "config/pipeline.yaml").exists() else {},
    }


def _gate_settings(pipeline: dict, notes: list[str]) -> GateSettings:
    try:
        return GateSettings.model_validate(pipeline.get("gates") or {})
    except ValidationError:
        notes.append("The run's gate settings could not be read; fairness uses the default approval policy.")
        return GateSettings()


def _dataset(tags: dict, notes: list[str]) -> tuple[Dataset | None, str]:
    """The run's dataset as it is now (protected attributes, segments and the champion's features come from
    it; none of them is logged), or None and why, phrased to follow "not computed: "."""
    path = tags.get("creditml.dataset")
    if not path or not Path(path).exists():
        return None, f"the run's dataset config {path!r} is not available on this machine."
    try:
        dataset = load_dataset(path)
    except CreditmlError as exc:
        return None, f"the dataset {path!r} no longer loads ({str(exc).splitlines()[0]})."
    fingerprint = data_fingerprint(dataset.config)
    if tags.get("creditml.data_fingerprint") and fingerprint != tags["creditml.data_fingerprint"]:
        notes.append(f"The dataset at {path} changed since training (fingerprint {fingerprint}, trained on "
                     f"{tags['creditml.data_fingerprint']}); protected attributes, segments and the champion's "
                     "scores are read from its current files.")
    return dataset, ""


def _instance_ids(dataset: Dataset, bundle: ModelBundle, ids: pd.Index) -> pd.Index:
    key_type = dataset.tables[bundle.task.target][bundle.index_name].dtype
    return pd.Index(ids.astype(key_type))


def _protected(dataset: Dataset, bundle: ModelBundle, ids: pd.Index) -> pd.DataFrame:
    """Protected attributes of the out-of-time instances, read from the dataset now (never logged)."""
    from creditml.data.protected import protected_attributes

    return protected_attributes(dataset, bundle.task.target, _instance_ids(dataset, bundle, ids))


def _segments(pipeline: dict, dataset: Dataset | None, problem: str, bundle: ModelBundle,
              ids: pd.Index) -> tuple[pd.DataFrame | None, str]:
    """Declared segment values of the out-of-time instances, or None and what the report says instead."""
    try:
        declared = ReportSettings.model_validate(pipeline.get("report") or {}).segments
    except ValidationError as exc:
        return None, f"Segments not shown: the run's report settings do not validate ({exc.errors()[0]['msg']})."
    if not declared:
        return None, ""
    if dataset is None:
        return None, f"Segments ({', '.join(declared)}) not shown: {problem}"
    try:
        values = column_values(dataset, bundle.task.target, _instance_ids(dataset, bundle, ids), declared)
    except ConfigError as exc:
        return None, f"Segments not shown: {exc}"
    values.index = ids
    return values, ""


def write_report(model_name: str, version: str, out: Path, gates: GateRecord | None = None) -> Path:
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
        open_registry().log_artifact(inputs.run_id, named, str(Path(REPORT_ARTIFACT).parent))
    return out
