"""Registration, review, approval, promotion and rollback as ledger decisions.

Every decision is a pure rule (``governance.decisions``) evaluated inside the ledger's
append transaction, on the entries as they are at that moment; the row it writes is
the record. Only then are the MLflow tags and the ``champion`` alias set, as a mirror
of the ledger, for people browsing MLflow. Gate results are recomputed from the run's
logged artifacts at promotion time, never read from a tag.
"""

from __future__ import annotations

from creditml.governance import (FourEyesPolicy, Identity, LedgerEntry, champion_of,
                                 may_approve, may_promote, may_review, may_rollback, trainer_of)
from creditml.governance import settings as gov_settings
from creditml.governance.errors import DecisionRefused
from creditml.governance.records import UNVERIFIED
from creditml.modeling.gates import GateDecision
from creditml.registry import ModelRegistry, RegistryError, open_registry
from creditml.registry.governed import (CHAMPION, mirror_head, open_ledger, recompute_gates, verify)

CHALLENGER = "challenger"
TRAINED_BY = "creditml.trained_by"


def record_gates(name: str, version: str, decision: GateDecision, registry: ModelRegistry | None = None) -> None:
    """Tag the version with the gate results (for browsing only); a passing version becomes ``challenger``."""
    store = registry or open_registry()
    store.set_version_tags(name, version, {
        "creditml.gates": "passed" if decision.passed else "failed",
        "creditml.gates.reasons": "; ".join(decision.reasons) or "all gates passed",
        "creditml.gates.detail": decision.record().model_dump_json()[:4900],
    })
    if decision.passed:
        store.set_alias(name, CHALLENGER, version)


def record_registration(name: str, version: str, run_id: str, trainer: Identity | None,
                        registry: ModelRegistry | None = None) -> LedgerEntry:
    """The ledger's ``registered`` entry: who trained ``version`` (``unverified`` without a signed-in identity)."""
    store = registry or open_registry()
    ledger = open_ledger(store)
    actor = trainer or Identity(UNVERIFIED)
    entry = ledger.append(name, "registered", actor, version=version, payload={
        "trainer": actor.name, "verified": trainer is not None, "run_id": run_id})
    store.set_version_tags(name, version, {TRAINED_BY: actor.name})
    mirror_head(store, ledger, name)
    return entry


def _trainer(rows, version: str) -> str | None:
    return trainer_of(rows, version)


def review(name: str, version: str, approve: bool, actor: Identity, comment: str,
           registry: ModelRegistry | None = None) -> LedgerEntry:
    """Record ``actor``'s review (approve or reject) of ``version``; four eyes apply."""
    store = registry or open_registry()
    store.get_version(name, version)
    if not comment.strip():
        raise RegistryError(f"{actor.name}'s review of model {name!r} version {version} has no comment; rule "
                            "review-comment: say what you read and why you decide so; fix: pass --comment TEXT")
    ledger = open_ledger(store)
    decision = "approve" if approve else "reject"
    entry = ledger.append(name, "review", actor, version=version, payload={"decision": decision, "comment": comment},
                          check=lambda rows: may_review(rows, version, actor, _trainer(rows, version), model=name))
    store.set_version_tags(name, version, {"creditml.review": "approved" if approve else "rejected",
                                           "creditml.reviewer": actor.name, "creditml.review_comment": comment,
                                           "creditml.reviewed_at": entry.at})
    mirror_head(store, ledger, name)
    return entry


def approve(name: str, version: str, actor: Identity, comment: str = "", registry: ModelRegistry | None = None,
            policy: FourEyesPolicy | None = None) -> LedgerEntry:
    """Record ``actor``'s approval of ``version``: an approver, not the trainer, after someone else's approving review
    (the policy: ``CREDITML_APPROVER_DIFFERS_FROM_REVIEWER``, default on)."""
    policy = policy or FourEyesPolicy(approver_differs_from_reviewer=gov_settings.approver_differs_from_reviewer())
    store = registry or open_registry()
    store.get_version(name, version)
    ledger = open_ledger(store)
    entry = ledger.append(name, "approval", actor, version=version, payload={"comment": comment},
                          check=lambda rows: may_approve(rows, version, actor, _trainer(rows, version), policy,
                                                         model=name))
    store.set_version_tags(name, version, {"creditml.approved_by": actor.name, "creditml.approved_at": entry.at})
    mirror_head(store, ledger, name)
    return entry


