"""The one package that talks to MLflow: tracking, the model registry, the pyfunc, loaders.

``open_registry(uri)`` picks the registry implementation from a URI; everything that
reads or changes registered models goes through the :class:`ModelRegistry` it returns.
"""

from __future__ import annotations

from creditml.registry._base import ModelRegistry, RegistryError, VersionInfo

SCHEMES = ("sqlite", "postgresql", "mysql", "http", "https", "databricks")


def open_registry(uri: str | None = None) -> ModelRegistry:
    """The registry at ``uri``; by default the configured tracking store (``MLFLOW_TRACKING_URI`` or SQLite)."""
    from creditml.registry import tracking

    uri = uri or tracking.configure()
    scheme = uri.split(":", 1)[0].split("+", 1)[0]
    if scheme not in SCHEMES:
        raise RegistryError(f"registry URI {uri!r}: expected one of the schemes {', '.join(SCHEMES)} "
                            "(e.g. sqlite:///mlruns/mlflow.db or http://HOST:5000); set MLFLOW_TRACKING_URI")
    from creditml.registry._mlflow import MlflowRegistry

    return MlflowRegistry(uri)


__all__ = ["ModelRegistry", "RegistryError", "VersionInfo", "open_registry"]
