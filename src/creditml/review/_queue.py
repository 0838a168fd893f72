"""The review queue: versions that passed the automated gates and still await a decision.

A version waits while it has no approval in force in the ledger, its latest review does
not reject it, and it is not the ledger's champion. The headline metrics and the gate
result are the version tags written at registration (display only: promotion
recomputes the gates from the run's artifacts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from creditml.governance import Ledger, LedgerEntry, approval_in_force, champion_of
from creditml.governance.decisions import last_review
from creditml.registry import ModelRegistry, VersionInfo
from creditml.review._decisions import Trainer, trainer_of

AWAITING_REVIEW, AWAITING_APPROVAL = "awaiting review", "awaiting approval"


@dataclass(frozen=True)
class QueueItem:
    model: str
    version: str
    task: str
    registered_at: str
    age: str
    test_auc: str
    test_ks: str
    trainer: Trainer
    status: str
    reviewed_by: str | None = None


def age_of(iso: str, now: datetime) -> str:
    """'3 d', '5 h', '12 min' since ``iso``; '?' when unknown."""
    if not iso:
        return "?"
    seconds = max(0.0, (now - datetime.fromisoformat(iso)).total_seconds())
    if seconds >= 86400:
        return f"{int(seconds // 86400)} d"
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 60)} min"


def status_of(rows: list[LedgerEntry], info: VersionInfo) -> tuple[str, str | None] | None:
    """(status, approving reviewer) of a version that awaits a decision; None when it does not."""
    if info.tags.get("creditml.gates") != "passed":
        return None
    if approval_in_force(rows, info.version) is not None or champion_of(rows) == info.version:
        return None
    review = last_review(rows, info.version)
    if review is None:
        return AWAITING_REVIEW, None
    if review.payload.get("decision") == "reject":
        return None
    return AWAITING_APPROVAL, review.actor


def review_queue(store: ModelRegistry, ledger: Ledger, now: datetime | None = None) -> list[QueueItem]:
    """Every waiting version of every registered model, oldest registration first."""
    now = now or datetime.now(timezone.utc)
    items: list[QueueItem] = []
    for model in store.model_names():
        rows = ledger.entries(model)
        for version in store.versions(model):
            info = store.get_version(model, version)
            status = status_of(rows, info)
            if status is None:
                continue
            tags = info.tags
            items.append(QueueItem(
                model=model, version=info.version, task=tags.get("creditml.task", "?"),
                registered_at=info.created_at, age=age_of(info.created_at, now),
                test_auc=tags.get("test_auc", "?"), test_ks=tags.get("test_ks", "?"),
                trainer=trainer_of(rows, tags, info.version), status=status[0], reviewed_by=status[1]))
    return sorted(items, key=lambda i: (i.registered_at, i.model, int(i.version)))
