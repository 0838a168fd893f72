"""The whole workbench in Debian's chromium, over a real small-world pipeline run.

One credit_default version is trained on the small built-in world into a fresh MLflow
store and passes the gates; the real server runs with uvicorn on a free loopback port;
Playwright drives ``/usr/bin/chromium`` (never a downloaded browser). Screenshots go to
the test's tmp dir and are copied to ``/tmp/workbench-shots/``.

The version is trained by a signed-in data scientist, so the ledger records who trained it.
"""

from __future__ import annotations

import re
import shutil
import socket
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from mlflow.tracking import MlflowClient

from creditml.config import load_pipeline_config
from creditml.governance import Ledger, connect, create_user, get_identity
from creditml.registry import open_registry
from creditml.review import ReviewSettings, create_app
from creditml.registry.governed import open_ledger, open_store
from creditml.review._decisions import decide
from creditml.review._export import PDF_ARTIFACT
from creditml.review._findings import findings_of, record_finding
from tests.conftest import PIPELINES
from tests.review.conftest import PASSWORD, shots_dir

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (uses /usr/bin/chromium)")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium: apt-get install chromium")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class World:
    base: str
    model: str
    version: str
    run_id: str
    tmp: Path
    cold_report_seconds: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def world(small_world, tmp_path_factory):
    from creditml.runner import run_pipeline
    import uvicorn

    tmp = tmp_path_factory.mktemp("workbench-e2e")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
        mp.setenv("CREDITML_GOVERNANCE_URL", f"sqlite:///{tmp / 'governance.db'}")
        mp.setenv("CREDITML_LEDGER_KEY", str(tmp / "gov" / "ledger.key"))
        mp.chdir(tmp)  # the embedded artifact root (mlruns/) lands here
        cfg = load_pipeline_config(
            PIPELINES / "credit_default.yaml", dataset=small_world,
            overrides=["tuning.n_trials=3", "features.max_candidates=300", "selection.max_selected=40",
                       "training.min_positives=5", f"tuning.storage=sqlite:///{tmp / 'optuna.db'}"])
        registry = open_registry()
        store = open_store(registry)
        # dana trains (signed in) and approves others' models; rita reviews and approves
        dana = create_user(store, "dana", ("data_scientist", "approver"), password=PASSWORD)
        create_user(store, "rita", ("reviewer", "approver"), password=PASSWORD)
        summary = run_pipeline(cfg, trainer=dana)
        tags = registry.get_version(summary.model_name, summary.version).tags
        assert tags["creditml.gates"] == "passed", f"the small-world version failed its gates: {tags}"

        app = create_app(ReviewSettings(warm_reports=False))
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the review server did not answer /health within 10 s")
        started = time.perf_counter()
        app.state.reports.get(summary.model_name, summary.version)  # the first (cold) build, timed
        cold = time.perf_counter() - started
        try:
            yield World(base, summary.model_name, summary.version, summary.run_id, tmp, cold)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            store.dispose()


@pytest.fixture(scope="module")
def browser(world):
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


def _shot(page, tmp_path: Path, name: str) -> Path:
    out = tmp_path / f"{name}.png"
    page.screenshot(path=str(out), full_page=True)
    shutil.copy(out, shots_dir() / out.name)
    return out


def _report_loaded(page, timeout: float = 120_000) -> str:
    """The framed report's title, once it has loaded (its first build can take seconds)."""
    return page.frame_locator("iframe.report").locator("h1").inner_text(timeout=timeout)


def _sign_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/signin")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue")


def test_reviewer_finds_approves_and_the_trainer_is_refused(world, browser, tmp_path):
    version_url = f"{world.base}/models/{world.model}/versions/{world.version}"
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()

    page.goto(f"{world.base}/queue")
    assert page.url.startswith(f"{world.base}/signin?next=")
    _shot(page, tmp_path, "01-signin")
    _sign_in(page, world.base, "rita")
    row = page.locator("#queue tr", has_text=world.model)
    assert row.count() == 1
    assert "awaiting review" in row.inner_text() and "dana" in row.inner_text()
    _shot(page, tmp_path, "02-queue")

    row.get_by_role("link", name="Open").click()
    page.wait_for_url(version_url)
    assert _report_loaded(page).startswith("Model review:")
    assert page.frame_locator("iframe.report").locator("#summary h2").inner_text() == "Summary"
    _shot(page, tmp_path, "03-version")

    page.select_option("#type", "limitation")
    page.select_option("#severity", "medium")
    page.select_option("#section", "stability")
    page.fill("#text", "Out-of-time AUC rests on a small sample; monitor monthly.")
    page.click("#add-finding")
    page.wait_for_url(re.compile(r".*\?done=finding&seq=\d+$"))
    assert "Finding recorded as ledger entry seq" in page.inner_text("[role=status]")
    assert "Out-of-time AUC rests on a small sample" in page.inner_text("#findings-table")
    _report_loaded(page)
    _shot(page, tmp_path, "04-finding")

    page.check("input[name=decision][value=approve]")
    page.fill("#comment", "Discriminates well out of time; calibration within tolerance.")
    page.click("#decide")
    page.wait_for_url(re.compile(r".*\?done=decision&seq=\d+$"))
    assert "Decision recorded as ledger entry seq" in page.inner_text("[role=status]")
    assert "review (approve)" in page.inner_text("main") and "awaiting approval" in page.inner_text("#status")
    _report_loaded(page)
    _shot(page, tmp_path, "05-decided")

    page.click("header.top button")  # sign out
    page.wait_for_url(f"{world.base}/signin")
    _sign_in(page, world.base, "dana")
    page.goto(version_url)
    assert "You trained this version" in page.inner_text("#own-version")
    page.check("input[name=decision][value=approve]")
    page.fill("#comment", "I trained it and it is good.")
    with page.expect_response(lambda r: r.url.endswith("/decision")) as answer:
        page.click("#decide")
    assert answer.value.status == 403
    error = page.inner_text("#error")
    assert error == (f"dana may not approve version {world.version} of model '{world.model}': rule four-eyes: dana "
                     "trained this version; expected someone other than the trainer; fix: ask another "
                     "reviewer/approver")
    _report_loaded(page)
    _shot(page, tmp_path, "06-trainer-refused")

    page.goto(f"{world.base}/models/{world.model}/audit")
    assert "entries verified" in page.inner_text("#verify")
    _shot(page, tmp_path, "07-audit")
    context.close()
    kinds = [e.kind for e in open_ledger(open_registry()).entries(world.model)]
    assert kinds == ["registered", "finding", "review"]


