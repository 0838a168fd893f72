"""Reviews and approvals recorded from the workbench: four eyes checked, ledger row written, tag mirrored.

``decide`` is the one function that records a decision. It stays thin on purpose: the
rules are ``creditml.governance.decisions`` (run inside the ledger's append
transaction, on the rows as they are at that moment), the record is the ledger row,
and the version tags only mirror it for people browsing MLflow.

What "approve" records depends on where the version stands, so that two people always
read a model before it can be promoted:

- the first approving decision is a ``review`` (decision ``approve``);
- an approver acting on a version whose latest review approves it records the
  ``approval`` (refused if they wrote that review or trained the version);
- "reject" is always a ``review`` (decision ``reject``), which withdraws an approval.

Conditions of use and the next review date travel in the payload of the row written.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from creditml.governance import Identity, Ledger, LedgerEntry, may_approve, may_review
from creditml.governance.decisions import last_review
from creditml.registry import ModelRegistry
from creditml.review._settings import ReviewError

log = logging.getLogger("creditml.review")

TRAINED_BY_TAG = "creditml.trained_by"
REGISTERED = "registered"  # the ledger kind that records who trained a version (governed registration)


@dataclass(frozen=True)
class Trainer:
    """Who trained a version, and where that was read (``ledger`` is signed; ``version tag`` is not)."""

    name: str | None
    source: str


def trainer_of(rows: list[LedgerEntry], tags: dict[str, str], version: str) -> Trainer:
    """The identity that trained ``version``, from the ledger's signed ``registered`` entry only.

    An unverified registration, or none, leaves the trainer unknown, and four eyes then
    refuse every decision: the ``creditml.trained_by`` tag mirrors the ledger for people
    browsing MLflow and is never trusted (``tags`` is accepted for the page's display only)."""
    registered = [r for r in rows if r.kind == REGISTERED and r.version == str(version)]
    if not registered:
        return Trainer(None, "not recorded in the ledger")
    payload = registered[-1].payload
    if payload.get("verified", True) is False:
        return Trainer(None, "ledger (unverified registration)")
    return Trainer(payload.get("trainer") or registered[-1].actor, "ledger")


def _clean_conditions(conditions) -> list[str]:
    return [c.strip() for c in (conditions or []) if c and c.strip()]


def _check_inputs(model: str, version: str, actor: Identity, approve: bool, comment: str,
                  conditions: list[str], next_review: date | None, today: date) -> None:
    what = f"{actor.name}'s decision on version {version} of model {model!r}"
    if not comment.strip():
        raise ReviewError(f"{what} has no comment; rule decision-comment: say what you read and why you decide so; "
                          "fix: write a comment")
    if not approve and (conditions or next_review):
        raise ReviewError(f"{what} is a rejection with conditions of use or a next review date; rule "
                          "conditions-need-approval: conditions and the next review go with an approval; fix: "
                          "clear them, or put what must change in the comment")
    if next_review is not None and next_review <= today:
        raise ReviewError(f"{what}: next review date {next_review.isoformat()} is not after today "
                          f"({today.isoformat()}); rule next-review-in-future; fix: choose a later date")


def decision_step(rows: list[LedgerEntry], version: str, actor: Identity, approve: bool) -> str:
    """``approval`` or ``review``: what an approving (or rejecting) click by ``actor`` records now."""
    latest = last_review(rows, str(version))
    if approve and actor.has("approver") and latest is not None and latest.payload.get("decision") == "approve":
        return "approval"
    return "review"


def decide(store: ModelRegistry, ledger: Ledger, model: str, version: str, actor: Identity, approve: bool,
           comment: str, conditions: list[str] | None = None, next_review: date | None = None, *,
           based_on_seq: int | None = None, today: date | None = None) -> LedgerEntry:
    """Record ``actor``'s decision on ``version`` and return the signed ledger entry.

    Refusals: ``DecisionRefused`` (a four-eyes or role rule, nothing written),
    ``ConcurrentDecisionError`` (another decision was recorded after ``based_on_seq`` and
    this one no longer holds), ``ReviewError`` (no comment, conditions on a rejection, a
    past review date), ``RegistryError`` (unknown model or version)."""
    version = str(version)
    conditions = _clean_conditions(conditions)
    _check_inputs(model, version, actor, approve, comment, conditions, next_review, today or date.today())
    tags = store.get_version(model, version).tags
    rows = ledger.entries(model)
    if based_on_seq is not None:  # what the person saw when they clicked decides what they meant
        rows = [r for r in rows if r.seq <= based_on_seq]
    step = decision_step(rows, version, actor, approve)
    payload: dict = {"comment": comment.strip()}
    if step == "review":
        payload["decision"] = "approve" if approve else "reject"
    if conditions:
        payload["conditions"] = conditions
    if next_review is not None:
        payload["next_review"] = next_review.isoformat()

    def check(rows) -> None:
        trainer = trainer_of(rows, tags, version).name
        if step == "approval":
            may_approve(rows, version, actor, trainer, model=model)
        else:
            may_review(rows, version, actor, trainer, model=model)

    entry = ledger.append(model, step, actor, version=version, payload=payload, check=check,
                          based_on_seq=based_on_seq)
    _mirror(store, model, version, entry)
    return entry


def _mirror(store: ModelRegistry, model: str, version: str, entry: LedgerEntry) -> None:
    """Version tags that mirror the decision; the ledger row is the record, so a failure here is logged."""
    if entry.kind == "review":
        decision = entry.payload["decision"]
        tags = {"creditml.review": "approved" if decision == "approve" else "rejected",
                "creditml.reviewer": entry.actor, "creditml.review_comment": entry.payload["comment"][:4900],
                "creditml.reviewed_at": entry.at}
    else:
        tags = {"creditml.approved_by": entry.actor, "creditml.approved_at": entry.at}
    if entry.payload.get("next_review"):
        tags["creditml.next_review"] = entry.payload["next_review"]
    tags["creditml.ledger.decision"] = f"seq {entry.seq} {entry.hash}"
    try:
        store.set_version_tags(model, version, tags)
    except Exception:  # the ledger row stands; the mirror can be rewritten from it
        log.exception("model %r version %s: decision seq %s recorded, but mirroring it to version tags failed",
                      model, version, entry.seq)
