"""Fuzz the server from its own OpenAPI spec: whatever the body, never a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from creditml.serving.app import create_app
from creditml.serving.champions import ChampionWatcher


@pytest.fixture(scope="module")
def app(serving_world):
    serving_world.model("credit_default")
    watcher = ChampionWatcher(poll_seconds=0)
    watcher.refresh()
    return create_app(watcher, start_watcher=False)


def _fuzz(operation) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        if case.path_parameters and case.path_parameters.get("task") is not None and len(str(case.path_parameters["task"])) % 2:
            case.path_parameters["task"] = "credit_default"  # half the cases reach the real validation
        case.call_and_validate(checks=[not_a_server_error])

    run()


def test_no_server_errors(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} >= {"POST /v1/{task}/score", "GET /v1/models"}
    for operation in operations:
        _fuzz(operation)
