"""The REST server: champions scored in process, raw records in, scores and reasons out.

``create_app(watcher, link_store)`` builds the FastAPI app; ``creditml serve`` runs it
with uvicorn. Endpoints:

* ``POST /v1/{task}/score``: one record or ``{"records": [...]}`` -> one result per record;
* ``GET /v1/{task}/schema``: the task's record contract (declared tables and columns);
* ``GET /v1/models``, ``GET /health``, ``POST /v1/admin/reload`` (re-read the champions now).

Scoring is synchronous code run in FastAPI's thread pool, so the event loop keeps
answering health checks while a batch is computed. A request reads the model mapping
once, so a champion swap in the middle of it does not mix two models.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from creditml.model.bundle import InputOutOfRange
from creditml.serving.linkstore import LinkStore
from creditml.serving.schemas import (
    Health, MessageBody, ModelInfo, RecordErrors, ReloadResult, ScoreBatch, ScoreResponse, ValidationErrorBody,
    RecordIn, parse_body,
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


def score_records(served: ServedModel, records: list[dict], link_store: LinkStore | None = None) -> list[dict]:
    """Score validated records with one model; fraud records get their graph context from the store."""
    bundle = served.bundle
    store = None
    if link_store is not None and served.uses_graph:
        store = link_store.bind(bundle.dataset, bundle.features_settings.graph, bundle.task.target)
        cutoffs = bundle.cutoff_times(records)["time"]
        records = [store.with_context(r, c) for r, c in zip(records, cutoffs)]
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
    if store is not None:
        for record in records:
            store.observe(record)
    out = []
    for row in scored.itertuples(index=False):
        iid = row.instance_id.item() if hasattr(row.instance_id, "item") else row.instance_id
        out.append({"instance_id": iid, "probability": float(row.probability), "score": float(row.score),
                    "band": str(row.band), "reason_codes": json.loads(row.reason_codes),
                    "model_name": served.name, "model_version": served.version})
    return out


def create_app(watcher: ChampionWatcher, link_store: LinkStore | None = None, start_watcher: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if start_watcher:
            watcher.start()
        try:
            yield
        finally:
            if start_watcher:
                watcher.stop()

    app = FastAPI(title="creditml scoring", version="1", lifespan=lifespan,
                  description="Champion models of creditml: raw relational records in; probability, score, "
                              "band and reason codes out.")
    app.state.watcher, app.state.link_store = watcher, link_store

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
        return Health(status=status, models=len(models), champion_mismatch=mismatch)

    @app.get("/v1/models", response_model=list[ModelInfo])
    def list_models() -> list[ModelInfo]:
        return infos()

    @app.post("/v1/admin/reload", response_model=ReloadResult)
    def reload() -> ReloadResult:
        changed = watcher.refresh()
        return ReloadResult(changed=changed, models=infos())

    @app.get("/v1/{task}/schema", responses={404: _ERRORS[404]})
    def schema(task: str):
        served = served_or_404(task)
        return served if isinstance(served, JSONResponse) else served.validator.json_schema()

    @app.post("/v1/{task}/score", response_model=ScoreResponse, responses=_ERRORS,
              openapi_extra={"requestBody": _REQUEST_BODY})
    async def score(task: str, request: Request):
        served = served_or_404(task)
        if isinstance(served, JSONResponse):
            return served
        raw = await read_body(request)

        def work() -> ScoreResponse:
            records, batch = parse_body(parse_json(raw))
            clean = served.validator.validate(records, batch)
            return ScoreResponse(task=task, results=score_records(served, clean, link_store))

        return await run_in_threadpool(work)

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
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi


def app_from_env() -> FastAPI:
    """The app as ``uvicorn --factory creditml.serving.app:app_from_env`` builds it.

    ``MLFLOW_TRACKING_URI`` (default: the embedded store), ``CREDITML_POLL_SECONDS``
    (default 30), ``CREDITML_LINKSTORE_URL`` (default ``sqlite:///mlruns/linkstore.db``;
    ``none`` disables the store).
    """
    from creditml.registry import tracking
    from creditml.serving.linkstore import DEFAULT_URL

    tracking.configure()
    url = os.environ.get("CREDITML_LINKSTORE_URL", DEFAULT_URL)
    store = None if url.lower() == "none" else LinkStore(url)
    watcher = ChampionWatcher(poll_seconds=float(os.environ.get("CREDITML_POLL_SECONDS", "30")))
    return create_app(watcher, store)

