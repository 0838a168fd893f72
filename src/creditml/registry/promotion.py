"""Gates, human review, champion/challenger and rollback, every alias change audited.

A decision is pure (``gates.evaluate_gates``, the checks in ``promote``); the registry
step that follows is applied so that a failure half-way is undone: the alias is moved
back and no audit entry claims a change that did not happen.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from creditml.modeling.gates import GateDecision
from creditml.registry import ModelRegistry, RegistryError, open_registry

CHAMPION, CHALLENGER = "champion", "challenger"


def _move_alias(store: ModelRegistry, name: str, alias: str, version: str | None, entry: dict) -> None:
    before = store.alias_version(name, alias)
    store.set_alias(name, alias, version)
    try:
        store.append_audit(name, {"action": "alias", "alias": alias, "from": before, "to": version, **entry})
    except Exception:
        store.set_alias(name, alias, before)  # undo: an unaudited alias change must not stand
        raise


def record_gates(name: str, version: str, decision: GateDecision, registry: ModelRegistry | None = None) -> None:
    """Tag the version with the gate results; a passing version becomes ``challenger``."""
    store = registry or open_registry()
    store.set_version_tags(name, version, {
        "creditml.gates": "passed" if decision.passed else "failed",
        "creditml.gates.reasons": "; ".join(decision.reasons) or "all gates passed",
        "creditml.gates.detail": decision.record().model_dump_json()[:4900],
    })
    if decision.passed:
        _move_alias(store, name, CHALLENGER, version, {"by": "creditml gates", "why": "passed the automated gates"})


def review(name: str, version: str, approve: bool, reviewer: str, comment: str,
           registry: ModelRegistry | None = None) -> None:
    store = registry or open_registry()
    if not reviewer.strip():
        raise RegistryError("--reviewer must name the person reviewing (e.g. --reviewer 'A. Analyst')")
    store.get_version(name, version)
    decision = "approved" if approve else "rejected"
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    store.set_version_tags(name, version, {"creditml.review": decision, "creditml.reviewer": reviewer,
                                           "creditml.review_comment": comment, "creditml.reviewed_at": at})
    store.append_audit(name, {"action": "review", "version": version, "decision": decision, "by": reviewer,
                              "why": comment})


def promotion_refusal(tags: dict[str, str], version: str) -> str | None:
    """Why ``version`` may not become champion, or None (pure)."""
    gates = tags.get("creditml.gates")
    if gates != "passed":
        reasons = tags.get("creditml.gates.reasons", "gates were not evaluated")
        return f"version {version} did not pass the automated gates ({reasons})"
    review_state = tags.get("creditml.review")
    if review_state != "approved":
        state = "was rejected" if review_state == "rejected" else "has not been approved"
        return (f"version {version} {state} by a reviewer; record an approval first: "
                f"creditml review MODEL --version {version} --approve --reviewer NAME --comment TEXT")
    return None


def promote(name: str, version: str, by: str = "creditml promote", registry: ModelRegistry | None = None) -> str | None:
    """Make ``version`` champion; return the previous champion. Refusals raise RegistryError."""
    store = registry or open_registry()
    mv = store.get_version(name, version)
    refusal = promotion_refusal(mv.tags, str(version))
    if refusal:
        raise RegistryError(f"model {name!r}: {refusal}")
    previous = store.alias_version(name, CHAMPION)
    if previous == str(version):
        raise RegistryError(f"model {name!r}: version {version} is already the champion")
    reviewer = mv.tags.get("creditml.reviewer", "")
    _move_alias(store, name, CHAMPION, str(version), {"kind": "promote", "by": by, "why": f"approved by {reviewer}"})
    return previous


def champion_stack(store: ModelRegistry, name: str) -> list[str]:
    """Champions in force, oldest first: promotions push a version, rollbacks pop one."""
    stack: list[str] = []
    for entry in store.audit_entries(name):
        if entry.get("action") != "alias" or entry.get("alias") != CHAMPION:
            continue
        if entry.get("kind") == "rollback":
            stack.pop()
        else:
            stack.append(entry["to"])
    return stack


def rollback(name: str, by: str = "creditml rollback", registry: ModelRegistry | None = None) -> tuple[str, str]:
    """Restore the champion before the current one; return (from, to)."""
    store = registry or open_registry()
    store.require_model(name)
    stack = champion_stack(store, name)
    if not stack:
        raise RegistryError(f"model {name!r} has no champion to roll back")
    if len(stack) < 2:
        raise RegistryError(f"model {name!r}: version {stack[-1]} is the first champion; there is nothing to roll back to")
    current, previous = stack[-1], stack[-2]
    _move_alias(store, name, CHAMPION, previous, {"kind": "rollback", "by": by, "why": f"rollback from version {current}"})
    return current, previous


def audit(name: str, registry: ModelRegistry | None = None) -> list[dict]:
    store = registry or open_registry()
    store.require_model(name)
    return store.audit_entries(name)
