"""What creditml needs from a model registry, as one small interface.

Like Optuna's storages: a base class that states the contract, one implementation per
backend (``_mlflow.MlflowRegistry`` for SQLite, PostgreSQL or a tracking server), a
factory that picks it from a URI (``creditml.registry.open_registry``) and one contract
test suite that every implementation passes (``tests/registry/test_contract.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from creditml.errors import CreditmlError


class RegistryError(CreditmlError):
    """A registry operation was refused; nothing was changed."""


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    run_id: str
    source: str  # the model URI the version was registered from
    tags: dict[str, str] = field(default_factory=dict)
    created_at: str = ""  # when the version was registered, ISO 8601 UTC ("" if the backend does not say)


class ModelRegistry(ABC):
    """Registered models, their versions, tags, aliases and run artifacts.

    Decisions (reviews, approvals, promotions, rollbacks) are not kept here: they are rows
    of the governance ledger (``creditml.governance``); tags and aliases only mirror it.

    Contract (every implementation):
    - ``register_version`` creates the model on first use and returns versions "1", "2", ...
    - unknown models and versions raise :class:`RegistryError` naming what exists;
    - ``alias_version`` of an unset alias is ``None``; ``set_alias(name, alias, None)`` removes it;
    - ``running_runs`` lists runs still marked RUNNING; ``fail_run`` marks one FAILED with a reason tag.
    """

    uri: str

    @abstractmethod
    def register_version(self, name: str, model_uri: str, run_id: str, tags: dict[str, str],
                         description: str = "") -> str: ...

    @abstractmethod
    def model_names(self) -> list[str]: ...

    @abstractmethod
    def versions(self, name: str) -> list[str]: ...

    @abstractmethod
    def require_model(self, name: str) -> None: ...

    @abstractmethod
    def get_version(self, name: str, version: str) -> VersionInfo: ...

    @abstractmethod
    def set_version_tags(self, name: str, version: str, tags: dict[str, str]) -> None: ...

    @abstractmethod
    def alias_version(self, name: str, alias: str) -> str | None: ...

    @abstractmethod
    def set_alias(self, name: str, alias: str, version: str | None) -> None: ...

    @abstractmethod
    def download_artifacts(self, run_id: str, path: str, dst: Path | None = None) -> Path:
        """A run artifact (file or folder) as a local path."""

    @abstractmethod
    def download_model(self, name: str, version: str, dst: Path) -> Path:
        """The logged model folder of a version."""

    @abstractmethod
    def run_tags(self, run_id: str) -> dict[str, str]: ...

    @abstractmethod
    def log_artifact(self, run_id: str, local_path: Path, artifact_dir: str) -> None: ...

    @abstractmethod
    def run_metrics(self, run_id: str) -> dict[str, float]: ...

    @abstractmethod
    def model_tags(self, name: str) -> dict[str, str]: ...

    @abstractmethod
    def set_model_tags(self, name: str, tags: dict[str, str]) -> None: ...

    @abstractmethod
    def running_runs(self) -> list[tuple[str, dict[str, str]]]:
        """``(run_id, tags)`` of every run still marked RUNNING."""

    @abstractmethod
    def fail_run(self, run_id: str, reason: str) -> None:
        """Mark a run FAILED, with ``reason`` in the tag ``creditml.failure_reason``."""