def _mirror_champion(store: ModelRegistry, ledger, name: str) -> str | None:
    """Set the alias to the ledger's champion until a re-read of the ledger agrees with what was set.

    The last alias write of all concurrent promoters is then by one that read the final
    ledger after writing, so the alias ends equal to the ledger."""
    for _ in range(50):
        champion = champion_of(ledger.entries(name))
        if store.alias_version(name, CHAMPION) != champion:
            store.set_alias(name, CHAMPION, champion)
        if champion_of(ledger.entries(name)) == champion:
            mirror_head(store, ledger, name)
            return champion
    return champion


def _champion_is_still(name: str, expected: str | None, actor: Identity, doing: str, version: str | None):
    def check(rows) -> None:
        now = champion_of(rows)
        if now != expected:
            raise DecisionRefused(
                f"{actor.name} may not {doing} version {version} of model {name!r}: rule one-decision-at-a-time: "
                f"it was decided while version {expected} was champion, but version {now} is champion now "
                f"(recorded meanwhile); fix: re-read 'creditml audit {name}' and decide again",
                actor=actor.name, version=version, rule="one-decision-at-a-time")
    return check


def promote(name: str, version: str, actor: Identity, registry: ModelRegistry | None = None) -> str | None:
    """Make ``version`` champion in the ledger, then mirror the alias; return the previous champion.

    Refusals (role, no approval in force, gates failing when recomputed from the run's
    artifacts, another promotion recorded first) raise before anything is written."""
    store = registry or open_registry()
    version = str(version)
    store.get_version(name, version)
    ledger = open_ledger(store)
    verify(store, ledger, name).raise_if_bad()
    rows = ledger.entries(name)
    based_on = rows[-1].seq if rows else 0
    may_promote(rows, version, actor, model=name)
    gates = recompute_gates(store, name, version)
    if not gates.decision.passed:
        raise DecisionRefused(
            f"{actor.name} may not promote version {version} of model {name!r}: rule gates: recomputed from its "
            f"run's artifacts (sha256 {gates.artifacts_sha256[:16]}), it did not pass the automated gates "
            f"({'; '.join(gates.decision.reasons)}); fix: retrain a version that passes them",
            actor=actor.name, version=version, rule="gates")
    previous = champion_of(rows)
    still = _champion_is_still(name, previous, actor, "promote", version)

    def check(now_rows) -> None:
        may_promote(now_rows, version, actor, model=name)
        still(now_rows)

    ledger.append(name, "promotion", actor, version=version, check=check, based_on_seq=based_on,
                  payload={"previous": previous, "gates": gates.payload(), "run_id": store.get_version(
                      name, version).run_id})
    _mirror_champion(store, ledger, name)
    return previous


def rollback(name: str, actor: Identity, registry: ModelRegistry | None = None) -> tuple[str, str]:
    """Restore the champion before the current one, as the ledger records it; return (from, to)."""
    store = registry or open_registry()
    store.require_model(name)
    ledger = open_ledger(store)
    verify(store, ledger, name).raise_if_bad()
    rows = ledger.entries(name)
    current, previous = may_rollback(rows, actor, model=name)
    still = _champion_is_still(name, current, actor, "roll back", current)

    def check(now_rows) -> None:
        may_rollback(now_rows, actor, model=name)
        still(now_rows)

    ledger.append(name, "rollback", actor, version=previous, check=check, based_on_seq=rows[-1].seq,
                  payload={"from": current})
    _mirror_champion(store, ledger, name)
    return current, previous


def audit(name: str, registry: ModelRegistry | None = None) -> list[LedgerEntry]:
    """The model's ledger, oldest first."""
    store = registry or open_registry()
    store.require_model(name)
    return open_ledger(store).entries(name)
