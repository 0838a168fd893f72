"""The REST server: champions scored in process, raw records in, scores and reasons out.

``create_app(watcher, link_store)`` builds the FastAPI app; ``creditml serve`` runs it
with uvicorn. Endpoints:

* ``POST /v1/{task}/score``: one record or ``{"records": [...]}`` -> one result per record;
* ``GET /v1/{task}/schema``: the task's record contract (declared tables and columns);
* ``GET /v1/models``, ``GET /health``, ``POST /v1/admin/reload`` (re-read the champions now).

Every endpoint but ``/health`` needs a bearer token of a governance identity with a serving
role (``serving.auth``); only ``service`` calls add scored applications to the link store.

Scoring is synchronous code run on one scoring thread per process (``scoring_threads``),
so the event loop keeps answering health checks while a batch is computed. One thread,
because Python runs one thread's bytecode at a time anyway: with several scoring threads
every SQLite read and NumPy call that lets go of the interpreter lock waited to get it
back, and a worker served fraud requests at half the rate. Processes (``--workers``) use
the cores. A request reads the model mapping once, so a champion swap in the middle of
it does not mix two models.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from creditml.governance import Identity
from creditml.model.bundle import InputOutOfRange
from creditml.serving.auth import (OPEN_PATHS, RELOAD_ROLES, SCORE_ROLES, BearerAuth, Refused, TokenVerifier,
                                   may_write_links, requires)
from creditml.serving.linkstate import DEFAULT_MAX_AGE_DAYS, OK, link_store_state
from creditml.serving.linkstore import LinkStore
from creditml.serving.schemas import (
    Health, LinkStoreHealth, MessageBody, ModelInfo, RecordErrors, ReloadResult, ScoreBatch, ScoreResponse,
    ValidationErrorBody, RecordIn, parse_body,
)
from creditml.serving.champions import ChampionWatcher, ServedModel

log = logging.getLogger("creditml.serving")

_REQUEST_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/ScoreBatch"},
                                                          {"$ref": "#/components/schemas/RecordIn"}]}}},
}
_ERRORS = {404: {"model": MessageBody, "description": "unknown task"},
           413: {"model": ValidationErrorBody, "description": "the body is longer than the server accepts"},
           422: {"model": ValidationErrorBody, "description": "the body breaks the task's record contract"}}


# a fraud record that carries its own identifier group (no link store) runs to a few MB
MAX_BODY_BYTES = int(os.environ.get("CREDITML_MAX_BODY_BYTES", 16 * 1024 * 1024))
MAX_DEPTH = 8  # a batch body is 6 deep ({records: [{related: {table: [{column: value}]}}]})


class ScoringError(Exception):
    """Input that passed validation but cannot be scored (reported as 422, never 500)."""


class BodyTooLarge(Exception):
    def __init__(self, size: int | None):
        self.size = size
        found = f"{size:,} bytes" if size is not None else f"more than {MAX_BODY_BYTES:,} bytes"
        super().__init__(f"the body is {found}; at most {MAX_BODY_BYTES:,} bytes are accepted "
                         "(CREDITML_MAX_BODY_BYTES); send fewer records per request, or score files with "
                         "`creditml score`")


async def read_body(request: Request) -> bytes:
    """The request body, refused (413) as soon as it is longer than ``MAX_BODY_BYTES``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge(int(declared))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge(None)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes):
    """The JSON of a body, or RecordErrors: not JSON, or nested deeper than a record can be."""
    try:
        payload = json.loads(raw) if raw else None
    except RecursionError:
        payload = None
        depth = MAX_DEPTH + 1
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordErrors([{"loc": ["body"], "msg": f"the body is not valid JSON: {exc}",
                             "type": "json_invalid"}]) from None
    else:
        depth = _depth(payload, MAX_DEPTH + 1)
    if depth > MAX_DEPTH:
        raise RecordErrors([{"loc": ["body"], "msg": f"the JSON is nested more than {MAX_DEPTH} levels deep; a "
                             "record's values are plain numbers, strings, booleans or null (GET /v1/TASK/schema)",
                             "type": "json_too_deep"}])
    return payload


