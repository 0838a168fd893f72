"""An append-only, hash-chained, signed ledger of governance decisions, per registered model.

Each entry's ``hash`` covers its content and the hash of the entry before it; its
``signature`` is made with the governance service's Ed25519 key over that hash. An
entry is appended in one transaction that takes the model's head (``BEGIN IMMEDIATE``
on SQLite, ``SELECT ... FOR UPDATE`` of the head row on PostgreSQL), evaluates the
caller's ``check`` against the rows as they are now, and writes entry and head
together; the ``(model, seq)`` primary key refuses a second entry with the same number,
and a writer that loses a race re-reads the head and tries again.

What ``verify`` catches: an edited, deleted, inserted or reordered entry; an entry
re-hashed or re-signed without the service's key; entries deleted from the end (the
head row disagrees, or the head a caller anchored elsewhere does).
"""

from __future__ import annotations

import json
import random
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from creditml.governance.errors import (ConcurrentDecisionError, GovernanceError, LedgerIntegrityError,
                                        LedgerKeyError)
from creditml.governance.keys import SigningKey, VerifyingKey, trusted_keys_from_settings
from creditml.governance.records import (CONDITION, FINDING, GENESIS_HASH, KINDS, REVIEW, Identity, LedgerEntry,
                                         canonical_json)
from creditml.governance.store import GovernanceStore, ledger_entries, ledger_heads, ledger_keys

Check = Callable[[list[LedgerEntry]], None]
REVIEW_DECISIONS = ("approve", "reject")


@dataclass(frozen=True)
class Problem:
    seq: int
    message: str


@dataclass(frozen=True)
class VerifyReport:
    """What ``Ledger.verify`` found. ``ok`` only when every check passed."""

    model: str
    entries: int
    head_seq: int
    head_hash: str
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.seq) if self.problems else None

    @property
    def first_bad_seq(self) -> int | None:
        return self.first_bad.seq if self.problems else None

    def __str__(self) -> str:
        if self.ok:
            return (f"ledger of model {self.model!r}: {self.entries} entries verified "
                    f"(hash chain, signatures, seq 1..{self.head_seq}); head hash {self.head_hash[:16]}")
        lines = [f"ledger of model {self.model!r} fails verification: first bad entry is seq {self.first_bad_seq}: "
                 f"{self.first_bad.message}"]
        lines += [f"  - seq {p.seq}: {p.message}" for p in sorted(self.problems, key=lambda p: p.seq)]
        lines.append("  fix: do not promote or load from this ledger; restore the governance database from a "
                     "backup and find out who wrote to it outside creditml")
        return "\n".join(lines)

    def raise_if_bad(self) -> "VerifyReport":
        if not self.ok:
            raise LedgerIntegrityError(self)
        return self


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _entry(row) -> LedgerEntry:
    try:
        payload = json.loads(row["payload"])
    except (TypeError, ValueError):
        payload = {"unparseable_payload": str(row["payload"])}  # the hash check will name it
    return LedgerEntry(model=row["model"], seq=row["seq"], kind=row["kind"], version=row["version"],
                       actor=row["actor"], at=row["at"], payload=payload, prev_hash=row["prev_hash"],
                       key_id=row["key_id"], hash=row["hash"], signature=row["signature"])


def _validate(kind: str, actor: Identity, version: str | None, payload: dict) -> None:
    if not isinstance(actor, Identity) or not actor.name:
        raise GovernanceError(f"a ledger entry needs a signed-in identity as actor, found {actor!r}; "
                              "authenticate first (authenticate_token or authenticate_password)")
    if kind not in KINDS:
        raise GovernanceError(f"ledger entry kind {kind!r} is unknown; expected one of {', '.join(KINDS)}")
    if kind == REVIEW and payload.get("decision") not in REVIEW_DECISIONS:
        raise GovernanceError(
            f"a review needs payload decision 'approve' or 'reject', found {payload.get('decision')!r}")
    if kind not in (FINDING, CONDITION) and version is None:
        raise GovernanceError(f"a {kind} entry needs the model version it is about; pass version=")
    try:
        canonical_json(payload)
    except (TypeError, ValueError) as exc:
        raise GovernanceError(
            f"the payload of a {kind} entry cannot be stored as JSON ({exc}); pass only strings, finite numbers, "
            "booleans, None, lists and dicts") from None