def _ensure_decision(world) -> None:
    """rita's finding and approving review, when this test runs without the flow above."""
    registry = open_registry()
    ledger = open_ledger(registry)
    rita = get_identity(ledger.store, "rita")
    if not findings_of(ledger.entries(world.model), world.version):
        record_finding(registry, ledger, world.model, world.version, rita, "limitation", "medium",
                       "Out-of-time AUC rests on a small sample; monitor monthly.", "stability")
    if not any(r.kind == "review" for r in ledger.entries(world.model)):
        decide(registry, ledger, world.model, world.version, rita, True, "Discriminates well out of time.")


def _section_headings(report_html: str) -> list[str]:
    return [re.sub(r"\s+", " ", h).strip()
            for h in re.findall(r'<section id="[\w-]+">\s*<h2>([^<]+)', report_html)]


def test_the_signed_review_is_exported_to_pdf_and_attached_to_the_run(world, browser, tmp_path):
    _ensure_decision(world)
    version_url = f"{world.base}/models/{world.model}/versions/{world.version}"
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    _sign_in(page, world.base, "rita")
    page.goto(f"{version_url}/report")
    headings = _section_headings(page.content())
    assert len(headings) >= 12 and "Summary" in headings and "Fairness by protected attribute" in headings
    page.goto(version_url)
    page.click("#export-pdf")
    page.wait_for_url(re.compile(r".*\?done=export&seq=\d+$"), timeout=180_000)
    assert f"Review PDF attached to the run as {PDF_ARTIFACT}." in page.inner_text("[role=status]")
    _report_loaded(page)
    _shot(page, tmp_path, "08-exported")
    with page.expect_download() as download:
        page.click("#pdf-link")
    pdf = tmp_path / "review.pdf"
    download.value.save_as(str(pdf))
    context.close()
    shutil.copy(pdf, shots_dir() / "review.pdf")

    client = MlflowClient()
    assert [a.path for a in client.list_artifacts(world.run_id, "review")] == [PDF_ARTIFACT]
    attached = Path(client.download_artifacts(world.run_id, PDF_ARTIFACT, str(tmp_path / "attached")))
    assert attached.read_bytes() == pdf.read_bytes() and pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: apt-get install poppler-utils")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # reading order (no -layout) keeps a table cell's wrapped lines together
    flat = re.sub(r"\s+", " ", subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                               check=True).stdout)
    decision = [e for e in open_ledger(open_registry()).entries(world.model) if e.kind in ("review", "approval")][-1]
    for heading in ["Review record", "Signed decision", "Findings", "Ledger history of this version", *headings]:
        assert heading in flat, f"section heading {heading!r} is not in the PDF text"
    assert "review: approve" in flat and "rita" in flat
    assert decision.hash in text, "the decision's ledger entry hash is not in the PDF text"
    assert "Out-of-time AUC rests on a small sample" in flat
    assert "entries verified" in flat


PAGES = {"sign-in": "/signin", "queue": "/queue", "version": "/models/{m}/versions/{v}",
         "report (cached)": "/models/{m}/versions/{v}/report", "audit": "/models/{m}/audit"}


def test_pages_answer_within_a_second(world, tmp_path):
    with httpx.Client(base_url=world.base, follow_redirects=False, timeout=30) as http:
        token = CSRF.search(http.get("/signin").text)[1]
        assert http.post("/signin", data={"name": "rita", "password": PASSWORD, "csrf_token": token}).status_code == 303
        figures = {}
        for name, path in PAGES.items():
            url = path.format(m=world.model, v=world.version)
            times = []
            for _ in range(5):
                started = time.perf_counter()
                answer = http.get(url)
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200, (url, answer.status_code)
            figures[name] = (statistics.median(times), max(times), len(answer.content))
    lines = [f"{name:16s} median {med * 1000:7.1f} ms  max {top * 1000:7.1f} ms  ({size:,} bytes)"
             for name, (med, top, size) in figures.items()]
    lines.append(f"report first build (cold, once per version per server): {world.cold_report_seconds:.1f} s")
    (shots_dir() / "timings.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    slow = {name: top for name, (_, top, _) in figures.items() if top >= 1.0}
    assert not slow, f"pages slower than 1 s: {slow}"
