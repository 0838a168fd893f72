"""The workbench's FastAPI app: server-rendered pages over the registry and the governance ledger.

Routes (every page needs a signed-in identity; every POST needs the session's CSRF token):

* ``GET /signin``, ``POST /signin``, ``POST /signout``
* ``GET /queue``: versions that passed the gates and await a decision
* ``GET /models/{model}/versions/{version}``: facts, the report, decision, findings, ledger history
* ``GET /models/{model}/versions/{version}/report``: the report HTML (framed by the version page)
* ``POST /models/{model}/versions/{version}/findings``: record a finding (reviewer, approver)
* ``POST /models/{model}/versions/{version}/decision``: approve or reject (reviewer, approver; four eyes)
* ``POST /models/{model}/versions/{version}/export``: print the review PDF and attach it to the run
* ``GET /models/{model}/versions/{version}/review.pdf``: download the attached PDF
* ``GET /models/{model}/audit``: the model's ledger with its verification
* ``GET /health``

A refusal is shown on the page it came from with its status (403 for a rule, 400 for a
bad form, 409 for a decision overtaken by another), in the words of the rule.
"""

from __future__ import annotations

import logging
import tempfile
import time
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from urllib.parse import quote

import jinja2
from fastapi import FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from creditml.errors import CreditmlError
from creditml.governance import (AuthError, ConcurrentDecisionError, DecisionRefused, GovernanceStore, Identity,
                                 Ledger, approval_in_force, authenticate_password, champion_of, connect)
from creditml.governance.decisions import last_review
from creditml.governance.records import canonical_json
from creditml.registry.governed import open_ledger
from creditml.registry import ModelRegistry, RegistryError, open_registry
from creditml.review._decisions import decide, decision_step, trainer_of
from creditml.review._export import PDF_ARTIFACT, PDF_TAG, download_review, export_review, latest_decision
from creditml.review._findings import FINDING_TYPES, SEVERITIES, findings_of, record_finding, report_sections
from creditml.review._queue import review_queue, status_of
from creditml.review._reports import ReportCache
from creditml.review._sessions import SESSION_COOKIE, SIGNIN_COOKIE, Session, SessionStore, current_identity
from creditml.review._settings import ReviewError, ReviewSettings, default_secret_path, load_or_create_secret

log = logging.getLogger("creditml.review")

VIEW_ROLES = ("data_scientist", "reviewer", "approver", "admin")
DECIDE_ROLES = ("reviewer", "approver")
PAGE_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
NOTICES = {"finding": "Finding recorded as ledger entry seq {seq}.",
           "decision": "Decision recorded as ledger entry seq {seq}.",
           "export": "Review PDF attached to the run as {artifact}."}
_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                                autoescape=True)


class _SignInNeeded(Exception):
    pass


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        self.status, self.message = status, message
        super().__init__(message)


def _refusal(identity: Identity, doing: str, roles: tuple[str, ...], fix: str) -> _Refused:
    held = ", ".join(sorted(identity.roles)) or "none"
    return _Refused(403, f"{identity.name} may not {doing}: rule role: expected role {' or '.join(roles)}, found "
                         f"roles: {held}; fix: {fix}")


def _require(identity: Identity, roles: tuple[str, ...], doing: str, fix: str) -> None:
    if not any(identity.has(r) for r in roles):
        raise _refusal(identity, doing, roles, fix)


