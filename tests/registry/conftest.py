"""A fresh MLflow store (SQLite) with its governance ledger beside it, and signed-in people."""

from __future__ import annotations

import pytest

from creditml.registry import open_registry, tracking
from creditml.registry.governed import open_store
from tests.governed import people


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("CREDITML_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CREDITML_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    tracking.configure(tmp_path / "mlruns")
    return people(open_store(open_registry()))
