"""The MLflow model registry (SQLite, PostgreSQL or a tracking server), behind ``ModelRegistry``."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from creditml.registry._base import ModelRegistry, RegistryError, VersionInfo

FAILURE_TAG = "creditml.failure_reason"


class MlflowRegistry(ModelRegistry):
    def __init__(self, uri: str):
        self.uri = uri
        self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)

    def register_version(self, name: str, model_uri: str, run_id: str, tags: dict[str, str],
                         description: str = "") -> str:
        try:
            self.client.get_registered_model(name)
        except MlflowException:
            self.client.create_registered_model(name, description=description)
        # a logged model (MLflow 3) is named by its id: models:/m-<id>
        model_id = model_uri.split("/", 1)[1] if model_uri.startswith("models:/m-") else None
        version = self.client.create_model_version(name, model_uri, run_id=run_id, tags=tags, model_id=model_id)
        return str(version.version)

    def model_names(self) -> list[str]:
        return sorted(m.name for m in self.client.search_registered_models())

    def versions(self, name: str) -> list[str]:
        try:
            found = self.client.search_model_versions(f"name='{name}'")
        except MlflowException:
            found = []
        return sorted((str(v.version) for v in found), key=int)

    def require_model(self, name: str) -> None:
        try:
            self.client.get_registered_model(name)
        except MlflowException:
            known = ", ".join(self.model_names()) or "none"
            raise RegistryError(f"model {name!r} is not registered at {self.uri}; registered models: {known}. "
                                "Train it first (creditml run PIPELINE.yaml) or set MLFLOW_TRACKING_URI") from None

    def get_version(self, name: str, version: str) -> VersionInfo:
        self.require_model(name)
        try:
            mv = self.client.get_model_version(name, str(version))
        except MlflowException:
            known = ", ".join(self.versions(name)) or "none"
            raise RegistryError(f"model {name!r} has no version {version}; versions: {known}") from None
        created = (datetime.fromtimestamp(mv.creation_timestamp / 1000, timezone.utc).isoformat(timespec="seconds")
                   if mv.creation_timestamp else "")
        return VersionInfo(name, str(mv.version), mv.run_id or "", mv.source or "", dict(mv.tags), created)

    def set_version_tags(self, name: str, version: str, tags: dict[str, str]) -> None:
        for key, value in tags.items():
            self.client.set_model_version_tag(name, str(version), key, str(value))

    def alias_version(self, name: str, alias: str) -> str | None:
        try:
            return str(self.client.get_model_version_by_alias(name, alias).version)
        except MlflowException:
            return None

    def set_alias(self, name: str, alias: str, version: str | None) -> None:
        if version is None:
            self.client.delete_registered_model_alias(name, alias)
        else:
            self.client.set_registered_model_alias(name, alias, str(version))

    def download_artifacts(self, run_id: str, path: str, dst: Path | None = None) -> Path:
        return Path(self.client.download_artifacts(run_id, path, str(dst) if dst else None))

    def download_model(self, name: str, version: str, dst: Path) -> Path:
        source = self.get_version(name, version).source
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=source, dst_path=str(dst),
                                                        tracking_uri=self.uri))

    def run_tags(self, run_id: str) -> dict[str, str]:
        return dict(self.client.get_run(run_id).data.tags)

    def log_artifact(self, run_id: str, local_path: Path, artifact_dir: str) -> None:
        self.client.log_artifact(run_id, str(local_path), artifact_dir)

    def run_metrics(self, run_id: str) -> dict[str, float]:
        return dict(self.client.get_run(run_id).data.metrics)

    def model_tags(self, name: str) -> dict[str, str]:
        self.require_model(name)
        return dict(self.client.get_registered_model(name).tags)

    def set_model_tags(self, name: str, tags: dict[str, str]) -> None:
        for key, value in tags.items():
            self.client.set_registered_model_tag(name, key, str(value))

    def running_runs(self) -> list[tuple[str, dict[str, str]]]:
        experiments = [e.experiment_id for e in self.client.search_experiments()]
        found = []
        for i in range(0, len(experiments), 50):
            for run in self.client.search_runs(experiments[i:i + 50], "attributes.status = 'RUNNING'",
                                               max_results=1000):
                found.append((run.info.run_id, dict(run.data.tags)))
        return found

    def fail_run(self, run_id: str, reason: str) -> None:
        self.client.set_tag(run_id, FAILURE_TAG, reason[:4900])
        self.client.set_terminated(run_id, status="FAILED")
