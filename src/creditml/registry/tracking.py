"""MLflow tracking: where runs go and how a pipeline run is recorded.

Every ``mlflow`` call of the training pipeline lives here. The embedded default is
``sqlite:///mlruns/mlflow.db`` with artifacts under ``mlruns/artifacts``;
``MLFLOW_TRACKING_URI`` points at a tracking server instead.
"""

from __future__ import annotations

import json
import logging
import os
import re
import warnings
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import mlflow
import pandas as pd
import yaml
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

import creditml
from creditml.errors import ConfigError

DEFAULT_ROOT = Path("mlruns")


def configure(root: Path = DEFAULT_ROOT) -> str:
    """Point MLflow at ``MLFLOW_TRACKING_URI`` or the embedded SQLite store; return the URI."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.getLogger("mlflow").setLevel(logging.ERROR)  # its INFO/WARNING chatter buries our summary
    warnings.filterwarnings("ignore", category=UserWarning, module=r"mlflow(\.|$)")
    warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method")
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        root.mkdir(parents=True, exist_ok=True)
        uri = f"sqlite:///{(root / 'mlflow.db').resolve()}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


OPTUNA_ENV = "CREDITML_OPTUNA_STORAGE"
ARTIFACT_ENV = "CREDITML_ARTIFACT_ROOT"


def store_folder(uri: str) -> Path | None:
    """The folder of an SQLite tracking store (artifacts and the Optuna study live beside it); None otherwise."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri[len("sqlite:///"):]).resolve().parent


def optuna_storage(explicit: str | None, uri: str) -> str:
    """Where the Optuna study lives: the setting, ``CREDITML_OPTUNA_STORAGE``, or beside an SQLite tracking store."""
    if explicit or os.environ.get(OPTUNA_ENV):
        return explicit or os.environ[OPTUNA_ENV]
    folder = store_folder(uri)
    if folder is None:
        raise ConfigError(
            f"tuning.storage: the tracking store {uri!r} is not an SQLite file, so the Optuna study has no home "
            f"beside it; set tuning.storage (e.g. --set tuning.storage=postgresql://USER@HOST/optuna, a database "
            f"of its own) or export {OPTUNA_ENV}")
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'optuna.db'}"


def artifact_location(name: str, uri: str) -> str | None:
    """Where a new experiment keeps its artifacts: beside an SQLite store, ``CREDITML_ARTIFACT_ROOT``, or the server's."""
    if os.environ.get(ARTIFACT_ENV):
        return f"{os.environ[ARTIFACT_ENV].rstrip('/')}/{name.replace('/', '-')}"
    folder = store_folder(uri)
    if folder is not None:
        return (folder / "artifacts" / name.replace("/", "-")).as_uri()
    if uri.startswith(("http://", "https://", "databricks")):
        return None  # a tracking server keeps artifacts in its own artifact root
    raise ConfigError(
        f"MLFLOW_TRACKING_URI={uri!r} is a database without a tracking server, so run artifacts have no home; "
        f"export {ARTIFACT_ENV} (e.g. s3://bucket/creditml or file:///shared/mlartifacts) or use a tracking server")


def experiment_id(name: str) -> str:
    client = MlflowClient()
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    return client.create_experiment(name, artifact_location=artifact_location(name, mlflow.get_tracking_uri()))


def code_version() -> str:
    here = Path(creditml.__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "-C", str(here), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--", "."], capture_output=True,
                               text=True, timeout=5).stdout.strip()
        return f"{creditml.__version__}+{sha}{'.dirty' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return creditml.__version__


_PARAM_NAME = re.compile(r"[\w\-. :/]+")  # what MLflow accepts in a parameter name


def _flatten(prefix: str, value, out: dict) -> None:
    """Nested settings as dotted parameters; a mapping keyed by patterns (``"GRAPH_*"``) stays one JSON value."""
    if isinstance(value, dict) and all(_PARAM_NAME.fullmatch(str(k)) for k in value):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = json.dumps(value) if isinstance(value, (list, tuple, dict)) else value


@contextmanager
def pipeline_run(experiment: str, run_name: str, tags: dict[str, str]):
    """A parent run that is deleted, not left half-written, if anything inside fails."""
    from creditml.registry.recovery import process_tags

    exp = experiment_id(experiment)
    run = mlflow.start_run(experiment_id=exp, run_name=run_name, tags={**tags, **process_tags()})
    try:
        yield run
    except BaseException:
        mlflow.end_run(status="FAILED")
        MlflowClient().delete_run(run.info.run_id)
        raise
    else:
        mlflow.end_run(status="FINISHED")


def log_config(config_dict: dict) -> None:
    flat: dict = {}
    _flatten("", config_dict, flat)
    params = {k: ("" if v is None else str(v))[:6000] for k, v in flat.items()}
    items = list(params.items())
    for i in range(0, len(items), 90):
        mlflow.log_params(dict(items[i:i + 90]))
    mlflow.log_text(yaml.safe_dump(config_dict, sort_keys=False), "config/pipeline.yaml")


def log_metrics(metrics: dict[str, float]) -> None:
    clean = {k: float(v) for k, v in metrics.items() if v is not None and pd.notna(v)}
    mlflow.log_metrics(clean)


def log_frame(frame: pd.DataFrame, artifact_path: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_path).name
        if path.suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.to_parquet(path)
        mlflow.log_artifact(str(path), str(Path(artifact_path).parent) if "/" in artifact_path else None)


def log_json(data, artifact_path: str) -> None:
    mlflow.log_text(json.dumps(data, indent=1, default=str), artifact_path)


def log_text(text: str, artifact_path: str) -> None:
    mlflow.log_text(text, artifact_path)


def log_model(bundle_dir: Path, example_record: str, example_output: pd.DataFrame) -> str:
    """Log the pyfunc with signature and input example; return its model URI."""
    from creditml.registry.pyfunc import CreditmlModel

    example = pd.DataFrame({"record": [example_record]})
    info = mlflow.pyfunc.log_model(
        name="model", python_model=CreditmlModel(), artifacts={"bundle": str(bundle_dir)},
        signature=infer_signature(example, example_output), input_example=example,
        pip_requirements=[f"creditml=={creditml.__version__}"],
    )
    return info.model_uri


def log_monitoring_run(model_run_id: str, run_name: str, tags: dict[str, str], metrics: dict[str, float],
                       texts: dict[str, str], files: dict[str, Path]) -> str:
    """A monitoring run in the experiment of the model's training run; return its id."""
    experiment = MlflowClient().get_run(model_run_id).info.experiment_id
    with mlflow.start_run(experiment_id=experiment, run_name=run_name, tags=tags) as run:
        mlflow.log_metrics(metrics)
        for artifact_path, text in texts.items():
            mlflow.log_text(text, artifact_path)
        for artifact_dir, path in files.items():
            mlflow.log_artifact(str(path), artifact_dir)
    return run.info.run_id
