"""A real tiny model through the real pipeline, then its report from MLflow."""

from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient

from creditml.config import load_pipeline_config
from creditml.registry import RegistryError
from creditml.registry.reports import REPORT_ARTIFACT, load_report_inputs, write_report
from creditml.explain.report import SECTIONS
from tests.conftest import PIPELINES
from tests.explain import chromium
from tests.services import require_chromium


@pytest.fixture(scope="module")
def trained_version(small_world, tmp_path_factory):
    """(model name, version, run id) of credit_default trained on the small world into a fresh MLflow store."""
    from creditml.runner import run_pipeline

    tmp = tmp_path_factory.mktemp("e2e-report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
        mp.chdir(tmp)  # the embedded artifact root (mlruns/) lands here
        cfg = load_pipeline_config(
            PIPELINES / "credit_default.yaml", dataset=small_world,
            overrides=["tuning.n_trials=3", "features.max_candidates=300", "selection.max_selected=40",
                       "training.min_positives=5", f"tuning.storage=sqlite:///{tmp / 'optuna.db'}"])
        summary = run_pipeline(cfg)
        yield summary.model_name, summary.version, summary.run_id, tmp


@pytest.fixture()
def store(trained_version, monkeypatch):
    name, version, run_id, tmp = trained_version
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
    monkeypatch.chdir(tmp)
    return name, version, run_id, tmp


def test_report_of_a_registered_version_is_written_and_logged(store, tmp_path):
    name, version, run_id, _ = store
    out = write_report(name, version, tmp_path / "reports" / "model.html")
    html = out.read_text(encoding="utf-8")
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in html
    assert "<script" not in html and 'src="http' not in html
    assert len(html.encode()) < 5_000_000
    assert not list(out.parent.glob(".*.tmp")), "the temporary file was left behind"
    logged = [a.path for a in MlflowClient().list_artifacts(run_id, "report")]
    assert logged == [REPORT_ARTIFACT]
    require_chromium()
    rendered = chromium.render(out)
    assert all(f'id="{sid}"' in rendered.dom for sid in SECTIONS)
    assert rendered.images > 0 and rendered.complete_images == rendered.images


def test_inputs_carry_lineage_and_protected_groups(store):
    name, version, run_id, _ = store
    inputs = load_report_inputs(name, version)
    assert inputs.run_id == run_id
    assert inputs.tags["creditml.data_fingerprint"] and inputs.tags["creditml.code_version"]
    assert set(inputs.sample["__split__"]) == {"train", "test"}
    assert inputs.protected is not None and not inputs.notes
    assert {"customers.gender", "customers.birth_year"} <= set(inputs.protected.columns)
    test_ids = inputs.predictions.index[inputs.predictions.split == "test"]
    assert inputs.protected.index.equals(test_ids)


def test_unknown_version_and_model_say_what_exists(store):
    name, version, _, _ = store
    with pytest.raises(RegistryError, match=rf"model '{name}' has no version 7; versions: {version}$"):
        load_report_inputs(name, "7")
    with pytest.raises(RegistryError, match=rf"model 'nope' is not registered at .*; registered models: {name}\."):
        load_report_inputs("nope", "1")
