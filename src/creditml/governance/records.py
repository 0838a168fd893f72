"""Plain values shared by the governance modules: identities, roles and ledger entries.

Nothing here touches a database, a file or the clock, so the pure decision rules
(``decisions``) can depend on it without pulling in storage.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

DATA_SCIENTIST, REVIEWER, APPROVER, ADMIN, SERVICE, SCORER = (
    "data_scientist", "reviewer", "approver", "admin", "service", "scorer")
# every role an identity may hold; what each may do: docs/governance.md (models), docs/serving.md (the server)
ROLES = (DATA_SCIENTIST, REVIEWER, APPROVER, ADMIN, SERVICE, SCORER)

REGISTERED, REVIEW, APPROVAL, PROMOTION, ROLLBACK, FINDING, CONDITION = (
    "registered", "review", "approval", "promotion", "rollback", "finding", "condition")
KINDS = (REGISTERED, REVIEW, APPROVAL, PROMOTION, ROLLBACK, FINDING, CONDITION)
UNVERIFIED = "unverified"  # the trainer recorded for a version trained without a signed-in identity
CHAMPION_KINDS = (PROMOTION, ROLLBACK)  # the entries that decide who is champion
GENESIS_HASH = "0" * 64  # prev_hash of a model's first entry


@dataclass(frozen=True)
class Identity:
    """A signed-in person or service: who acts, and in which roles."""

    name: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def has(self, role: str) -> bool:
        return role in self.roles


def canonical_json(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True)
class LedgerEntry:
    """One row of a model's ledger.

    ``hash`` is SHA-256 over the canonical JSON of every other field except
    ``signature``, so it covers ``prev_hash`` and chains the entries; ``signature`` is
    Ed25519 over the 32 bytes of ``hash`` by the key named ``key_id``.
    """

    model: str
    seq: int
    kind: str
    version: str | None
    actor: str
    at: str
    payload: dict
    prev_hash: str
    key_id: str
    hash: str = ""
    signature: str = ""

    def hashed_fields(self) -> dict:
        return {"model": self.model, "seq": self.seq, "kind": self.kind, "version": self.version,
                "actor": self.actor, "at": self.at, "payload": self.payload,
                "prev_hash": self.prev_hash, "key_id": self.key_id}

    def computed_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.hashed_fields()).encode("utf-8")).hexdigest()

    def describe(self) -> str:
        what = f"{self.kind} of version {self.version}" if self.version is not None else self.kind
        decision = self.payload.get("decision") if isinstance(self.payload, dict) else None
        if decision:
            what += f" ({decision})"
        return f"seq {self.seq}: {what} by {self.actor} at {self.at}"
