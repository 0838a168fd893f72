"""Who may review, approve, promote and roll back: pure rules over a model's ledger rows.

No I/O: every function takes the ledger entries of one model (oldest first), the
identity that acts and, where four eyes apply, the name of the identity that trained
the version. A refusal raises ``DecisionRefused`` naming the actor, the version and
the rule, so the same rules run in the CLI, the REST API and inside the ledger's
append transaction (as its ``check``).

The rules:
- review: a reviewer or approver who did not train the version;
- approve: an approver who did not train the version, whose latest review approves it
  (a rejection stands until a newer approving review, which the trainer cannot write),
  and, by default, who did not write that review;
- promote: an approver or service, of a version with an approval in force (no
  rejecting review after it) that is not champion already;
- rollback: an approver or service, back to the champion before the current one, as
  the ledger records it, provided that version's approval is still in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from creditml.governance.errors import DecisionRefused
from creditml.governance.records import (APPROVAL, CHAMPION_KINDS, PROMOTION, REGISTERED, REVIEW, ROLLBACK,
                                         UNVERIFIED, Identity, LedgerEntry)

Rows = Sequence[LedgerEntry]


@dataclass(frozen=True)
class FourEyesPolicy:
    # the approver must not be the author of the last review: two people read the model
    approver_differs_from_reviewer: bool = True


def _model(rows: Rows, model: str | None) -> str:
    model = model or (rows[0].model if rows else None)
    return f" of model {model!r}" if model else ""


def _refuse(ctx: tuple[Rows, str | None], actor: Identity, doing: str, version: str | None, rule: str,
            detail: str, fix: str):
    rows, model = ctx
    what = f"{doing} version {version}" if version is not None else doing
    raise DecisionRefused(f"{actor.name} may not {what}{_model(rows, model)}: rule {rule}: {detail}; fix: {fix}",
                          actor=actor.name, version=version, rule=rule)


def _require_role(ctx, actor, doing, version, roles: tuple[str, ...]) -> None:
    if not any(actor.has(r) for r in roles):
        held = ", ".join(sorted(actor.roles)) or "none"
        _refuse(ctx, actor, doing, version, "role", f"expected role {' or '.join(roles)}, found roles: {held}",
                f"ask an admin to grant {roles[0]} to someone who may {doing}, and have them do it")


def _require_other_than_trainer(ctx, actor, doing, version, trainer: str | None) -> None:
    if not trainer:
        _refuse(ctx, actor, doing, version, "trainer-known",
                "the identity that trained this version is not recorded, so four eyes cannot be checked",
                "retrain the version as a signed-in identity")
    if actor.name == trainer:
        _refuse(ctx, actor, doing, version, "four-eyes",
                f"{actor.name} trained this version; expected someone other than the trainer",
                "ask another reviewer/approver")


def registration_of(rows: Rows, version: str) -> LedgerEntry | None:
    """The ``registered`` entry of ``version``: who trained it, as the trusted record says."""
    return next((r for r in rows if r.kind == REGISTERED and r.version == str(version)), None)


def trainer_of(rows: Rows, version: str) -> str | None:
    """The verified identity that trained ``version``; None when it is not recorded or was not signed in."""
    entry = registration_of(rows, version)
    trainer = entry.payload.get("trainer") if entry is not None else None
    return None if not trainer or trainer == UNVERIFIED else str(trainer)


def reviews_of(rows: Rows, version: str) -> list[LedgerEntry]:
    return [r for r in rows if r.kind == REVIEW and r.version == str(version)]


def last_review(rows: Rows, version: str) -> LedgerEntry | None:
    found = reviews_of(rows, version)
    return found[-1] if found else None


def approval_in_force(rows: Rows, version: str) -> LedgerEntry | None:
    """The latest approval of ``version`` that no later rejecting review has withdrawn."""
    approval = None
    for row in rows:
        if row.version != str(version):
            continue
        if row.kind == APPROVAL:
            approval = row
        elif row.kind == REVIEW and row.payload.get("decision") == "reject":
            approval = None
    return approval


def may_review(rows: Rows, version: str, actor: Identity, trainer: str | None, *, model: str | None = None) -> None:
    version, ctx = str(version), (rows, model)
    _require_role(ctx, actor, "review", version, ("reviewer", "approver"))
    _require_other_than_trainer(ctx, actor, "review", version, trainer)


def may_approve(rows: Rows, version: str, actor: Identity, trainer: str | None,
                policy: FourEyesPolicy = FourEyesPolicy(), *, model: str | None = None) -> None:
    version, ctx = str(version), (rows, model)
    _require_role(ctx, actor, "approve", version, ("approver",))
    _require_other_than_trainer(ctx, actor, "approve", version, trainer)
    review = last_review(rows, version)
    if review is None:
        _refuse(ctx, actor, "approve", version, "review-required",
                "expected an approving review, found no review of this version",
                "have a reviewer read the report and record a review first")
    if review.payload.get("decision") != "approve":
        _refuse(ctx, actor, "approve", version, "rejection-stands",
                f"the last review ({review.describe()}) rejected it; a rejection stands until a newer approving "
                "review by someone other than the trainer", "have a reviewer record a new approving review")
    if review.actor == trainer:
        _refuse(ctx, actor, "approve", version, "four-eyes",
                f"the last review ({review.describe()}) was written by the trainer",
                "have someone other than the trainer review it")
    if policy.approver_differs_from_reviewer and review.actor == actor.name:
        _refuse(ctx, actor, "approve", version, "approver-is-not-reviewer",
                f"{actor.name} wrote the last review ({review.describe()}); expected a second person to approve",
                "ask another approver")
    current = approval_in_force(rows, version)
    if current is not None:
        _refuse(ctx, actor, "approve", version, "already-approved",
                f"it is already approved ({current.describe()})", "nothing to do; promote it")


def may_promote(rows: Rows, version: str, actor: Identity, *, model: str | None = None) -> None:
    version, ctx = str(version), (rows, model)
    _require_role(ctx, actor, "promote", version, ("approver", "service"))
    if approval_in_force(rows, version) is None:
        _refuse(ctx, actor, "promote", version, "approval-required",
                "expected an approval in force, found none (never approved, or a later review rejected it)",
                "record a review and an approval by an approver who did not train it")
    champion = champion_of(rows)
    if champion == version:
        _refuse(ctx, actor, "promote", version, "already-champion", f"version {version} is already champion",
                "nothing to do")


def champion_stack(rows: Rows) -> list[str]:
    """Champions in force, oldest first: a promotion pushes its version, a rollback pops
    the current champion (and lands on the version it names)."""
    stack: list[str] = []
    for row in rows:
        if row.kind == PROMOTION:
            stack.append(str(row.version))
        elif row.kind == ROLLBACK:
            if stack:
                stack.pop()
            if not stack or stack[-1] != str(row.version):
                stack.append(str(row.version))
    return stack


def champion_of(rows: Rows) -> str | None:
    """The champion as the ledger decides: the version of the last promotion or rollback."""
    last = next((r for r in reversed(rows) if r.kind in CHAMPION_KINDS), None)
    return None if last is None else str(last.version)


def previous_champion(rows: Rows) -> str | None:
    stack = champion_stack(rows)
    return stack[-2] if len(stack) >= 2 else None


def may_rollback(rows: Rows, actor: Identity, *, model: str | None = None) -> tuple[str, str]:
    """(current champion, version to restore), or a refusal."""
    ctx = (rows, model)
    current = champion_of(rows)
    _require_role(ctx, actor, "roll back", current, ("approver", "service"))
    if current is None:
        _refuse(ctx, actor, "roll back", None, "champion-required", "expected a champion, found none",
                "promote an approved version first")
    previous = previous_champion(rows)
    if previous is None:
        _refuse(ctx, actor, "roll back", current, "previous-champion-required",
                f"version {current} is the first champion; there is no earlier champion to restore",
                "promote another approved version instead")
    if approval_in_force(rows, previous) is None:
        _refuse(ctx, actor, "roll back", current, "approval-required",
                f"the previous champion, version {previous}, has no approval in force (a later review rejected it)",
                "promote another approved version instead")
    return current, previous
