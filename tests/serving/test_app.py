"""The REST server against real champions: endpoints, validation, champion switches."""

from __future__ import annotations

import gc
import json
import re
import threading
import time

import pytest
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient

from creditml.registry.promotion import record_registration
from creditml.serving.champions import ChampionWatcher
from tests.serving.conftest import govern, records_of, serving_app

RESULT_KEYS = {"instance_id", "probability", "score", "band", "reason_codes", "model_name", "model_version"}


@pytest.fixture(scope="module")
def client(serving_world):
    serving_world.model("credit_default")
    with TestClient(serving_app(ChampionWatcher(poll_seconds=0)), headers=serving_world.people["svc"].bearer) as c:
        yield c


@pytest.fixture(scope="module")
def credit_record(serving_world, world_dataset, bundles):
    from tests.serving.conftest import predictions

    trained = serving_world.model("credit_default")
    preds = predictions(trained.run_id)
    ids = preds.index[preds.split == "test"][:3]
    return records_of(world_dataset, bundles["credit_default"], ids)


def test_health_and_models(client, serving_world):
    assert client.get("/health").json() == {"status": "ok", "models": len(serving_world.models),
                                            "champion_mismatch": [], "link_store": None}
    models = {m["task"]: m for m in client.get("/v1/models").json()}
    credit = serving_world.models["credit_default"]
    assert models["credit_default"]["name"] == credit.name
    assert models["credit_default"]["version"] == credit.version
    assert models["credit_default"]["alias"] == "champion"
    assert models["credit_default"]["loaded_at"]


def test_single_and_batch_bodies(client, credit_record):
    one = client.post("/v1/credit_default/score", json=credit_record[0])
    assert one.status_code == 200, one.text
    (result,) = one.json()["results"]
    assert set(result) == RESULT_KEYS
    assert result["instance_id"] == credit_record[0]["instance"]["application_id"]
    batch = client.post("/v1/credit_default/score", json={"records": credit_record})
    assert batch.status_code == 200, batch.text
    results = batch.json()["results"]
    assert [r["instance_id"] for r in results] == [r["instance"]["application_id"] for r in credit_record]
    assert results[0]["probability"] == pytest.approx(result["probability"], abs=1e-12)


def test_unknown_task_is_404_naming_the_known_tasks(client, credit_record):
    r = client.post("/v1/no_such_task/score", json=credit_record[0])
    assert r.status_code == 404
    assert "unknown task 'no_such_task'" in r.json()["detail"] and "credit_default" in r.json()["detail"]


def _errors(response) -> list[dict]:
    assert response.status_code == 422, response.text
    return response.json()["detail"]


def test_missing_primary_key_and_cutoff(client, credit_record):
    record = {**credit_record[0], "instance": {k: v for k, v in credit_record[0]["instance"].items()
                                               if k not in ("application_id", "applied_at")}}
    locs = {tuple(e["loc"]) for e in _errors(client.post("/v1/credit_default/score", json=record))}
    assert ("body", "instance", "application_id") in locs
    assert ("body", "instance", "applied_at") in locs


def test_unknown_table_lists_the_declared_ones(client, credit_record):
    record = {**credit_record[0], "related": {**credit_record[0]["related"], "payslips": [{"x": 1}]}}
    (err,) = _errors(client.post("/v1/credit_default/score", json=record))
    assert err["loc"] == ["body", "related", "payslips"]
    assert "unknown table 'payslips'" in err["msg"] and "installments" in err["msg"]


def test_values_must_parse_with_their_declared_types(client, credit_record):
    bad = dict(credit_record[1])
    bad["instance"] = {**bad["instance"], "amount_requested": "a lot", "applied_at": "yesterday-ish"}
    errs = _errors(client.post("/v1/credit_default/score", json={"records": [credit_record[0], bad]}))
    locs = {tuple(e["loc"]): e["msg"] for e in errs}
    assert ("body", "records", 1, "instance", "amount_requested") in locs
    assert ("body", "records", 1, "instance", "applied_at") in locs
    assert "number" in locs[("body", "records", 1, "instance", "amount_requested")]


def test_times_and_keys_outside_what_the_tables_hold_are_422(client, credit_record):
    bad = dict(credit_record[0])
    bad["instance"] = {**bad["instance"], "applied_at": "9999-01-01T00:00:00", "customer_id": 2**70}
    errs = _errors(client.post("/v1/credit_default/score", json=bad))
    locs = {tuple(e["loc"]): e["msg"] for e in errs}
    assert any(loc[-1] == "applied_at" and "between the years 1678 and 2261" in msg for loc, msg in locs.items()), locs
    assert any("customer_id" in loc for loc in locs), locs


