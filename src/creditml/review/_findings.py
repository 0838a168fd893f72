"""Typed review findings, one signed ledger row (kind ``finding``) each.

A finding says what a reviewer found (``issue``, ``limitation`` or ``policy_exception``),
how much it matters (``low``, ``medium``, ``high``), in which report section, in their
words. Recording one is part of reviewing, so the same rule applies: a reviewer or
approver who did not train the version (``governance.decisions.may_review``).
"""

from __future__ import annotations

from dataclasses import dataclass

from creditml.explain.report import SECTIONS
from creditml.governance import Identity, Ledger, LedgerEntry, may_review
from creditml.registry import ModelRegistry
from creditml.review._decisions import trainer_of
from creditml.review._settings import ReviewError

FINDING_TYPES = ("issue", "limitation", "policy_exception")
SEVERITIES = ("low", "medium", "high")
GENERAL = "general"  # a finding about the model as a whole, not one section
MAX_TEXT = 4000


def report_sections() -> tuple[str, ...]:
    return (GENERAL, *SECTIONS)


@dataclass(frozen=True)
class Finding:
    seq: int
    version: str
    actor: str
    at: str
    type: str
    severity: str
    section: str
    text: str
    hash: str

    @classmethod
    def of(cls, entry: LedgerEntry) -> "Finding":
        p = entry.payload
        return cls(entry.seq, str(entry.version), entry.actor, entry.at, p.get("type", ""), p.get("severity", ""),
                   p.get("section", ""), p.get("text", ""), entry.hash)


def findings_of(rows: list[LedgerEntry], version: str) -> list[Finding]:
    return [Finding.of(r) for r in rows if r.kind == "finding" and r.version == str(version)]


def _check(model: str, version: str, actor: Identity, type_: str, severity: str, text: str, section: str) -> None:
    what = f"{actor.name}'s finding on version {version} of model {model!r}"
    if type_ not in FINDING_TYPES:
        raise ReviewError(f"{what}: type {type_!r} is unknown; rule finding-type: expected one of "
                          f"{', '.join(FINDING_TYPES)}; fix: pick one of them")
    if severity not in SEVERITIES:
        raise ReviewError(f"{what}: severity {severity!r} is unknown; rule finding-severity: expected one of "
                          f"{', '.join(SEVERITIES)}; fix: pick one of them")
    if section not in report_sections():
        raise ReviewError(f"{what}: report section {section!r} is unknown; rule finding-section: expected one of "
                          f"{', '.join(report_sections())}; fix: pick the section the finding refers to")
    if not text.strip():
        raise ReviewError(f"{what} has no text; rule finding-text: say what you found; fix: describe it")
    if len(text) > MAX_TEXT:
        raise ReviewError(f"{what} is {len(text)} characters long; rule finding-text: expected at most {MAX_TEXT}; "
                          "fix: shorten it or split it into several findings")


def record_finding(store: ModelRegistry, ledger: Ledger, model: str, version: str, actor: Identity, type_: str,
                   severity: str, text: str, section: str) -> LedgerEntry:
    """Append ``actor``'s finding on ``version``; refused like a review (role, four eyes)."""
    version = str(version)
    _check(model, version, actor, type_, severity, text, section)
    tags = store.get_version(model, version).tags

    def check(rows) -> None:
        may_review(rows, version, actor, trainer_of(rows, tags, version).name, model=model)

    return ledger.append(model, "finding", actor, version=version, check=check,
                         payload={"type": type_, "severity": severity, "text": text.strip(), "section": section})
