"""Fuzz the server from its own OpenAPI spec: whatever the body, never a 5xx.

Cases are sent with a service token (they reach validation and scoring) and again
without one or with a forged one (each must be 401, never a 5xx).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from creditml.serving.champions import ChampionWatcher
from tests.serving.conftest import serving_app

FORGED = {"Authorization": "Bearer cmt_0123456789ab.forged-forged-forged-forged"}


@pytest.fixture(scope="module")
def app(serving_world):
    serving_world.model("credit_default")
    watcher = ChampionWatcher(poll_seconds=0)
    watcher.refresh()
    return serving_app(watcher, start_watcher=False)


@pytest.fixture(scope="module")
def token(serving_world):
    return serving_world.people["svc"].bearer


def _fuzz(operation, headers: dict) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        if case.path_parameters and case.path_parameters.get("task") is not None and len(str(case.path_parameters["task"])) % 2:
            case.path_parameters["task"] = "credit_default"  # half the cases reach the real validation
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    run()


def _unauthenticated(operation) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        if case.path_parameters and case.path_parameters.get("task") is not None:
            case.path_parameters["task"] = "credit_default"
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        for headers in ({}, FORGED):
            r = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            assert r.status_code == (200 if operation.path == "/health" else 401), (headers, r.text[:300])

    run()


def test_no_server_errors(app, token):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=token)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {"POST /v1/{task}/score", "GET /v1/models"}
    for operation in operations:
        _fuzz(operation, token)


def test_without_a_valid_token_every_case_is_401_never_a_server_error(app, token):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=token)
    for result in schema.get_all_operations():
        _unauthenticated(result.ok())


# bodies a generator from the spec does not reach: each must be refused with a 4xx naming why
HOSTILE = {
    "nested 100,000 deep": ('{"instance": ' + "[" * 100_000 + "]" * 100_000 + "}", 422),
    "nested 30 deep": ('{"records": [{"instance": {"a": ' + "{\"b\": " * 30 + "1" + "}" * 30 + "}}]}", 422),
    "20 MB": ('{"instance": {"note": "' + "x" * (20 * 1024 * 1024) + '"}}', 413),
    "cutoff as an integer": ('{"instance": {"application_id": 1, "applied_at": "2024-03-01T10:00:00"}, '
                             '"cutoff_time": 12345}', 422),
    "amount 1e308": ('{"instance": {"application_id": 1, "applied_at": "2024-03-01T10:00:00", '
                     '"amount_requested": 1e308}}', 422),
    "amount NaN": ('{"instance": {"application_id": 1, "applied_at": "2024-03-01T10:00:00", '
                   '"amount_requested": NaN}}', 422),
    "time as a number in a related row": ('{"instance": {"application_id": 1, "applied_at": "2024-03-01T10:00:00"}, '
                                          '"related": {"loans": [{"loan_id": 1, "disbursed_at": 99}]}}', 422),
    "not UTF-8": (b'{"instance": "\xff\xfe"}', 422),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_bodies_are_refused_without_a_server_error(app, token, name):
    from fastapi.testclient import TestClient

    body, status = HOSTILE[name]
    with TestClient(app) as client:
        r = client.post("/v1/credit_default/score", content=body, headers={"content-type": "application/json", **token})
        assert r.status_code == status, r.text[:500]
        assert r.json()["detail"][0]["msg"]
        for headers in ({}, FORGED):  # refused before the body is read, whatever it holds
            r = client.post("/v1/credit_default/score", content=body,
                            headers={"content-type": "application/json", **headers})
            assert r.status_code == 401, r.text[:500]
            assert r.headers["www-authenticate"].startswith("Bearer")


def test_spec_cases_with_hostile_values_are_not_server_errors(app, token):
    """The same values as schemathesis cases of the published operation (its checks, its client)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers=token)
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().path == "/v1/{task}/score")
    instance = {"application_id": 1, "applied_at": "2024-03-01T10:00:00"}
    bodies = [{"instance": instance, "cutoff_time": 12345},
              {"instance": {**instance, "amount_requested": 1e308}},
              {"instance": {**instance, "amount_requested": -1e300}},
              {"records": [{"instance": instance, "related": {"loans": [{"loan_id": 1, "disbursed_at": 1e12}]}}]},
              {"instance": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}}]
    for body in bodies:
        case = operation.Case(path_parameters={"task": "credit_default"}, body=body, media_type="application/json")
        case.call_and_validate(headers=token, checks=[not_a_server_error])
        assert case.call_and_validate(checks=[not_a_server_error]).status_code == 401
