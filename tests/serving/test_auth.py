"""Who may call the scoring server: bearer tokens, roles, the token cache, and the identity store.

These tests build the app over a governance store of their own (no trained model): the
refusals happen before any model is looked up. The link store rules, which need a served
fraud model, are in ``test_link_store_access.py``.
"""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from creditml.governance import connect, create_user, issue_token, revoke_token
from creditml.serving.app import create_app
from creditml.serving.auth import AuthSetupError, TokenVerifier, open_identity_store
from creditml.serving.champions import ChampionWatcher
from tests.governed import people

HOW_TO_GET_ONE = ("an admin issues one with 'creditml users token NAME' for a user with role scorer (read-only) or "
                  "service (see docs/serving.md, Authentication)")
MISSING = f"no API token: send the header 'Authorization: Bearer <token>'; {HOW_TO_GET_ONE}"
FORGED = "cmt_0123456789ab.forged-forged-forged-forged"
FORGED_REFUSAL = ("the API token was refused: API token 0123456789ab is not valid (unknown id or wrong secret); sign "
                  "in again or ask an admin for a new token")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def store(tmp_path):
    store = connect(f"sqlite:///{tmp_path / 'governance.db'}")
    yield store
    store.dispose()


@pytest.fixture()
def crowd(store):
    return people(store)


@pytest.fixture()
def clock():
    return Clock()


@pytest.fixture()
def app(store, crowd, clock):
    # no champion is loaded: every refusal below happens before a model is looked up
    return create_app(ChampionWatcher(poll_seconds=0), start_watcher=False,
                      verifier=TokenVerifier(store, cache_seconds=5, clock=clock))


