"""Fixtures of the workbench tests.

- ``placeholder``: a real MLflow registry (SQLite) whose versions carry the tags of a
  gated registration but a placeholder model: enough for sessions, roles, decisions and
  the queue; its reports come from a stub builder (the real report is tested in
  ``test_browser.py`` on a real pipeline run).
- ``people``: governance users with argon2 passwords, a fresh governance database and a
  signing key per test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import pytest

from creditml.governance import GovernanceStore, Ledger, SigningKey, connect, create_user
from creditml.registry import ModelRegistry, open_registry, tracking
from creditml.review._decisions import TRAINED_BY_TAG

MODEL = "creditml-test-workbench"
PASSWORD = "correct horse battery staple"
# the trainer also approves other teams' models: the four-eyes rule, not a missing role, must stop them here
USERS = {"dana": ("data_scientist", "approver"), "rita": ("reviewer", "approver"), "alex": ("approver",),
         "dave": ("data_scientist",), "svc": ("service",)}


@dataclass
class People:
    store: GovernanceStore
    ledger: Ledger
    key: SigningKey
    identities: dict


@pytest.fixture
def people(tmp_path) -> People:
    store = connect(f"sqlite:///{tmp_path / 'governance.db'}")
    key = SigningKey.generate()
    identities = {name: create_user(store, name, roles, password=PASSWORD) for name, roles in USERS.items()}
    yield People(store, Ledger(store, signing_key=key), key, identities)
    store.dispose()


@dataclass
class Placeholder:
    registry: ModelRegistry
    new_version: object  # (trainer, gates="passed") -> version


@pytest.fixture
def placeholder(tmp_path, monkeypatch) -> Placeholder:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
    tracking.configure(tmp_path / "mlruns")
    registry = open_registry()

    def new_version(trainer: str | None = "dana", gates: str = "passed") -> str:
        with mlflow.start_run(experiment_id=tracking.experiment_id("creditml/test")) as run:
            mlflow.log_text("placeholder model for workbench tests", "model/MLmodel")
        tags = {"creditml.task": "credit_default", "test_auc": "0.7312", "test_ks": "0.3810", "creditml.gates": gates}
        if trainer:
            tags[TRAINED_BY_TAG] = trainer
        return registry.register_version(MODEL, f"runs:/{run.info.run_id}/model", run.info.run_id, tags)

    return Placeholder(registry, new_version)


def stub_report(store: ModelRegistry, model: str, version: str) -> str:
    return (f"<!DOCTYPE html><html><head><style>body{{font-family:sans-serif}}</style></head><body>"
            f"<header><h1>Model review: {model} v{version}</h1></header><main><section id=\"summary\"><h2>Summary</h2>"
            "<p>stub report</p></section></main></body></html>")


def shots_dir() -> Path:
    out = Path("/tmp/workbench-shots")
    out.mkdir(parents=True, exist_ok=True)
    return out