def test_top_level_is_strict_and_bodies_that_are_not_records_are_422(client, credit_record):
    errs = _errors(client.post("/v1/credit_default/score", json={**credit_record[0], "colour": "red"}))
    assert errs[0]["loc"] == ["body", "colour"]
    assert _errors(client.post("/v1/credit_default/score", json=[1, 2]))[0]["loc"] == ["body"]
    assert _errors(client.post("/v1/credit_default/score", content=b"{not json"))[0]["type"] == "json_invalid"
    assert _errors(client.post("/v1/credit_default/score", json={"records": []}))[0]["loc"] == ["body", "records"]


def test_schema_of_a_task(client):
    schema = client.get("/v1/credit_default/schema").json()
    assert "application_id" in schema["properties"]["instance"]["required"]
    assert "loans" in schema["properties"]["related"]["properties"]


def _new_version(serving_world, name: str, version: str) -> str:
    """Register the champion's artifact again as a new version, trained (as the ledger says) by dana."""
    client = MlflowClient()
    mv = client.get_model_version(name, version)
    new = client.create_model_version(name, mv.source, run_id=mv.run_id,
                                      tags={k: v for k, v in mv.tags.items() if not k.startswith("creditml.review")})
    record_registration(name, str(new.version), mv.run_id, serving_world.people["dana"].identity)
    return str(new.version)


def _new_champion_version(serving_world, name: str, version: str) -> str:
    new = _new_version(serving_world, name, version)
    govern(name, new, serving_world.people)
    return new


def test_an_alias_moved_to_an_unapproved_version_is_not_served(serving_world, credit_record):
    """Done-when: the previous champion keeps serving; /health reports the mismatch."""
    trained = serving_world.model("credit_default")
    admin = serving_world.people["root"].bearer
    watcher = ChampionWatcher(poll_seconds=0)
    with TestClient(serving_app(watcher), headers=serving_world.people["svc"].bearer) as c:
        served = next(m["version"] for m in c.get("/v1/models").json() if m["task"] == "credit_default")
        rogue = _new_version(serving_world, trained.name, served)  # registered, never reviewed
        client = MlflowClient()
        client.set_registered_model_alias(trained.name, "champion", rogue)
        try:
            assert c.post("/v1/admin/reload", headers=admin).json()["changed"] == []
            r = c.post("/v1/credit_default/score", json=credit_record[0])
            assert r.status_code == 200 and r.json()["results"][0]["model_version"] == served
            health = c.get("/health").json()
            assert health["status"] == "champion mismatch"
            (mismatch,) = health["champion_mismatch"]
            assert (mismatch["model"], mismatch["alias"], mismatch["ledger"]) == (trained.name, rogue, served)
            assert "the alias is refused" in mismatch["problem"]
        finally:
            client.set_registered_model_alias(trained.name, "champion", served)
        assert c.post("/v1/admin/reload", headers=admin).json()["changed"] == []
        assert c.get("/health").json()["champion_mismatch"] == []


def test_champion_switch_without_dropping_requests(serving_world, credit_record):
    trained = serving_world.model("credit_default")
    admin = serving_world.people["root"].bearer
    watcher = ChampionWatcher(poll_seconds=0.5)
    statuses: list[int] = []
    versions: list[str] = []
    stop = threading.Event()
    with TestClient(serving_app(watcher), headers=serving_world.people["svc"].bearer) as c:
        before = c.get("/v1/models").json()
        old = next(m["version"] for m in before if m["task"] == "credit_default")

        def hammer():
            while not stop.is_set():
                r = c.post("/v1/credit_default/score", json=credit_record[0])
                statuses.append(r.status_code)
                if r.status_code == 200:
                    versions.append(r.json()["results"][0]["model_version"])

        worker = threading.Thread(target=hammer)
        worker.start()
        try:
            new = _new_champion_version(serving_world, trained.name, old)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and (not versions or versions[-1] != new):
                time.sleep(0.2)
        finally:
            stop.set()
            worker.join(timeout=30)
        assert set(statuses) == {200}
        assert versions[0] == old and versions[-1] == new, "the poller did not switch to the new champion"
        # the forced reload endpoint: nothing changed since the poller switched
        r = c.post("/v1/admin/reload", headers=admin)
        assert r.status_code == 200 and r.json()["changed"] == []
        assert next(m["version"] for m in r.json()["models"] if m["task"] == "credit_default") == new