def _calls(app) -> list[tuple[str, str]]:
    """Every operation of the published spec and every route the app has (docs, spec), plus an unknown path."""
    calls = {(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops}
    calls |= {(method, route.path) for route in app.routes for method in (getattr(route, "methods", None) or ())
              if method != "HEAD"}
    calls.add(("GET", "/v1/no/such/path"))
    return sorted((m, p.replace("{task}", "credit_default")) for m, p in calls if p != "/health")


def test_the_calls_cover_every_endpoint(app):
    paths = {p for _, p in _calls(app)}
    assert {"/v1/credit_default/score", "/v1/credit_default/schema", "/v1/models", "/v1/admin/reload",
            "/docs", "/openapi.json"} <= paths


def test_every_endpoint_but_health_refuses_a_call_without_a_token(app):
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        for method, path in _calls(app):
            r = client.request(method, path, json={})
            assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
            assert r.headers["www-authenticate"] == 'Bearer realm="creditml"', (method, path)
            assert r.json() == {"detail": [{"loc": ["header", "authorization"], "msg": MISSING,
                                            "type": "token_missing"}]}, (method, path)


@pytest.mark.parametrize("header, message", [
    (f"Bearer {FORGED}", FORGED_REFUSAL),
    ("Bearer not-a-token", "the API token was refused: API token is malformed: expected 'cmt_<12 hex digits>.<secret>' "
                           "as printed when it was issued; check CREDITML_TOKEN or issue a new token"),
    (f"Basic {FORGED}", f"the Authorization header must be 'Bearer <token>', found scheme 'Basic'; {HOW_TO_GET_ONE}"),
    ("Bearer ", f"the Authorization header must be 'Bearer <token>', found no token after 'Bearer'; {HOW_TO_GET_ONE}"),
])
def test_every_endpoint_but_health_refuses_a_bad_token(app, header, message):
    with TestClient(app) as client:
        assert client.get("/health", headers={"Authorization": header}).status_code == 200
        for method, path in _calls(app):
            r = client.request(method, path, json={}, headers={"Authorization": header})
            assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
            assert r.headers["www-authenticate"].startswith('Bearer realm="creditml", error="invalid_'), (method, path)
            assert r.json()["detail"][0]["msg"] == message, (method, path)


def test_a_token_of_a_user_without_a_serving_role_is_403_everywhere(app, crowd):
    with TestClient(app, headers=crowd["dana"].bearer) as client:
        for method, path in _calls(app):
            r = client.request(method, path, json={})
            assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
            (err,) = r.json()["detail"]
            assert err["type"] == "role_required"
            assert err["msg"] == ("dana may not use the scoring server: rule role: expected role scorer or service or "
                                  "admin, found roles: data_scientist; fix: use the token of a user with role scorer "
                                  "or service or admin, or ask an admin ('creditml users add NAME --role scorer', "
                                  "then 'creditml users token NAME')")


def test_scoring_needs_scorer_or_service_and_reload_needs_admin(app, crowd):
    with TestClient(app) as client:
        r = client.post("/v1/credit_default/score", json={}, headers=crowd["root"].bearer)
        assert r.status_code == 403
        assert r.headers["www-authenticate"] == 'Bearer realm="creditml", error="insufficient_scope"'
        assert r.json()["detail"][0]["msg"] == (
            "root may not score task 'credit_default': rule role: expected role scorer or service, found roles: "
            "admin; fix: use the token of a user with role scorer or service, or ask an admin ('creditml users add "
            "NAME --role scorer', then 'creditml users token NAME')")
        for who in ("svc", "sam"):
            r = client.post("/v1/admin/reload", headers=crowd[who].bearer)
            assert r.status_code == 403
            role = {"svc": "service", "sam": "scorer"}[who]
            assert r.json()["detail"][0]["msg"] == (
                f"{who} may not reload the champions: rule role: expected role admin, found roles: {role}; fix: use "
                "the token of a user with role admin, or ask an admin ('creditml users add NAME --role admin', then "
                "'creditml users token NAME')")
        # past the role check: no champion is loaded, so the task is unknown
        for who in ("svc", "sam"):
            r = client.post("/v1/credit_default/score", json={}, headers=crowd[who].bearer)
            assert r.status_code == 404 and "unknown task 'credit_default'" in r.json()["detail"]
        for who in ("svc", "sam", "root"):
            assert client.get("/v1/models", headers=crowd[who].bearer).json() == []
            assert client.get("/openapi.json", headers=crowd[who].bearer).json()["components"]["securitySchemes"]


def test_a_revoked_token_is_refused_once_the_cache_time_has_passed(app, store, clock):
    create_user(store, "kiosk", ("scorer",))
    issued = issue_token(store, "kiosk", "what-if kiosk")
    headers = {"Authorization": f"Bearer {issued.token}"}
    with TestClient(app, headers=headers) as client:
        assert client.get("/v1/models").status_code == 200
        revoke_token(store, issued.token_id)
        clock.now += 4.9  # within the cache time (5 s) the verified token is still trusted
        assert client.get("/v1/models").status_code == 200
        clock.now += 0.2
        r = client.get("/v1/models")
    assert r.status_code == 401
    msg = r.json()["detail"][0]["msg"]
    assert msg.startswith(f"the API token was refused: API token {issued.token_id} of user 'kiosk' was revoked at ")
    assert msg.endswith("; ask an admin for a new token")


def test_without_a_cache_a_revoked_token_is_refused_at_once(store, crowd):
    create_user(store, "kiosk", ("scorer",))
    issued = issue_token(store, "kiosk")
    verifier = TokenVerifier(store, cache_seconds=0)
    assert verifier.verify(issued.token).name == "kiosk"
    revoke_token(store, issued.token_id)
    app = create_app(ChampionWatcher(poll_seconds=0), start_watcher=False, verifier=verifier)
    with TestClient(app, headers={"Authorization": f"Bearer {issued.token}"}) as client:
        assert client.get("/v1/models").status_code == 401


def test_the_cache_is_bounded_and_keeps_no_token(store, crowd, clock):
    verifier = TokenVerifier(store, cache_seconds=60, max_entries=2, clock=clock)
    for name in ("sam", "svc", "root"):
        assert verifier.verify(crowd[name].token).name == name
    assert len(verifier._cache) == 2
    assert verifier.cached(crowd["sam"].token) is None  # the oldest went first
    assert not any(crowd[n].token in repr(verifier._cache) for n in ("sam", "svc", "root"))


def test_tokens_never_reach_the_log(app, crowd, caplog):
    caplog.set_level(logging.DEBUG)
    with TestClient(app) as client:
        client.get("/v1/models", headers=crowd["svc"].bearer)
        client.get("/v1/models", headers={"Authorization": f"Bearer {FORGED}"})
        client.post("/v1/admin/reload", headers=crowd["svc"].bearer)
    assert caplog.records, "the refusals are logged"
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert crowd["svc"].token not in text and FORGED not in text
    assert crowd["svc"].token.split(".")[1] not in text


def test_a_server_without_its_identity_store_refuses_to_start(tmp_path):
    missing = tmp_path / "nowhere" / "governance.db"
    with pytest.raises(AuthSetupError, match=rf"^the identity store sqlite:///{missing} does not exist; the server "
                                             r"checks every API token against it and will not start without it; fix: "
                                             r"point MLFLOW_TRACKING_URI at the tracking store whose governance "
                                             r"database holds the users \(or set CREDITML_GOVERNANCE_URL\), or create "
                                             r"the first admin with 'creditml users init-admin NAME'$"):
        open_identity_store(f"sqlite:///{missing}")
    assert not missing.exists()  # never created in passing


def test_a_server_whose_identity_store_holds_no_user_refuses_to_start(tmp_path):
    url = f"sqlite:///{tmp_path / 'governance.db'}"
    connect(url).dispose()
    with pytest.raises(AuthSetupError, match=r"holds no user, so no token could ever be accepted; fix: point "
                                             r"MLFLOW_TRACKING_URI"):
        open_identity_store(url)
    (tmp_path / "other.db").write_bytes(b"")
    with pytest.raises(AuthSetupError, match=r"other\.db cannot be read \(OperationalError: .*no such table"):
        open_identity_store(f"sqlite:///{tmp_path / 'other.db'}")


def test_creditml_serve_refuses_to_start_without_an_identity_store(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from creditml.cli import app as cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    monkeypatch.delenv("CREDITML_GOVERNANCE_URL", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--port", "1", "--link-store", "none"])
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert f"error: the identity store sqlite:///{tmp_path / 'mlruns' / 'governance.db'} does not exist" in out
