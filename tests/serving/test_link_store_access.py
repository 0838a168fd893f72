"""Who writes the fraud link store, and what /health and the log say about it.

A ``scorer`` scores against the store and adds nothing (what-if calls); a ``service``
call adds each scored application and its sightings. A store that is empty, or whose
newest sighting is older than the max age, is reported in ``/health`` and logged at
start and on reload.
"""

from __future__ import annotations

import logging
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from creditml.model.records import frame_rows
from creditml.serving.champions import ChampionWatcher
from creditml.serving.linkstore import LinkStore
from tests.serving.conftest import predictions, records_of, serving_app

TASK = "intermediary_fraud"


@pytest.fixture(scope="module")
def watcher(serving_world):
    serving_world.model(TASK)
    watcher = ChampionWatcher(poll_seconds=0)
    watcher.refresh()
    return watcher


@pytest.fixture(scope="module")
def fraud(serving_world, world_dataset, bundles):
    """Three late applications as a client sends them (own rows and sightings), and when the first was made."""
    bundle = bundles[TASK]
    preds = predictions(serving_world.model(TASK).run_id)
    ids = list(preds.index[preds.split == "test"][-3:])
    graph = bundle.features_settings.graph
    links = world_dataset.tables[graph.table]
    records = records_of(world_dataset, bundle, ids, graph=False)
    for record in records:
        me = record["instance"][bundle.index_name]
        record["related"][graph.table] = frame_rows(links[links[graph.instance_column] == me])
    first = min(pd.Timestamp(r["instance"][bundle.task.cutoff]) for r in records)
    return records, first


def _seeded(path, world_dataset, bundle, until) -> LinkStore:
    store = LinkStore(f"sqlite:///{path}")
    store.load_from_dataset(world_dataset, bundle.features_settings.graph, bundle.task.target,
                            until=until - pd.Timedelta(seconds=1))
    return store


def test_a_scorer_reads_the_link_store_and_adds_nothing_a_service_adds(serving_world, watcher, fraud, world_dataset,
                                                                       bundles, tmp_path):
    records, first = fraud
    store = _seeded(tmp_path / "links.db", world_dataset, bundles[TASK], first)
    before = store.counts()
    assert before["creditml_link_applications"] > 0
    own = sum(len(r["related"][bundles[TASK].features_settings.graph.table]) for r in records)
    assert own > 0, "the chosen applications carry no sighting: the write test would prove nothing"
    app = serving_app(watcher, store, start_watcher=False)
    with TestClient(app) as client:
        what_if = client.post(f"/v1/{TASK}/score", json={"records": records}, headers=serving_world.people["sam"].bearer)
        assert what_if.status_code == 200, what_if.text
        assert store.counts() == before
        scored = client.post(f"/v1/{TASK}/score", json={"records": records}, headers=serving_world.people["svc"].bearer)
        assert scored.status_code == 200, scored.text
    after = store.counts()
    assert after["creditml_link_applications"] == before["creditml_link_applications"] + len(records)
    assert after["creditml_link_sightings"] == before["creditml_link_sightings"] + own
    # the scorer read the same identifier groups the service call did
    assert [r["probability"] for r in what_if.json()["results"]] == [r["probability"] for r in scored.json()["results"]]


def _health(app, caplog, admin) -> tuple[dict, list[str]]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="creditml.serving"), TestClient(app) as client:
        health = client.get("/health").json()
        started = [r.getMessage() for r in caplog.records if r.name == "creditml.serving"]
        caplog.clear()
        assert client.post("/v1/admin/reload", headers=admin).status_code == 200
        reloaded = [r.getMessage() for r in caplog.records if r.name == "creditml.serving"]
    assert reloaded == started, "the reload logs what the start logged"
    return health, started


def test_an_empty_link_store_is_reported_in_health_and_logged(serving_world, watcher, tmp_path, caplog):
    store = LinkStore(f"sqlite:///{tmp_path / 'empty.db'}")
    health, logged = _health(serving_app(watcher, store, start_watcher=False), caplog,
                             serving_world.people["root"].bearer)
    message = (f"the link store sqlite:///{tmp_path / 'empty.db'} holds no application: fraud graph features see only "
               "the identifiers each request carries; seed it with 'creditml links-load PIPELINE --dataset DATASET "
               "--url URL'")
    assert health == {"status": "link store empty", "models": len(serving_world.models), "champion_mismatch": [],
                      "link_store": {"state": "empty", "newest_sighting": None, "max_age_days": 7.0,
                                     "message": message}}
    assert logged == [f"{message} (served tasks that read it: {TASK})"]


def test_a_stale_link_store_is_reported_in_health_and_logged(serving_world, watcher, fraud, world_dataset, bundles,
                                                             tmp_path, caplog):
    _, first = fraud
    store = _seeded(tmp_path / "links.db", world_dataset, bundles[TASK], first)
    graph = bundles[TASK].features_settings.graph
    links = world_dataset.tables[graph.table]
    newest = links.loc[links[graph.time_column] < first, graph.time_column].max().to_pydatetime().isoformat()
    app = serving_app(watcher, store, start_watcher=False, link_store_max_age_days=30)
    health, logged = _health(app, caplog, serving_world.people["root"].bearer)
    assert health["status"] == "link store stale"
    assert {k: v for k, v in health["link_store"].items() if k != "message"} == {
        "state": "stale", "newest_sighting": newest, "max_age_days": 30.0}
    pattern = (rf"the link store sqlite:///{re.escape(str(tmp_path / 'links.db'))} is stale: its newest identifier "
               rf"sighting is from {re.escape(newest)}, \d+ days ago, older than 30 days \(--link-store-max-age\); "
               r"fraud graph features miss what happened since; load recent history with 'creditml links-load', and "
               r"check that fraud applications are scored with a service token \(scorer calls do not add them\)")
    assert re.fullmatch(pattern, health["link_store"]["message"]), health["link_store"]["message"]
    assert logged == [f"{health['link_store']['message']} (served tasks that read it: {TASK})"]

    fresh = serving_app(watcher, store, start_watcher=False, link_store_max_age_days=1_000_000)
    health, logged = _health(fresh, caplog, serving_world.people["root"].bearer)
    assert health["status"] == "ok" and health["link_store"]["state"] == "ok" and logged == []