def _safe_next(target: str | None) -> str:
    """Only a path on this server (no scheme, no //host): sign-in must not redirect elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


def _next_review(value: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReviewError(f"next review date {value!r} is not a date; rule next-review-date: expected YYYY-MM-DD; "
                          "fix: pick a date") from None


def create_app(settings: ReviewSettings | None = None, *, registry: ModelRegistry | None = None,
               governance: GovernanceStore | None = None, ledger: Ledger | None = None,
               reports: ReportCache | None = None) -> FastAPI:
    settings = settings or ReviewSettings()
    registry = registry or open_registry(settings.registry_uri)
    if ledger is None:  # the same ledger the CLI and the loaders use: beside the tracking store
        ledger = open_ledger(registry) if settings.governance_url is None else Ledger(connect(settings.governance_url))
    governance = governance or ledger.store
    reports = reports or ReportCache(registry)
    sessions = SessionStore(load_or_create_secret(settings.secret_path or default_secret_path()),
                            settings.session_idle_minutes, settings.session_max_hours)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.warm_reports:
            try:
                reports.warm([(i.model, i.version) for i in review_queue(registry, ledger)])
            except CreditmlError:
                log.exception("could not list the queue to build its reports in advance")
        yield

    app = FastAPI(title="creditml review workbench", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.settings, app.state.registry, app.state.ledger, app.state.reports = settings, registry, ledger, reports
    app.state.sessions = sessions

    @app.middleware("http")
    async def headers(request: Request, call_next):
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f"app;dur={elapsed:.1f}"
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    # ------------------------------------------------------------------ rendering and identity

    def page(template: str, code: int = 200, who: tuple[Session, Identity] | None = None, **ctx) -> HTMLResponse:
        session, identity = who if who else (None, None)
        html = _TEMPLATES.get_template(template).render(identity=identity, csrf=session.csrf if session else "",
                                                        **ctx)
        return HTMLResponse(html, status_code=code)

    def signed_in(request: Request) -> tuple[Session, Identity] | None:
        session = sessions.find(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        identity = current_identity(governance, session.name)
        if identity is None:  # disabled or removed since signing in
            sessions.close(session)
            return None
        return session, identity

    def viewer(request: Request) -> tuple[Session, Identity]:
        who = signed_in(request)
        if who is None:
            raise _SignInNeeded()
        _require(who[1], VIEW_ROLES, "use the review workbench", "ask an admin for the reviewer, approver or "
                                                                 "data_scientist role")
        return who

    def poster(request: Request, csrf_token: str) -> tuple[Session, Identity]:
        who = signed_in(request)
        if who is None:
            raise _Refused(401, "not signed in, or the session ended (signed out, idle for "
                                f"{settings.session_idle_minutes} min, or the server restarted); rule sign-in; "
                                "fix: sign in again and resubmit")
        if not sessions.csrf_ok(who[0], csrf_token):
            raise _Refused(403, f"the form sent by {who[1].name} carries no valid CSRF token for this session; rule "
                                "csrf: every form must come from a page of this server in the same session; "
                                "fix: reload the page and submit again")
        _require(who[1], VIEW_ROLES, "use the review workbench", "ask an admin for a role")
        return who

    @app.exception_handler(_SignInNeeded)
    async def _to_signin(request: Request, exc: _SignInNeeded):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(_Refused)
    async def _refused(request: Request, exc: _Refused):
        return page("message.html.j2", exc.status, signed_in(request), heading="Refused", error=exc.message)

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, exc: RequestValidationError):
        fields = ", ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'form'}: {e.get('msg', '')}"
                           for e in exc.errors())
        return page("message.html.j2", 400, signed_in(request), heading="Refused",
                    error=f"the form is malformed ({fields}); rule form: send the page's own form; fix: reload the "
                          "page and submit again")

    @app.exception_handler(RegistryError)
    async def _unknown(request: Request, exc: RegistryError):
        return page("message.html.j2", 404, signed_in(request), heading="Not found", error=str(exc))

    @app.exception_handler(CreditmlError)
    async def _failed(request: Request, exc: CreditmlError):
        status = 400 if isinstance(exc, ReviewError) else 500
        return page("message.html.j2", status, signed_in(request), heading="Could not complete", error=str(exc))

    # ------------------------------------------------------------------ sign-in

    def signin_page(status: int = 200, error: str | None = None, name: str = "", next_: str = "/queue"):
        token, cookie = sessions.signin_token()
        response = page("signin.html.j2", status, None, signin_token=token, next=_safe_next(next_), name=name,
                        error=error)
        response.set_cookie(SIGNIN_COOKIE, cookie, httponly=True, samesite="strict", secure=settings.secure_cookies,
                            path="/signin", max_age=3600)
        return response

    @app.get("/health")
    def health():
        return JSONResponse({"status": "ok"})

    @app.get("/")
    def root():
        return RedirectResponse("/queue", status_code=303)

    @app.get("/signin")
    def signin_form(request: Request, next: str = "/queue"):
        return signin_page(next_=next)

    @app.post("/signin")
    def signin(request: Request, name: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
               next: str = Form("/queue")):
        if not sessions.signin_token_ok(request.cookies.get(SIGNIN_COOKIE), csrf_token):
            return signin_page(403, "the sign-in form expired or did not come from this server; rule csrf; fix: "
                                    "sign in again on this page", name, next)
        try:
            identity = authenticate_password(governance, name.strip(), password)
        except AuthError as exc:
            return signin_page(401, str(exc), name, next)
        if not any(identity.has(r) for r in VIEW_ROLES):
            return signin_page(403, str(_refusal(identity, "sign in to the review workbench", VIEW_ROLES,
                                                 "ask an admin for the reviewer, approver or data_scientist role")),
                               name, next)
        _, cookie = sessions.open(identity.name)
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="strict", secure=settings.secure_cookies,
                            path="/")
        response.delete_cookie(SIGNIN_COOKIE, path="/signin")
        return response

    @app.post("/signout")
    def signout(request: Request, csrf_token: str = Form("")):
        session, _ = poster(request, csrf_token)
        sessions.close(session)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ------------------------------------------------------------------ pages

    @app.get("/queue")
    def queue(request: Request):
        who = viewer(request)
        return page("queue.html.j2", 200, who, items=review_queue(registry, ledger), models=registry.model_names())

    def version_page(who, model: str, version: str, code: int = 200, error: str | None = None,
                     notice: str | None = None, form: dict | None = None) -> HTMLResponse:
        identity = who[1]
        info = registry.get_version(model, version)
        rows = ledger.entries(model)
        latest = last_review(rows, info.version)
        own_review = (latest is not None and latest.actor == identity.name
                      and latest.payload.get("decision") == "approve")
        return page("version.html.j2", code, who, model=model, version=info.version, info=info, rows=rows,
                    trainer=trainer_of(rows, info.tags, info.version), status=_status(rows, info),
                    findings=findings_of(rows, info.version), decision=latest_decision(rows, info.version),
                    can_decide=any(identity.has(r) for r in DECIDE_ROLES),
                    step=decision_step(rows, info.version, identity, True), head_seq=rows[-1].seq if rows else 0,
                    pdf=_pdf_note(info.tags.get(PDF_TAG)), pdf_artifact=PDF_ARTIFACT, finding_types=FINDING_TYPES,
                    severities=SEVERITIES, sections=report_sections(), form=form or {}, error=error, notice=notice,
                    own_review=own_review)

    @app.get("/models/{model}/versions/{version}")
    def version_view(request: Request, model: str, version: str, done: str = "", seq: int = 0):
        who = viewer(request)
        notice = NOTICES[done].format(seq=seq, artifact=PDF_ARTIFACT) if done in NOTICES else None
        return version_page(who, model, version, notice=notice)

    @app.get("/models/{model}/versions/{version}/report")
    def report(request: Request, model: str, version: str):
        viewer(request)
        return HTMLResponse(reports.get(model, version),
                            headers={"Content-Security-Policy": REPORT_CSP, "X-Frame-Options": "SAMEORIGIN"})

    @app.get("/models/{model}/audit")
    def audit(request: Request, model: str):
        who = viewer(request)
        registry.require_model(model)
        rows = ledger.entries(model)
        return page("audit.html.j2", 200, who, model=model, rows=rows, report=ledger.verify(model),
                    champion=champion_of(rows), payload_json=lambda r: canonical_json(r.payload))

    @app.get("/models/{model}/versions/{version}/review.pdf")
    def review_pdf(request: Request, model: str, version: str):
        viewer(request)
        with tempfile.TemporaryDirectory(prefix="creditml-review-") as tmp:
            content = download_review(registry, model, version, Path(tmp)).read_bytes()
        filename = f"{model}-v{version}-review.pdf".replace('"', "")
        return Response(content, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    # ------------------------------------------------------------------ actions

    def back(model: str, version: str, done: str, seq: int) -> RedirectResponse:
        return RedirectResponse(f"/models/{quote(model, safe='')}/versions/{quote(str(version), safe='')}"
                                f"?done={done}&seq={seq}", status_code=303)

    @app.post("/models/{model}/versions/{version}/findings")
    def add_finding(request: Request, model: str, version: str, csrf_token: str = Form(""), type: str = Form(""),
                    severity: str = Form(""), section: str = Form(""), text: str = Form("")):
        who = poster(request, csrf_token)
        form = {"type": type, "severity": severity, "section": section, "text": text}
        try:
            entry = record_finding(registry, ledger, model, version, who[1], type, severity, text, section)
        except DecisionRefused as exc:
            return version_page(who, model, version, 403, str(exc), form=form)
        except ReviewError as exc:
            return version_page(who, model, version, 400, str(exc), form=form)
        return back(model, version, "finding", entry.seq)

    @app.post("/models/{model}/versions/{version}/decision")
    def add_decision(request: Request, model: str, version: str, csrf_token: str = Form(""),
                     decision: str = Form(""), comment: str = Form(""), conditions: str = Form(""),
                     next_review: str = Form(""), based_on_seq: int | None = Form(None)):
        who = poster(request, csrf_token)
        form = {"decision": decision, "comment": comment, "conditions": conditions, "next_review": next_review}
        try:
            if decision not in ("approve", "reject"):
                raise ReviewError(f"{who[1].name}'s decision {decision!r} is unknown; rule decision: expected "
                                  "approve or reject; fix: choose one")
            entry = decide(registry, ledger, model, version, who[1], decision == "approve", comment,
                           conditions.splitlines(), _next_review(next_review), based_on_seq=based_on_seq)
        except DecisionRefused as exc:
            return version_page(who, model, version, 403, str(exc), form=form)
        except ConcurrentDecisionError as exc:
            return version_page(who, model, version, 409, str(exc), form=form)
        except ReviewError as exc:
            return version_page(who, model, version, 400, str(exc), form=form)
        return back(model, version, "decision", entry.seq)

    @app.post("/models/{model}/versions/{version}/export")
    def export(request: Request, model: str, version: str, csrf_token: str = Form("")):
        who = poster(request, csrf_token)
        _require(who[1], DECIDE_ROLES, f"export the review of version {version} of model {model!r}",
                 "ask a reviewer or approver to export it")
        try:
            done = export_review(registry, ledger, reports, model, version, settings.chromium, who[1].name)
        except ReviewError as exc:
            return version_page(who, model, version, 400, str(exc))
        return back(model, version, "export", done.decision.seq)

    return app


def _status(rows, info) -> str:
    waiting = status_of(rows, info)
    if waiting is not None:
        return waiting[0] + (f" (approving review by {waiting[1]})" if waiting[1] else "")
    if champion_of(rows) == info.version:
        return "champion"
    approval = approval_in_force(rows, info.version)
    if approval is not None:
        return f"approved by {approval.actor}"
    review = last_review(rows, info.version)
    if review is not None and review.payload.get("decision") == "reject":
        return f"rejected by {review.actor}"
    return f"gates {info.tags.get('creditml.gates', 'not evaluated')}"


def _pdf_note(tag: str | None) -> str | None:
    if not tag:
        return None
    seq, _, digest = tag.removeprefix("seq ").partition(" ")
    return f"decision seq {seq}, hash {digest[:16]}"
