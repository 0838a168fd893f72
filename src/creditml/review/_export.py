"""The signed review as a PDF: the decision, its ledger hash, the findings, then the report.

The document is the version's report with a review record put in front of it, printed
by headless chromium (no network, a throwaway profile) and attached to the version's
run through the registry seam as ``review/review.pdf``. The version tag
``creditml.review_pdf`` says which ledger entry the attached PDF carries.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import jinja2

from creditml.governance import Ledger, LedgerEntry
from creditml.registry import ModelRegistry
from creditml.review._decisions import trainer_of
from creditml.review._findings import findings_of
from creditml.review._reports import ReportCache
from creditml.review._settings import ReviewError

PDF_ARTIFACT_DIR = "review"
PDF_NAME = "review.pdf"
PDF_ARTIFACT = f"{PDF_ARTIFACT_DIR}/{PDF_NAME}"
PDF_TAG = "creditml.review_pdf"
DECISION_KINDS = ("review", "approval")
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
          "--hide-scrollbars", "--mute-audio", "--no-pdf-header-footer", "--virtual-time-budget=10000"]
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                          autoescape=True, undefined=jinja2.StrictUndefined)


@dataclass(frozen=True)
class Exported:
    model: str
    version: str
    run_id: str
    artifact: str
    decision: LedgerEntry
    size: int


def latest_decision(rows: list[LedgerEntry], version: str) -> LedgerEntry | None:
    found = [r for r in rows if r.kind in DECISION_KINDS and r.version == str(version)]
    return found[-1] if found else None


def review_document(report_html: str, record_html: str) -> str:
    """The report with the review record inserted at the top of its body."""
    body = re.search(r"<body[^>]*>", report_html)
    if body is None:
        raise ReviewError("the version's report has no <body>; it was not built by creditml.explain.report")
    return report_html[:body.end()] + record_html + report_html[body.end():]


def print_pdf(html: str, out: Path, chromium: str, timeout: float = 180) -> Path:
    """Print ``html`` to ``out`` with headless chromium."""
    if not Path(chromium).exists():
        raise ReviewError(f"PDF export needs chromium at {chromium!r}, which does not exist; install it "
                          "(apt-get install chromium) or set CREDITML_CHROMIUM to its path")
    out = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="creditml-pdf-") as tmp:
        page = Path(tmp) / "review.html"
        page.write_text(html, encoding="utf-8")
        try:
            done = subprocess.run([chromium, *_FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
                                   f"--print-to-pdf={out}", page.as_uri()],
                                  capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ReviewError(f"chromium did not print the review within {timeout:.0f} s; retry, or check that "
                              f"{chromium} runs headless on this machine") from None
    if done.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        raise ReviewError(f"chromium could not print the review (exit {done.returncode}): "
                          f"{done.stderr.strip()[-1500:]}; check that {chromium} runs headless on this machine")
    return out


def export_review(store: ModelRegistry, ledger: Ledger, reports: ReportCache, model: str, version: str,
                  chromium: str, exported_by: str) -> Exported:
    """Print the review of ``version`` and attach it to its run; refused before any decision exists."""
    version = str(version)
    info = store.get_version(model, version)
    rows = ledger.entries(model)
    decision = latest_decision(rows, version)
    if decision is None:
        raise ReviewError(f"{exported_by} may not export the review of version {version} of model {model!r}: rule "
                          "export-needs-decision: no review or approval of this version is recorded yet; fix: "
                          "record a decision first")
    record = _ENV.get_template("review_record.html.j2").render(
        model=model, version=version, info=info, decision=decision, findings=findings_of(rows, version),
        history=[r for r in rows if r.version == version], trainer=trainer_of(rows, info.tags, version),
        verified=ledger.verify(model), exported_by=exported_by)
    html = review_document(reports.get(model, version), record)
    with tempfile.TemporaryDirectory(prefix="creditml-review-") as tmp:
        pdf = print_pdf(html, Path(tmp) / PDF_NAME, chromium)
        size = pdf.stat().st_size
        store.log_artifact(info.run_id, pdf, PDF_ARTIFACT_DIR)
    store.set_version_tags(model, version, {PDF_TAG: f"seq {decision.seq} {decision.hash}"})
    return Exported(model, version, info.run_id, PDF_ARTIFACT, decision, size)


def download_review(store: ModelRegistry, model: str, version: str, dst: Path) -> Path:
    info = store.get_version(model, version)
    if not info.tags.get(PDF_TAG):
        raise ReviewError(f"version {version} of model {model!r} has no review PDF attached; rule "
                          "export-first: a reviewer or approver exports it from the version page; fix: press "
                          "'Export PDF' after the decision")
    return store.download_artifacts(info.run_id, PDF_ARTIFACT, dst)