def _depth(value, limit: int) -> int:
    """Nesting depth of containers, counted up to ``limit`` (iterative: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, level)
        if deepest >= limit:
            return deepest
        stack.extend((child, level + 1) for child in item if isinstance(child, (dict, list)))
    return deepest


def score_records(served: ServedModel, records: list[dict], link_store: LinkStore | None = None,
                  add_to_store: bool = False) -> list[dict]:
    """Score validated records with one model; fraud records get their graph context from the store.

    ``add_to_store``: add the scored applications to the link store afterwards (only for
    identities that may write it, ``auth.may_write_links``)."""
    bundle = served.bundle
    store = None
    if link_store is not None and served.uses_graph:
        store = link_store.bind(bundle.dataset, bundle.features_settings.graph, bundle.task.target)
        # validated records carry ISO date-time cutoffs, which the store reads as times
        records = [store.with_context(r, c) for r, c in zip(records, bundle.cutoff_values(records))]
    try:
        scored = bundle.score(records)
    except InputOutOfRange as exc:  # a feature computed from the record is not a number a model can read
        raise ScoringError(str(exc)) from exc
    except (ValueError, KeyError, TypeError, IndexError, ArithmeticError, RecursionError) as exc:
        # the library's own message stays in the log: it names internals, not the client's fields
        ref = uuid.uuid4().hex[:12]
        log.exception("scoring failed for task %s (error %s)", served.task, ref)
        raise ScoringError(f"the record(s) passed validation but could not be scored by {served.name} version "
                           f"{served.version} (error {ref} in the server log); check that related rows belong to "
                           "the instance and that amounts are in their usual units") from exc
    if store is not None and add_to_store:
        for record in records:
            store.observe(record)
    out = []
    for row in scored.itertuples(index=False):
        iid = row.instance_id.item() if hasattr(row.instance_id, "item") else row.instance_id
        out.append({"instance_id": iid, "probability": float(row.probability), "score": float(row.score),
                    "band": str(row.band), "reason_codes": json.loads(row.reason_codes),
                    "model_name": served.name, "model_version": served.version})
    return out


def create_app(watcher: ChampionWatcher, link_store: LinkStore | None = None, start_watcher: bool = True, *,
               verifier: TokenVerifier, link_store_max_age_days: float = DEFAULT_MAX_AGE_DAYS,
               scoring_threads: int = 1) -> FastAPI:
    """``verifier`` checks the bearer token of every request but ``/health`` (no default: a server
    always knows its identities); ``link_store_max_age_days`` is when a store counts as stale;
    ``scoring_threads`` score requests side by side (1 for a server, see the module doc; the
    concurrency test runs several to prove the request path thread-safe)."""
    scoring = ThreadPoolExecutor(max_workers=scoring_threads, thread_name_prefix="creditml-scoring")

    def store_health() -> LinkStoreHealth | None:
        if link_store is None:
            return None
        state = link_store_state(link_store, link_store_max_age_days)
        return LinkStoreHealth(state=state.state, newest_sighting=state.newest_sighting,
                               max_age_days=state.max_age_days, message=state.message)

    def warn_about_link_store() -> None:
        state = store_health()
        if state is not None and state.state != OK:
            readers = ", ".join(t for t, m in sorted(watcher.models.items()) if m.uses_graph) or "none"
            log.warning("%s (served tasks that read it: %s)", state.message, readers)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if start_watcher:
            watcher.start()
        await run_in_threadpool(warn_about_link_store)
        try:
            yield
        finally:
            if start_watcher:
                watcher.stop()

    app = FastAPI(title="creditml scoring", version="1", lifespan=lifespan,
                  description="Champion models of creditml: raw relational records in; probability, score, "
                              "band and reason codes out.")
    app.state.watcher, app.state.link_store = watcher, link_store
    app.add_middleware(BearerAuth, verifier=verifier)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused):
        return exc.response()

    @app.exception_handler(RecordErrors)
    async def _record_errors(request: Request, exc: RecordErrors):
        return JSONResponse(status_code=422, content={"detail": exc.errors})

    @app.exception_handler(BodyTooLarge)
    async def _too_large(request: Request, exc: BodyTooLarge):
        return JSONResponse(status_code=413, content={"detail": [{"loc": ["body"], "msg": str(exc),
                                                                  "type": "body_too_large"}]})

    @app.exception_handler(ScoringError)
    async def _scoring_error(request: Request, exc: ScoringError):
        return JSONResponse(status_code=422, content={"detail": [{"loc": ["body"], "msg": str(exc),
                                                                  "type": "scoring_failed"}]})

    @app.exception_handler(RequestValidationError)
    async def _request_errors(request: Request, exc: RequestValidationError):
        detail = [{"loc": list(e.get("loc", [])), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                  for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": detail})

    def served_or_404(task: str) -> ServedModel | JSONResponse:
        models = watcher.models
        if task not in models:
            known = ", ".join(sorted(models)) or "none (no champion is registered)"
            return JSONResponse(status_code=404, content={"detail": f"unknown task {task!r}; known tasks: {known}"})
        return models[task]

    def infos() -> list[ModelInfo]:
        return [m.info(link_store is not None) for _, m in sorted(watcher.models.items())]

    @app.get("/health", response_model=Health)
    def health() -> Health:
        models = watcher.models
        mismatch = list(watcher.mismatches)
        status = ("champion mismatch" if mismatch else "ok") if models else "no models"
        links = store_health()
        if status == "ok" and links is not None and links.state != OK and any(m.uses_graph for m in models.values()):
            status = f"link store {links.state}"
        return Health(status=status, models=len(models), champion_mismatch=mismatch, link_store=links)

    @app.get("/v1/models", response_model=list[ModelInfo])
    def list_models() -> list[ModelInfo]:
        return infos()

    @app.post("/v1/admin/reload", response_model=ReloadResult,
              dependencies=[Depends(requires(RELOAD_ROLES, "reload the champions"))])
    def reload() -> ReloadResult:
        changed = watcher.refresh()
        warn_about_link_store()
        return ReloadResult(changed=changed, models=infos())

    @app.get("/v1/{task}/schema", responses={404: _ERRORS[404]})
    def schema(task: str):
        served = served_or_404(task)
        return served if isinstance(served, JSONResponse) else served.validator.json_schema()

    @app.post("/v1/{task}/score", response_model=ScoreResponse, responses=_ERRORS,
              openapi_extra={"requestBody": _REQUEST_BODY})
    async def score(task: str, request: Request,
                    identity: Identity = Depends(requires(SCORE_ROLES, "score task {task!r}"))):
        served = served_or_404(task)
        if isinstance(served, JSONResponse):
            return served
        raw = await read_body(request)

        def work() -> ScoreResponse:
            records, batch = parse_body(parse_json(raw))
            clean = served.validator.validate(records, batch)
            return ScoreResponse(task=task, results=score_records(served, clean, link_store,
                                                                  add_to_store=may_write_links(identity)))

        return await asyncio.get_running_loop().run_in_executor(scoring, contextvars.copy_context().run, work)

    _register_schemas(app)  # the body schemas the hand-written requestBody refers to
    return app


def _register_schemas(app: FastAPI) -> None:
    from fastapi.openapi.utils import get_openapi

    def openapi():
        if app.openapi_schema is None:
            spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            for model in (ScoreBatch, RecordIn):
                full = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(full.pop("$defs", {}))
                schemas[model.__name__] = full
            _document_auth(spec)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi


def _document_auth(spec: dict) -> None:
    """The bearer scheme in the spec: every operation but the open ones needs it and may answer 401/403."""
    spec["components"]["securitySchemes"] = {"bearer": {
        "type": "http", "scheme": "bearer",
        "description": "an API token from 'creditml users token NAME' (roles: docs/serving.md, Authentication)"}}
    refusal = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrorBody"}}}}
    for path, operations in spec.get("paths", {}).items():
        for operation in operations.values():
            if path in OPEN_PATHS:
                operation["security"] = []
                continue
            operation["security"] = [{"bearer": []}]
            operation["responses"].setdefault("401", {"description": "no token, or a token the identity store "
                                                                     "refuses", **refusal})
            operation["responses"].setdefault("403", {"description": "the token's user lacks the role", **refusal})


def app_from_env() -> FastAPI:
    """The app as ``uvicorn --factory creditml.serving.app:app_from_env`` builds it.

    ``MLFLOW_TRACKING_URI`` (default: the embedded store; its governance database holds the
    identities, or ``CREDITML_GOVERNANCE_URL``), ``CREDITML_POLL_SECONDS`` (default 30),
    ``CREDITML_LINKSTORE_URL`` (default ``sqlite:///mlruns/linkstore.db``; ``none`` disables
    the store), ``CREDITML_LINKSTORE_MAX_AGE_DAYS`` (default 7), ``CREDITML_TOKEN_CACHE_SECONDS``
    (default 30). Refuses to build without a readable identity store.
    """
    from creditml.registry import open_registry, tracking
    from creditml.registry.governed import governance_url
    from creditml.serving.auth import cache_seconds_from_env, open_identity_store
    from creditml.serving.linkstate import max_age_from_env
    from creditml.serving.linkstore import DEFAULT_URL

    uri = tracking.configure()
    verifier = TokenVerifier(open_identity_store(governance_url(open_registry(uri))), cache_seconds_from_env())
    url = os.environ.get("CREDITML_LINKSTORE_URL", DEFAULT_URL)
    store = None if url.lower() == "none" else LinkStore(url)
    watcher = ChampionWatcher(poll_seconds=float(os.environ.get("CREDITML_POLL_SECONDS", "30")))
    return create_app(watcher, store, verifier=verifier, link_store_max_age_days=max_age_from_env())