def test_loaded_champions_are_kept_out_of_the_garbage_collector(serving_world):
    """Full collections must not walk a model's objects in the middle of a request."""
    serving_world.model("credit_default")
    gc.unfreeze()
    try:
        watcher = ChampionWatcher(poll_seconds=0)
        assert "credit_default" in watcher.refresh()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


# --------------------------------------------------------------------------- bounded input


def test_a_body_over_the_limit_is_413_before_it_is_parsed(client, credit_record):
    from creditml.serving.app import MAX_BODY_BYTES

    big = b'{"instance": {"x": "' + b"a" * (MAX_BODY_BYTES + 10) + b'"}}'
    r = client.post("/v1/credit_default/score", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text
    (err,) = r.json()["detail"]
    assert err["type"] == "body_too_large" and f"at most {MAX_BODY_BYTES:,} bytes" in err["msg"]
    # streamed without a content-length: counted while it arrives
    chunks = (b"[" + b"1," * 1_000_000 for _ in range(MAX_BODY_BYTES // 2_000_001 + 2))
    r = client.post("/v1/credit_default/score", content=chunks, headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text


@pytest.mark.parametrize("depth", [20, 100_000])
def test_deeply_nested_json_is_422_not_500(client, depth):
    body = '{"instance": ' + "[" * depth + "]" * depth + "}"
    (err,) = _errors(client.post("/v1/credit_default/score", content=body,
                                 headers={"content-type": "application/json"}))
    assert err["type"] == "json_too_deep" and "nested more than 8 levels" in err["msg"]


def test_the_cutoff_must_be_an_iso_string(client, credit_record):
    for bad in (12345, "12345", True):
        errs = _errors(client.post("/v1/credit_default/score", json={**credit_record[0], "cutoff_time": bad}))
        assert [e["loc"] for e in errs] == [["body", "cutoff_time"]], errs
        assert "ISO 8601 date-time string" in errs[0]["msg"] and "2024-03-01T10:00:00" in errs[0]["msg"]
    record = {**credit_record[0], "instance": {**credit_record[0]["instance"], "applied_at": 1709287200}}
    errs = _errors(client.post("/v1/credit_default/score", json=record))
    assert any(e["loc"] == ["body", "instance", "applied_at"] and "found int 1709287200" in e["msg"] for e in errs)


def test_amounts_must_be_finite_and_plausible(client, credit_record):
    record = {**credit_record[0], "instance": {**credit_record[0]["instance"], "amount_requested": 1e308}}
    (err,) = _errors(client.post("/v1/credit_default/score", json=record))
    assert err["loc"] == ["body", "instance", "amount_requested"]
    assert "finite number between -1e+15 and 1e+15" in err["msg"] and "found 1e+308" in err["msg"]
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        body = json.dumps(record).replace("1e+308", "LITERAL").encode().replace(b"LITERAL", literal)
        (err,) = _errors(client.post("/v1/credit_default/score", content=body,
                                     headers={"content-type": "application/json"}))
        assert err["loc"] == ["body", "instance", "amount_requested"], err


def test_a_feature_beyond_float32_is_named_not_passed_to_xgboost(bundles, world_dataset, credit_record):
    from creditml.model.bundle import InputOutOfRange

    bundle = bundles["credit_default"]
    X = bundle.feature_matrix(credit_record[:1])
    name = next(f for f in bundle.features if f not in bundle.categories)
    X[name] = 1e300
    with pytest.raises(InputOutOfRange, match=rf"feature '{re.escape(name)}' of instance .* is 1e\+300, beyond the "
                                              r"largest number the model reads"):
        bundle.score_matrix(X)


def test_scoring_failures_do_not_show_library_messages(client, credit_record, monkeypatch):
    from creditml.model.bundle import ModelBundle

    def broken(self, records):
        raise ValueError("Check failed: valid: Input data contains `inf` (an XGBoost internal)")

    monkeypatch.setattr(ModelBundle, "score", broken)
    (err,) = _errors(client.post("/v1/credit_default/score", json=credit_record[0]))
    assert err["type"] == "scoring_failed" and "Check failed" not in err["msg"] and "XGBoost" not in err["msg"]
    assert re.search(r"could not be scored by .* \(error [0-9a-f]{12} in the server log\)", err["msg"])
