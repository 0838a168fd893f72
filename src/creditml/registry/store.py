"""Registry operations: versions, tags, aliases and the audit log, on any MLflow backend.

The audit log is append-only: one registered-model tag per entry
(``creditml.audit.000001`` ...), so it lives wherever the registry lives (SQLite or a
tracking server) and an entry is written in one call.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from creditml.errors import CreditmlError

AUDIT_PREFIX = "creditml.audit."


class RegistryError(CreditmlError):
    """A registry operation was refused; nothing was changed."""


def client() -> MlflowClient:
    return MlflowClient()


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def versions(name: str) -> list[str]:
    try:
        found = client().search_model_versions(f"name='{name}'")
    except MlflowException:
        found = []
    return sorted((str(v.version) for v in found), key=int)


def require_model(name: str):
    try:
        return client().get_registered_model(name)
    except MlflowException:
        raise RegistryError(f"model {name!r} is not registered; train it first (creditml run PIPELINE.yaml)") from None


def get_version(name: str, version: str):
    require_model(name)
    try:
        return client().get_model_version(name, str(version))
    except MlflowException:
        known = ", ".join(versions(name)) or "none"
        raise RegistryError(f"model {name!r} has no version {version}; versions: {known}") from None


def alias_version(name: str, alias: str) -> str | None:
    try:
        return str(client().get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def set_version_tags(name: str, version: str, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        client().set_model_version_tag(name, str(version), key, str(value))


def set_alias(name: str, alias: str, version: str | None) -> None:
    if version is None:
        client().delete_registered_model_alias(name, alias)
    else:
        client().set_registered_model_alias(name, alias, str(version))


def audit_entries(name: str) -> list[dict]:
    tags = client().get_registered_model(name).tags
    return [json.loads(tags[k]) for k in sorted(k for k in tags if k.startswith(AUDIT_PREFIX))]


def append_audit(name: str, entry: dict) -> None:
    number = len(audit_entries(name)) + 1
    client().set_registered_model_tag(name, f"{AUDIT_PREFIX}{number:06d}", json.dumps({"at": now(), **entry}))


def download_artifact(run_id: str, path: str) -> str:
    return mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path)
