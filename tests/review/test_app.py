"""The workbench over HTTP (FastAPI's test client): sign-in, sessions, CSRF, roles, pages, refusals."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from creditml.governance import create_user, disable_user, remove_role
from creditml.review import ReviewSettings, create_app
from creditml.review._reports import ReportCache
from creditml.review._sessions import SESSION_COOKIE
from tests.review.conftest import PASSWORD, stub_report

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SEQ = re.compile(r'name="based_on_seq" value="(\d+)"')


@pytest.fixture
def app(placeholder, people, tmp_path):
    settings = ReviewSettings(secret_path=tmp_path / "gov" / "review-session.secret", warm_reports=False)
    return create_app(settings, registry=placeholder.registry, governance=people.store, ledger=people.ledger,
                      reports=ReportCache(placeholder.registry, stub_report))


def client(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def sign_in(app, name: str, password: str = PASSWORD) -> TestClient:
    c = client(app)
    form = c.get("/signin")
    answer = c.post("/signin", data={"name": name, "password": password, "csrf_token": CSRF.search(form.text)[1],
                                     "next": "/queue"})
    assert answer.status_code == 303, answer.text
    return c


def csrf(c: TestClient, path: str) -> str:
    return CSRF.search(c.get(path).text)[1]


def version_path(model: str, v: str) -> str:
    return f"/models/{model}/versions/{v}"


def test_pages_need_a_sign_in_and_the_cookie_is_httponly_strict(app, tmp_path):
    c = client(app)
    answer = c.get("/queue?x=1")
    assert answer.status_code == 303 and answer.headers["location"] == "/signin?next=%2Fqueue%3Fx%3D1"
    form = c.get("/signin")
    assert form.status_code == 200
    token = CSRF.search(form.text)[1]
    ok = c.post("/signin", data={"name": "rita", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"})
    assert ok.status_code == 303 and ok.headers["location"] == "/queue"  # no open redirect
    cookie = next(h for h in ok.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert c.get("/queue").status_code == 200
    secret = tmp_path / "gov" / "review-session.secret"
    assert secret.stat().st_mode & 0o777 == 0o600


def test_sign_in_refusals_say_what_to_do(app):
    c = client(app)
    token = CSRF.search(c.get("/signin").text)[1]
    wrong = c.post("/signin", data={"name": "rita", "password": "not her password", "csrf_token": token})
    assert wrong.status_code == 401
    assert "sign-in refused for &#39;rita&#39;: unknown user or wrong password; check both and retry" in wrong.text
    forged = client(app).post("/signin", data={"name": "rita", "password": PASSWORD, "csrf_token": token})
    assert forged.status_code == 403  # a token without its cookie: the form did not come from this server
    assert "the sign-in form expired or did not come from this server; rule csrf" in forged.text
    c2 = client(app)
    service = c2.post("/signin", data={"name": "svc", "password": PASSWORD,
                                       "csrf_token": CSRF.search(c2.get("/signin").text)[1]})
    assert service.status_code == 403
    assert ("svc may not sign in to the review workbench: rule role: expected role data_scientist or reviewer or "
            "approver or admin, found roles: service") in service.text


def test_every_post_needs_the_session_csrf_token(app, placeholder):
    v = placeholder.new_version()
    c = sign_in(app, "rita")
    for token in ("", "forged-token"):
        answer = c.post(f"{version_path(placeholder.model, v)}/findings", data={"csrf_token": token, "type": "issue", "severity": "low",
                                                             "section": "summary", "text": "x"})
        assert answer.status_code == 403
        assert "carries no valid CSRF token for this session; rule csrf" in answer.text
    other = sign_in(app, "alex")  # a valid token of another session is no good either
    answer = c.post(f"{version_path(placeholder.model, v)}/decision", data={"csrf_token": csrf(other, "/queue"), "decision": "approve",
                                                         "comment": "x"})
    assert answer.status_code == 403
    anonymous = client(app).post(f"{version_path(placeholder.model, v)}/decision", data={"decision": "approve", "comment": "x"})
    assert anonymous.status_code == 401 and "rule sign-in" in anonymous.text


def test_queue_shows_waiting_versions_with_metrics_and_trainer(app, placeholder):
    waiting = placeholder.new_version(trainer="dana")
    failed = placeholder.new_version(gates="failed")
    c = sign_in(app, "dave")
    page = c.get("/queue").text
    assert f'<td>{placeholder.model}</td><td>{waiting}</td><td>credit_default</td>' in page
    assert "0.7312" in page and "0.3810" in page and "dana <span class=\"muted\">(ledger)</span>" in page
    assert "awaiting review" in page
    assert f'href="/models/{placeholder.model}/versions/{failed}"' not in page


def test_reviewer_records_a_finding_and_approves_then_another_approves(app, placeholder, people):
    v = placeholder.new_version()
    rita = sign_in(app, "rita")
    page = rita.get(version_path(placeholder.model, v)).text
    assert 'id="decision-form"' in page and 'id="finding-form"' in page
    assert f'src="{version_path(placeholder.model, v)}/report"' in page
    answer = rita.post(f"{version_path(placeholder.model, v)}/findings", data={
        "csrf_token": CSRF.search(page)[1], "type": "limitation", "severity": "high", "section": "stability",
        "text": "AUC falls in the last two months"})
    assert answer.status_code == 303 and answer.headers["location"] == f"{version_path(placeholder.model, v)}?done=finding&seq=2"
    page = rita.get(answer.headers["location"]).text
    assert "Finding recorded as ledger entry seq 2." in page and "AUC falls in the last two months" in page
    answer = rita.post(f"{version_path(placeholder.model, v)}/decision", data={
        "csrf_token": CSRF.search(page)[1], "based_on_seq": SEQ.search(page)[1], "decision": "approve",
        "comment": "fit for purpose with the finding noted"})
    assert answer.status_code == 303
    assert "awaiting approval" in rita.get("/queue").text
    assert "You wrote the latest approving review" in rita.get(version_path(placeholder.model, v)).text
    alex = sign_in(app, "alex")
    page = alex.get(version_path(placeholder.model, v)).text
    assert "Approving now records the approval (second pair of eyes)" in page
    answer = alex.post(f"{version_path(placeholder.model, v)}/decision", data={
        "csrf_token": CSRF.search(page)[1], "based_on_seq": SEQ.search(page)[1], "decision": "approve",
        "comment": "agreed", "conditions": "monitor PSI monthly\nretail only", "next_review": "2030-01-31"})
    assert answer.status_code == 303
    page = alex.get(version_path(placeholder.model, v)).text
    assert "approved by alex" in page and "monitor PSI monthly" in page and "Next review: 2030-01-31" in page
    assert f'href="/models/{placeholder.model}/versions/{v}"' not in alex.get("/queue").text  # decided: out of the queue
    assert [e.kind for e in people.ledger.entries(placeholder.model)] == ["registered", "finding", "review", "approval"]


def test_the_trainer_is_refused_with_the_rule_on_the_page(app, placeholder, people):
    v = placeholder.new_version(trainer="dana")
    rita = sign_in(app, "rita")
    page = rita.get(version_path(placeholder.model, v)).text
    rita.post(f"{version_path(placeholder.model, v)}/decision", data={"csrf_token": CSRF.search(page)[1], "decision": "approve",
                                                   "comment": "fine"})
    dana = sign_in(app, "dana")
    page = dana.get(version_path(placeholder.model, v)).text
    answer = dana.post(f"{version_path(placeholder.model, v)}/decision", data={
        "csrf_token": CSRF.search(page)[1], "based_on_seq": SEQ.search(page)[1], "decision": "approve",
        "comment": "my model is good"})
    assert answer.status_code == 403
    assert (f"dana may not approve version {v} of model &#39;{placeholder.model}&#39;: rule four-eyes: dana trained this "
            "version; expected someone other than the trainer; fix: ask another reviewer/approver") in answer.text
    assert "my model is good" in answer.text  # the form keeps what was typed
    assert [e.kind for e in people.ledger.entries(placeholder.model)] == ["registered", "review"]


def test_a_data_scientist_reads_but_cannot_decide_or_export(app, placeholder, people):
    v = placeholder.new_version(trainer="dana")
    dave = sign_in(app, "dave")
    page = dave.get(version_path(placeholder.model, v)).text
    assert 'id="decision-form"' not in page and 'id="finding-form"' not in page
    assert "may read this version but not decide on it" in page
    token = CSRF.search(page)[1]  # the sign-out form's: a valid session token
    answer = dave.post(f"{version_path(placeholder.model, v)}/decision", data={"csrf_token": token, "decision": "approve",
                                                            "comment": "looks good"})
    assert answer.status_code == 403
    assert "dave may not review version" in answer.text and "rule role: expected role reviewer or approver" in answer.text
    answer = dave.post(f"{version_path(placeholder.model, v)}/export", data={"csrf_token": token})
    assert answer.status_code == 403
    assert (f"dave may not export the review of version {v} of model &#39;{placeholder.model}&#39;: rule role: expected role "
            "reviewer or approver, found roles: data_scientist") in answer.text
    assert [e.kind for e in people.ledger.entries(placeholder.model)] == ["registered"]


def test_sign_out_and_disabling_end_the_session_at_once(app, placeholder, people):
    rita = sign_in(app, "rita")
    stolen = rita.cookies.get(SESSION_COOKIE)
    assert rita.post("/signout", data={"csrf_token": csrf(rita, "/queue")}).status_code == 303
    replay = client(app)
    replay.cookies.set(SESSION_COOKIE, stolen)
    assert replay.get("/queue").status_code == 303  # the copied cookie no longer names a session
    create_user(people.store, "temp approver", ("approver",), password=PASSWORD)
    create_user(people.store, "temp scientist", ("data_scientist",), password=PASSWORD)
    approver = sign_in(app, "temp approver")
    remove_role(people.store, "temp approver", "approver")
    answer = approver.get("/queue")
    assert answer.status_code == 403 and "temp approver may not use the review workbench: rule role" in answer.text
    scientist = sign_in(app, "temp scientist")
    disable_user(people.store, "temp scientist")
    assert scientist.get("/queue").status_code == 303


def test_unknown_versions_bad_forms_and_headers(app, placeholder):
    v = placeholder.new_version()
    rita = sign_in(app, "rita")
    missing = rita.get(version_path(placeholder.model, "99"))
    assert missing.status_code == 404 and f"model &#39;{placeholder.model}&#39; has no version 99; versions: {v}" in missing.text
    page = rita.get(version_path(placeholder.model, v))
    assert page.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store" and page.headers["server-timing"].startswith("app;dur=")
    report = rita.get(f"{version_path(placeholder.model, v)}/report")
    assert report.headers["x-frame-options"] == "SAMEORIGIN" and "sandbox" in report.headers["content-security-policy"]
    bad = rita.post(f"{version_path(placeholder.model, v)}/decision", data={"csrf_token": CSRF.search(page.text)[1], "decision": "approve",
                                                         "comment": "ok", "next_review": "next spring"})
    assert bad.status_code == 400 and "next review date &#39;next spring&#39; is not a date" in bad.text
    garbled = rita.post(f"{version_path(placeholder.model, v)}/decision", data={
        "csrf_token": CSRF.search(page.text)[1], "decision": "approve", "comment": "ok", "based_on_seq": "latest"})
    assert garbled.status_code == 400 and "the form is malformed (based_on_seq: " in garbled.text
    export = rita.post(f"{version_path(placeholder.model, v)}/export", data={"csrf_token": CSRF.search(page.text)[1]})
    assert export.status_code == 400 and "rule export-needs-decision" in export.text
    pdf = rita.get(f"{version_path(placeholder.model, v)}/review.pdf")
    assert pdf.status_code == 400 and "has no review PDF attached; rule export-first" in pdf.text


def test_audit_view_shows_verification_and_catches_an_edit(app, placeholder, people):
    v = placeholder.new_version()
    rita = sign_in(app, "rita")
    page = rita.get(version_path(placeholder.model, v)).text
    rita.post(f"{version_path(placeholder.model, v)}/decision", data={"csrf_token": CSRF.search(page)[1], "decision": "approve",
                                                   "comment": "fine"})
    audit = rita.get(f"/models/{placeholder.model}/audit").text
    assert f"ledger of model &#39;{placeholder.model}&#39;: 2 entries verified" in audit
    with people.store.engine.begin() as conn:
        conn.execute(text("UPDATE governance_ledger_entries SET actor = 'mallory' WHERE model = :m"),
                     {"m": placeholder.model})
    audit = rita.get(f"/models/{placeholder.model}/audit").text
    assert "fails verification: first bad entry is seq 1: content does not match its hash" in audit


def test_export_without_chromium_says_how_to_install_it(placeholder, people, tmp_path):
    settings = ReviewSettings(secret_path=tmp_path / "review-session.secret", warm_reports=False,
                              chromium=str(tmp_path / "no-chromium"))
    app = create_app(settings, registry=placeholder.registry, governance=people.store, ledger=people.ledger,
                     reports=ReportCache(placeholder.registry, stub_report))
    v = placeholder.new_version()
    rita = sign_in(app, "rita")
    token = csrf(rita, version_path(placeholder.model, v))
    rita.post(f"{version_path(placeholder.model, v)}/decision", data={"csrf_token": token, "decision": "approve",
                                                                      "comment": "fine"})
    answer = rita.post(f"{version_path(placeholder.model, v)}/export", data={"csrf_token": token})
    assert answer.status_code == 400
    assert (f"PDF export needs chromium at &#39;{tmp_path / 'no-chromium'}&#39;, which does not exist; install it "
            "(apt-get install chromium) or set CREDITML_CHROMIUM to its path") in answer.text
    assert "creditml.review_pdf" not in placeholder.registry.get_version(placeholder.model, v).tags
