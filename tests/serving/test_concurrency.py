"""Concurrent requests: every cache on the request path is shared by many threads at once.

Eight clients score in parallel through the real app (one TestClient each, and eight
scoring threads where a server has one, so requests run side by side) with a tiny interpreter switch interval,
which makes a thread switch likely between any two bytecodes. Any answer other than 200,
or a probability different from the one request scored alone, fails the test.
"""

from __future__ import annotations

import sys
import threading

import pytest
from fastapi.testclient import TestClient

from creditml.serving.champions import ChampionWatcher
from tests.serving.conftest import predictions, records_of, serving_app

CLIENTS = 8
PER_CLIENT = 50


@pytest.fixture(scope="module")
def app(serving_world):
    serving_world.model("credit_default")
    watcher = ChampionWatcher(poll_seconds=0)
    watcher.refresh()
    return serving_app(watcher, start_watcher=False, scoring_threads=CLIENTS)


@pytest.fixture(scope="module")
def records(serving_world, world_dataset, bundles):
    preds = predictions(serving_world.model("credit_default").run_id)
    ids = preds.index[preds.split == "test"][:CLIENTS]
    return records_of(world_dataset, bundles["credit_default"], ids)


def test_concurrent_requests_all_succeed_with_the_sequential_answer(app, records, serving_world):
    headers = serving_world.people["svc"].bearer
    with TestClient(app, headers=headers) as alone:
        want = {}
        for record in records:
            r = alone.post("/v1/credit_default/score", json=record)
            assert r.status_code == 200, r.text
            want[r.json()["results"][0]["instance_id"]] = r.json()["results"][0]["probability"]

    failures: list[str] = []
    start = threading.Barrier(CLIENTS)

    def client(k: int) -> None:
        c = TestClient(app, headers=headers)
        start.wait()
        for i in range(PER_CLIENT):
            record = records[(k + i) % len(records)]
            r = c.post("/v1/credit_default/score", json=record)
            if r.status_code != 200:
                failures.append(f"client {k} request {i}: {r.status_code} {r.text[:300]}")
                continue
            got = r.json()["results"][0]
            if got["probability"] != want[got["instance_id"]]:
                failures.append(f"client {k} request {i}: probability {got['probability']} of instance "
                                f"{got['instance_id']}, alone {want[got['instance_id']]}")

    saved = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
    finally:
        sys.setswitchinterval(saved)
    assert not failures, f"{len(failures)} of {CLIENTS * PER_CLIENT} concurrent requests failed: {failures[:3]}"
