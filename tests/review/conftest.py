"""Fixtures of the workbench tests.

- ``placeholder``: a real MLflow registry (SQLite) whose versions carry the tags of a
  gated registration but a placeholder model: enough for sessions, roles, decisions and
  the queue; its reports come from a stub builder (the real report is tested in
  ``test_browser.py`` on a real pipeline run).
- ``people``: governance users with argon2 passwords, a fresh governance database and a
  signing key per test.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from creditml.governance import Identity, GovernanceStore, Ledger, SigningKey, connect, create_user
from creditml.registry import ModelRegistry, open_registry

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


@pytest.fixture(scope="session")
def people(tmp_path_factory) -> People:
    """One governance database for the session: every test works on its own model, so its ledger is its own."""
    store = connect(f"sqlite:///{tmp_path_factory.mktemp('workbench-gov') / 'governance.db'}")
    key = SigningKey.generate()
    identities = {name: create_user(store, name, roles, password=PASSWORD) for name, roles in USERS.items()}
    yield People(store, Ledger(store, signing_key=key), key, identities)
    store.dispose()


@dataclass
class Placeholder:
    registry: ModelRegistry
    model: str  # a fresh registered-model name per test
    new_version: object  # (trainer="dana", gates="passed") -> version


@pytest.fixture(scope="session")
def placeholder_store(tmp_path_factory) -> tuple[str, str]:
    """(tracking URI, experiment id) of one MLflow store shared by the placeholder tests."""
    folder = tmp_path_factory.mktemp("workbench-mlflow")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    return uri, client.create_experiment("creditml/workbench-test", artifact_location=(folder / "artifacts").as_uri())


@pytest.fixture
def placeholder(placeholder_store, people) -> Placeholder:
    uri, experiment = placeholder_store
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    registry = open_registry(uri)
    model = f"{MODEL}-{uuid.uuid4().hex[:8]}"

    def new_version(trainer: str | None = "dana", gates: str = "passed") -> str:
        run = client.create_run(experiment)
        client.log_text(run.info.run_id, "placeholder model for workbench tests", "model/MLmodel")
        client.set_terminated(run.info.run_id)
        tags = {"creditml.task": "credit_default", "test_auc": "0.7312", "test_ks": "0.3810", "creditml.gates": gates}
        version = registry.register_version(model, f"runs:/{run.info.run_id}/model", run.info.run_id, tags)
        if trainer:  # who trained it is the ledger's signed record, as creditml run writes it
            people.ledger.append(model, "registered", Identity(trainer, frozenset({"data_scientist"})),
                                 version=version, payload={"trainer": trainer, "verified": True,
                                                           "run_id": run.info.run_id})
        return version

    return Placeholder(registry, model, new_version)


def stub_report(store: ModelRegistry, model: str, version: str) -> str:
    return (f"<!DOCTYPE html><html><head><style>body{{font-family:sans-serif}}</style></head><body>"
            f"<header><h1>Model review: {model} v{version}</h1></header><main><section id=\"summary\"><h2>Summary</h2>"
            "<p>stub report</p></section></main></body></html>")


def shots_dir() -> Path:
    out = Path("/tmp/workbench-shots")
    out.mkdir(parents=True, exist_ok=True)
    return out
