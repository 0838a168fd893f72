"""Training/serving skew: every serving path reproduces the offline run exactly.

For a sample of instances: the features the served model computes from raw records
equal the run's offline feature values (``explain/shap_sample.parquet``), and the REST
server, ``mlflow models serve`` and batch scoring all return the probability of the
offline evaluation (``evaluation/predictions.parquet``).
"""

from __future__ import annotations

import json
import subprocess

import httpx
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from creditml.model.bundle import feature_skew
from creditml.serving.batch import FEATURE_PREFIX, score_file, write_records
from creditml.serving.linkstore import LinkStore
from creditml.serving.champions import ChampionWatcher
from tests.serving.conftest import (free_port, predictions, records_of, run_artifact, serving_app, stop,
                                    subprocess_env, wait_http)
from tests.conftest import WORLD_TASKS

TASKS = WORLD_TASKS  # collection_cure scores collection cases, not applications
N = 6
# offline predictions are XGBoost's float32; served ones sum float32 contributions in float64
ATOL = 1e-6


def _sample(serving_world, task):
    trained = serving_world.model(task)
    shap = pd.read_parquet(run_artifact(trained.run_id, "explain/shap_sample.parquet"))
    preds = predictions(trained.run_id)
    ids = list(shap.index[shap["__split__"] == "test"][: N // 2]) + list(shap.index[shap["__split__"] == "train"][: N // 2])
    return trained, shap.loc[ids].drop(columns="__split__"), preds.loc[ids, "probability"]


@pytest.mark.parametrize("task", TASKS)
def test_served_features_equal_offline_features(task, serving_world, world_dataset, bundles):
    trained, offline, _ = _sample(serving_world, task)
    bundle = bundles[task]
    served = bundle.feature_matrix(records_of(world_dataset, bundle, offline.index))
    # equal as the model reads them (XGBoost's float32): a tolerance would hide 0 against 1e-28 (the slope
    # of a constant series summed in another order), which a split at 0 sends down the other branch
    diffs = {i: skew for i in offline.index
             if (skew := feature_skew(offline.loc[i, bundle.features], served.loc[i, bundle.features],
                                      limit=len(bundle.features)))}
    assert not diffs, f"feature values differ for {len(diffs)} instance(s), e.g. {list(diffs.items())[:2]}"


@pytest.mark.parametrize("task", TASKS)
def test_server_and_batch_reproduce_offline_predictions(task, serving_world, world_dataset, bundles, tmp_path):
    trained, offline, want = _sample(serving_world, task)
    records = records_of(world_dataset, bundles[task], offline.index)
    with TestClient(serving_app(ChampionWatcher(poll_seconds=0)), headers=serving_world.people["sam"].bearer) as client:
        r = client.post(f"/v1/{task}/score", json={"records": records})
    assert r.status_code == 200, r.text
    served = pd.Series({x["instance_id"]: x["probability"] for x in r.json()["results"]})
    np.testing.assert_allclose(served.loc[want.index], want, rtol=0, atol=ATOL)

    for suffix in (".parquet", ".jsonl"):
        src = write_records(records, tmp_path / f"in{suffix}")
        out = tmp_path / f"out{suffix}"
        summary = score_file(f"models:/{trained.name}@champion", src, out, batch_size=4, show_progress=False)
        assert summary.rows == len(records)
        frame = pd.read_parquet(out) if suffix == ".parquet" else pd.read_json(out, lines=True)
        got = frame.set_index("instance_id")["probability"]
        np.testing.assert_allclose(got.loc[want.index], want, rtol=0, atol=ATOL)
        assert f"{FEATURE_PREFIX}{bundles[task].features[0]}" in frame.columns
        assert (frame["model_name"] == trained.name).all()
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_fraud_server_fills_graph_context_from_the_link_store(serving_world, world_dataset, bundles, tmp_path):
    """A client sends only the application's own rows; the store supplies the identifier group."""
    trained, offline, want = _sample(serving_world, "intermediary_fraud")
    bundle = bundles["intermediary_fraud"]
    store = LinkStore(f"sqlite:///{tmp_path / 'links.db'}")
    store.load_from_dataset(world_dataset, bundle.features_settings.graph, bundle.task.target)
    records = records_of(world_dataset, bundle, offline.index, graph=False)
    graph = bundle.features_settings.graph
    for record in records:  # the application's own sightings travel with it
        own = world_dataset.tables[graph.table]
        own = own[own[graph.instance_column] == record["instance"][bundle.index_name]]
        from creditml.model.records import frame_rows

        record["related"][graph.table] = frame_rows(own)
    with TestClient(serving_app(ChampionWatcher(poll_seconds=0), store),
                    headers=serving_world.people["svc"].bearer) as client:
        assert any(m["link_store"] for m in client.get("/v1/models").json())
        r = client.post("/v1/intermediary_fraud/score", json={"records": records})
    assert r.status_code == 200, r.text
    served = pd.Series({x["instance_id"]: x["probability"] for x in r.json()["results"]})
    np.testing.assert_allclose(served.loc[want.index], want, rtol=0, atol=ATOL)


def test_mlflow_models_serve_reproduces_offline_predictions(serving_world, world_dataset, bundles, tmp_path):
    trained, offline, want = _sample(serving_world, "credit_default")
    records = records_of(world_dataset, bundles["credit_default"], offline.index)
    port = free_port()
    log = open(tmp_path / "mlflow-serve.log", "wb")
    proc = subprocess.Popen(
        ["mlflow", "models", "serve", "-m", f"models:/{trained.name}@champion", "--env-manager", "local",
         "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=subprocess_env(serving_world), cwd=serving_world.root, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            wait_http(f"http://127.0.0.1:{port}/ping", proc, seconds=120)
        except (RuntimeError, TimeoutError) as exc:
            log.flush()
            tail = [ln for ln in (tmp_path / "mlflow-serve.log").read_text().splitlines() if "Error" in ln][-3:]
            raise AssertionError(f"{exc}; last errors in the server log: {tail}") from None
        body = {"dataframe_records": [{"record": json.dumps(r)} for r in records]}
        r = httpx.post(f"http://127.0.0.1:{port}/invocations", json=body, timeout=60)
        assert r.status_code == 200, r.text
        rows = r.json()["predictions"]
    finally:
        stop(proc)
        log.close()
    served = pd.Series({row["instance_id"]: row["probability"] for row in rows})
    np.testing.assert_allclose(served.loc[want.index], want, rtol=0, atol=ATOL)