def _lost_race(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    code = getattr(exc.orig, "pgcode", None)  # serialization failure, deadlock
    return code in ("40001", "40P01") or "database is locked" in str(exc.orig)


class Ledger:
    """The ledger in ``store``. ``signing_key`` is needed only to append (loaded from
    ``CREDITML_LEDGER_KEY`` on first use when not given); ``trusted_keys`` are the public
    keys ``verify`` accepts (default: ``CREDITML_LEDGER_PUBLIC_KEY`` or the signing key's)."""

    def __init__(self, store: GovernanceStore, signing_key: SigningKey | None = None,
                 trusted_keys: Iterable[VerifyingKey] | None = None, *, max_attempts: int = 100):
        self.store = store
        self._signing_key = signing_key
        self._trusted = list(trusted_keys) if trusted_keys is not None else None
        self.max_attempts = max_attempts

    @property
    def signing_key(self) -> SigningKey:
        if self._signing_key is None:
            self._signing_key = SigningKey.load_or_create()
        return self._signing_key

    def trusted_keys(self) -> list[VerifyingKey]:
        if self._trusted is not None:
            return self._trusted
        if self._signing_key is not None:
            return [self._signing_key.verifying]
        return trusted_keys_from_settings()

    # ------------------------------------------------------------------ reading

    def _rows(self, conn, model: str) -> list[LedgerEntry]:
        result = conn.execute(select(ledger_entries).where(ledger_entries.c.model == model)
                              .order_by(ledger_entries.c.seq)).mappings()
        return [_entry(row) for row in result]

    @contextmanager
    def _snapshot(self):
        """A transaction whose reads all see one state of the database: an append committing
        between reading the entries and the head must not look like tampering. SQLite's
        transactions already hold the write lock; PostgreSQL needs REPEATABLE READ."""
        with self.store.engine.connect() as conn:
            if self.store.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def entries(self, model: str) -> list[LedgerEntry]:
        with self._snapshot() as conn:
            return self._rows(conn, model)

    def head(self, model: str) -> tuple[int, str]:
        """(seq, hash) of the model's last entry; (0, GENESIS_HASH) when it has none."""
        with self.store.engine.begin() as conn:
            row = conn.execute(select(ledger_heads).where(ledger_heads.c.model == model)).mappings().first()
        return (row["seq"], row["hash"]) if row else (0, GENESIS_HASH)

    def models(self) -> list[str]:
        with self.store.engine.begin() as conn:
            return list(conn.execute(select(ledger_heads.c.model).order_by(ledger_heads.c.model)).scalars())

    # ------------------------------------------------------------------ appending

    def append(self, model: str, kind: str, actor: Identity, *, version: str | None = None,
               payload: dict | None = None, check: Check | None = None,
               based_on_seq: int | None = None) -> LedgerEntry:
        """Append one decision and return it, signed.

        ``check(rows)`` runs inside the transaction on the model's entries as they are at
        that moment and raises a ``GovernanceError`` to refuse (e.g. "the champion is still
        X"). ``based_on_seq`` is the head seq the caller read when it took the decision:
        if other entries were appended since and ``check`` refuses (or there is no check),
        the append fails with ``ConcurrentDecisionError`` naming what was recorded first.
        """
        payload = dict(payload or {})
        version = None if version is None else str(version)
        _validate(kind, actor, version, payload)
        key = self.signing_key
        for attempt in range(self.max_attempts):
            try:
                with self.store.engine.begin() as conn:
                    return self._append_once(conn, model, kind, actor, version, payload, check, based_on_seq, key)
            except DBAPIError as exc:
                if not _lost_race(exc):
                    raise
                time.sleep(random.uniform(0.001, 0.01 * min(attempt + 1, 10)))  # jitter: losers do not collide again
        raise ConcurrentDecisionError(
            f"model {model!r}: the {kind} by {actor.name} could not be appended after {self.max_attempts} attempts "
            "because other decisions kept being recorded at the same moment; nothing was written, retry")

    def _append_once(self, conn, model, kind, actor, version, payload, check, based_on_seq, key) -> LedgerEntry:
        head = conn.execute(select(ledger_heads).where(ledger_heads.c.model == model)
                            .with_for_update()).mappings().first()
        if head is None:
            # two first appends: both insert, the unique key refuses one, which retries and finds this row
            conn.execute(insert(ledger_heads).values(model=model, seq=0, hash=GENESIS_HASH))
            head_seq, head_hash = 0, GENESIS_HASH
        else:
            head_seq, head_hash = head["seq"], head["hash"]
        rows = self._rows(conn, model)
        last_seq, last_hash = (rows[-1].seq, rows[-1].hash) if rows else (0, GENESIS_HASH)
        if (last_seq, last_hash) != (head_seq, head_hash):
            raise GovernanceError(
                f"model {model!r}: the ledger head says seq {head_seq} but the last entry is seq {last_seq}; "
                f"nothing was appended; run the ledger verification (creditml audit {model} --verify)")
        moved = based_on_seq is not None and head_seq != based_on_seq
        if moved and check is None:
            raise ConcurrentDecisionError(self._moved_message(model, kind, actor, version, based_on_seq, rows))
        if check is not None:
            try:
                check(rows)
            except GovernanceError as exc:
                if moved:
                    raise ConcurrentDecisionError(
                        self._moved_message(model, kind, actor, version, based_on_seq, rows) + f"; now: {exc}") from exc
                raise
        self._register_key(conn, key)
        entry = LedgerEntry(model=model, seq=head_seq + 1, kind=kind, version=version, actor=actor.name,
                            at=_now(), payload=payload, prev_hash=head_hash, key_id=key.key_id)
        digest = entry.computed_hash()
        entry = LedgerEntry(**{**entry.__dict__, "hash": digest, "signature": key.sign(digest)})
        conn.execute(insert(ledger_entries).values(
            model=model, seq=entry.seq, kind=kind, version=version, actor=entry.actor, at=entry.at,
            payload=canonical_json(payload), prev_hash=entry.prev_hash, hash=digest, key_id=key.key_id,
            signature=entry.signature))
        conn.execute(update(ledger_heads).where(ledger_heads.c.model == model).values(seq=entry.seq, hash=digest))
        return entry

    @staticmethod
    def _moved_message(model, kind, actor, version, based_on_seq, rows) -> str:
        since = [r.describe() for r in rows if r.seq > based_on_seq]
        about = f" of version {version}" if version is not None else ""
        return (f"model {model!r}: the {kind}{about} by {actor.name} was decided on the ledger at seq {based_on_seq}, "
                f"but another decision was recorded first ({'; '.join(since)}); nothing was written: "
                "re-read the ledger and decide again")

    @staticmethod
    def _register_key(conn, key: SigningKey) -> None:
        known = conn.execute(select(ledger_keys.c.key_id).where(ledger_keys.c.key_id == key.key_id)).first()
        if known is None:
            conn.execute(insert(ledger_keys).values(key_id=key.key_id, public_key=key.verifying.raw_hex,
                                                    created_at=_now()))

    # ------------------------------------------------------------------ verifying

    def verify(self, model: str, *, expected_head: tuple[int, str] | None = None) -> VerifyReport:
        """Walk the chain of ``model`` and report every broken link, hash and signature.

        ``expected_head`` is a (seq, hash) recorded outside this database (for example the
        MLflow tag mirror): the only defence against someone who deletes the last entries
        and rewrites the head row to match.
        """
        trusted = {k.key_id: k for k in self.trusted_keys()}
        if not trusted:
            raise LedgerKeyError("no trusted ledger public key was given; pass trusted_keys or set "
                                 "CREDITML_LEDGER_PUBLIC_KEY")
        with self._snapshot() as conn:
            rows = self._rows(conn, model)
            head = conn.execute(select(ledger_heads).where(ledger_heads.c.model == model)).mappings().first()
        problems: list[Problem] = []
        expected_seq, prev_hash = 1, GENESIS_HASH
        for row in rows:
            if row.seq != expected_seq:
                missing = f"entry {expected_seq} is missing" if expected_seq + 1 == row.seq else \
                    f"entries {expected_seq}..{row.seq - 1} are missing"
                problems.append(Problem(min(expected_seq, row.seq),
                                        f"{missing}: seq {row.seq} follows seq {expected_seq - 1}; "
                                        "entries were deleted or renumbered"))
            if row.prev_hash != prev_hash:
                problems.append(Problem(row.seq, f"prev_hash {row.prev_hash[:16]} does not match the hash of the "
                                                 f"entry before it ({prev_hash[:16]}): entries were deleted, "
                                                 "inserted or reordered"))
            if row.computed_hash() != row.hash:
                problems.append(Problem(row.seq, f"content does not match its hash ({row.describe()}): the entry "
                                                 "was edited after it was written"))
            key = trusted.get(row.key_id)
            if key is None:
                problems.append(Problem(row.seq, f"signed by key {row.key_id}, which is not trusted (trusted: "
                                                 f"{', '.join(sorted(trusted))})"))
            elif not key.verify(row.signature, row.hash):
                problems.append(Problem(row.seq, f"signature does not verify with key {row.key_id}: the entry or "
                                                 "its hash was rewritten without the governance service's key"))
            expected_seq, prev_hash = row.seq + 1, row.hash
        last_seq, last_hash = (rows[-1].seq, rows[-1].hash) if rows else (0, GENESIS_HASH)
        if head is None and rows:
            problems.append(Problem(last_seq + 1, "the ledger head row is missing; entries after "
                                                  f"seq {last_seq} may have been deleted"))
        elif head is not None and (head["seq"], head["hash"]) != (last_seq, last_hash):
            first = last_seq + 1 if head["seq"] > last_seq else head["seq"] + 1 if head["seq"] < last_seq else last_seq
            problems.append(Problem(first,
                                    f"the ledger head says the last entry is seq {head['seq']} (hash "
                                    f"{head['hash'][:16]}), found seq {last_seq} (hash {last_hash[:16]}): entries "
                                    "at the end were deleted or the head was rewritten"))
        if expected_head is not None and tuple(expected_head) != (last_seq, last_hash):
            exp_seq, exp_hash = expected_head
            at = next((r for r in rows if r.seq == exp_seq), None)
            if at is None:
                problems.append(Problem(exp_seq, f"entry {exp_seq} recorded outside the database (hash "
                                                 f"{exp_hash[:16]}) is missing: the last entry is seq {last_seq}"))
            elif at.hash != exp_hash:
                problems.append(Problem(exp_seq, f"entry {exp_seq} has hash {at.hash[:16]}, expected {exp_hash[:16]} "
                                                 "as recorded outside the database"))
        return VerifyReport(model=model, entries=len(rows), head_seq=last_seq, head_hash=last_hash,
                            problems=tuple(problems))
