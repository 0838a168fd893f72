"""The registry contract: every ``ModelRegistry`` implementation, on every backend, behaves the same.

Run against MLflow on SQLite (the embedded default) and on the machine's PostgreSQL
(a database created for the test and dropped afterwards).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import mlflow
import pytest
import sqlalchemy as sa

from creditml.registry import ModelRegistry, RegistryError, open_registry
from tests.services import require_postgres

POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"registry-{request.param}")
    if request.param == "sqlite":
        yield f"sqlite:///{folder / 'mlflow.db'}", folder
        return
    require_postgres()
    name = f"creditml_contract_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield f"{POSTGRES}/{name}", folder
    finally:
        sa.create_engine(f"{POSTGRES}/{name}").dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def registry(backend) -> ModelRegistry:
    uri, _ = backend
    return open_registry(uri)


def _logged_run(uri: str, folder: Path) -> str:
    """A finished run with a model folder and a small artifact, as a pipeline run leaves one."""
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("contract")
    exp_id = experiment.experiment_id if experiment else client.create_experiment(
        "contract", artifact_location=(folder / "artifacts").as_uri())
    run = client.create_run(exp_id)
    model = folder / f"model-{run.info.run_id}"
    model.mkdir()
    (model / "MLmodel").write_text("flavors: {}\n")
    client.log_artifacts(run.info.run_id, str(model), "model")
    note = folder / "note.txt"
    note.write_text("evaluation figures")
    client.log_artifact(run.info.run_id, str(note), "evaluation")
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def _new_version(registry: ModelRegistry, backend, name: str) -> tuple[str, str]:
    uri, folder = backend
    run_id = _logged_run(uri, folder)
    version = registry.register_version(name, f"runs:/{run_id}/model", run_id, {"creditml.task": "credit_default"})
    return version, run_id


def test_versions_are_numbered_and_tagged(registry, backend):
    name = f"m-{uuid.uuid4().hex[:6]}"
    v1, run_id = _new_version(registry, backend, name)
    v2, _ = _new_version(registry, backend, name)
    assert (v1, v2) == ("1", "2")
    assert registry.versions(name) == ["1", "2"]
    assert name in registry.model_names()
    info = registry.get_version(name, v1)
    assert info.run_id == run_id and info.tags["creditml.task"] == "credit_default"
    registered = datetime.fromisoformat(info.created_at)
    assert registered.tzinfo is not None and abs(datetime.now(timezone.utc) - registered) < timedelta(minutes=10)
    registry.set_version_tags(name, v1, {"creditml.gates": "passed"})
    assert registry.get_version(name, v1).tags["creditml.gates"] == "passed"


def test_unknown_models_and_versions_are_refused_with_what_exists(registry, backend):
    name = f"m-{uuid.uuid4().hex[:6]}"
    _new_version(registry, backend, name)
    with pytest.raises(RegistryError, match=rf"model '{name}' has no version 9; versions: 1$"):
        registry.get_version(name, "9")
    with pytest.raises(RegistryError, match=r"model 'creditml-nope' is not registered at .*; registered models: .*"
                                            rf"{name}.*Train it first"):
        registry.require_model("creditml-nope")


def test_aliases_move_and_can_be_removed(registry, backend):
    name = f"m-{uuid.uuid4().hex[:6]}"
    v1, _ = _new_version(registry, backend, name)
    v2, _ = _new_version(registry, backend, name)
    assert registry.alias_version(name, "champion") is None
    registry.set_alias(name, "champion", v1)
    assert registry.alias_version(name, "champion") == v1
    registry.set_alias(name, "champion", v2)
    assert registry.alias_version(name, "champion") == v2
    registry.set_alias(name, "champion", None)
    assert registry.alias_version(name, "champion") is None


def test_artifacts_of_runs_and_models_are_downloaded_and_logged(registry, backend, tmp_path):
    name = f"m-{uuid.uuid4().hex[:6]}"
    version, run_id = _new_version(registry, backend, name)
    assert registry.download_artifacts(run_id, "evaluation/note.txt").read_text() == "evaluation figures"
    model = registry.download_model(name, version, tmp_path / "model")
    assert (model / "MLmodel").exists()
    report = tmp_path / "report.html"
    report.write_text("<html></html>")
    registry.log_artifact(run_id, report, "report")
    assert registry.download_artifacts(run_id, "report/report.html").read_text() == "<html></html>"
    assert registry.run_tags(run_id) is not None


def test_model_tags_round_trip_and_the_registry_keeps_no_audit_trail(registry, backend):
    """Decisions live in the governance ledger; the seam only mirrors them in tags."""
    name = f"m-{uuid.uuid4().hex[:6]}"
    _new_version(registry, backend, name)
    registry.set_model_tags(name, {"creditml.ledger.head": "3:abc"})
    assert registry.model_tags(name)["creditml.ledger.head"] == "3:abc"
    assert not hasattr(registry, "append_audit") and not hasattr(registry, "audit_entries")
    with pytest.raises(RegistryError, match="model 'creditml-nope' is not registered"):
        registry.model_tags("creditml-nope")


def test_running_runs_are_listed_and_fail_run_closes_them_with_a_reason(registry, backend):
    uri, folder = backend
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("contract")
    exp_id = experiment.experiment_id if experiment else client.create_experiment(
        "contract", artifact_location=(folder / "artifacts").as_uri())
    run = client.create_run(exp_id, tags={"creditml.pid": "1"})
    client.log_metric(run.info.run_id, "fairness_ratio", 0.9)
    assert registry.run_metrics(run.info.run_id) == {"fairness_ratio": 0.9}
    running = dict(registry.running_runs())
    assert running[run.info.run_id]["creditml.pid"] == "1"
    registry.fail_run(run.info.run_id, "process 1 was killed")
    assert run.info.run_id not in dict(registry.running_runs())
    closed = client.get_run(run.info.run_id)
    assert closed.info.status == "FAILED" and closed.data.tags["creditml.failure_reason"] == "process 1 was killed"


def test_the_factory_refuses_an_unknown_scheme():
    with pytest.raises(RegistryError, match=r"registry URI 'ftp://x': expected one of the schemes sqlite, "
                                            r"postgresql, .* set MLFLOW_TRACKING_URI"):
        open_registry("ftp://x")
