"""Rows rewritten behind the ledger's back (raw SQL, as anyone with database access could)
are found by ``verify``, which names the first bad entry."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from creditml.governance import Ledger, LedgerIntegrityError, SigningKey, GovernanceError
from creditml.governance.records import canonical_json

MODEL = "creditml-test-model"


@pytest.fixture
def history(ledger, people):
    """1 rita rejects v1, 2 rita approves v2, 3 alice approves v2, 4 alice promotes v2."""
    ledger.append(MODEL, "review", people["rita"], version="1", payload={"decision": "reject", "comment": "AUC too low"})
    ledger.append(MODEL, "review", people["rita"], version="2", payload={"decision": "approve", "comment": "ok"})
    ledger.append(MODEL, "approval", people["alice"], version="2")
    ledger.append(MODEL, "promotion", people["alice"], version="2")
    assert ledger.verify(MODEL).ok
    return ledger


def sql(store, statement: str, **params):
    """Raw SQL against the ledger tables (the test schema's on PostgreSQL)."""
    prefix = f'"{store.schema}".' if store.schema else ""
    statement = statement.replace("ENTRIES", f"{prefix}governance_ledger_entries") \
                         .replace("HEADS", f"{prefix}governance_ledger_heads")
    with store.engine.begin() as conn:
        return conn.execute(text(statement), {"model": MODEL, **params})


def test_an_edited_payload_is_named(history, store):
    sql(store, "UPDATE ENTRIES SET payload = :p WHERE model = :model AND seq = 1",
        p=canonical_json({"decision": "approve", "comment": "AUC too low"}))
    report = history.verify(MODEL)
    assert not report.ok and report.first_bad_seq == 1
    assert "seq 1: content does not match its hash (seq 1: review of version 1 (approve) by rita" in str(report)
    assert "the entry was edited after it was written" in report.first_bad.message
    with pytest.raises(LedgerIntegrityError, match=rf"ledger of model '{MODEL}' fails verification: first bad entry "
                                                   r"is seq 1: content does not match its hash"):
        report.raise_if_bad()


def test_an_edit_with_a_recomputed_hash_fails_the_signature(history, store):
    entry = history.entries(MODEL)[0]
    forged = type(entry)(**{**entry.__dict__, "payload": {"decision": "approve", "comment": "AUC too low"}})
    sql(store, "UPDATE ENTRIES SET payload = :p, hash = :h WHERE model = :model AND seq = 1",
        p=canonical_json(forged.payload), h=forged.computed_hash())
    report = history.verify(MODEL)
    assert report.first_bad_seq == 1
    assert "signature does not verify with key" in report.first_bad.message
    assert any(p.seq == 2 and "prev_hash" in p.message for p in report.problems)  # the chain breaks after it


def test_a_chain_rewritten_and_signed_with_another_key_is_not_trusted(history, store, signing_key):
    forger = SigningKey.generate()
    prev = "0" * 64
    for entry in history.entries(MODEL):
        payload = {"decision": "approve", "comment": "AUC too low"} if entry.seq == 1 else entry.payload
        forged = type(entry)(**{**entry.__dict__, "payload": payload, "prev_hash": prev, "key_id": forger.key_id})
        digest = forged.computed_hash()
        sql(store, "UPDATE ENTRIES SET payload = :p, prev_hash = :prev, hash = :h, key_id = :k, signature = :s "
                   "WHERE model = :model AND seq = :seq", p=canonical_json(payload), prev=prev, h=digest,
            k=forger.key_id, s=forger.sign(digest), seq=entry.seq)
        prev = digest
    sql(store, "UPDATE HEADS SET hash = :h WHERE model = :model", h=prev)
    report = history.verify(MODEL)
    assert report.first_bad_seq == 1
    assert report.first_bad.message.startswith(f"signed by key {forger.key_id}, which is not trusted")


def test_a_deleted_row_is_named(history, store):
    sql(store, "DELETE FROM ENTRIES WHERE model = :model AND seq = 2")
    report = history.verify(MODEL)
    assert report.first_bad_seq == 2
    assert report.first_bad.message.startswith("entry 2 is missing: seq 3 follows seq 1")


def test_deleted_rows_at_the_end_are_named(history, store):
    head = history.head(MODEL)
    sql(store, "DELETE FROM ENTRIES WHERE model = :model AND seq = 4")
    report = history.verify(MODEL)
    assert report.first_bad_seq == 4 and "the ledger head says the last entry is seq 4" in report.first_bad.message

    # deleting the last entry and rewriting the head to match: only an anchor kept elsewhere can tell
    third = history.entries(MODEL)[-1]
    sql(store, "UPDATE HEADS SET seq = 3, hash = :h WHERE model = :model", h=third.hash)
    assert history.verify(MODEL).ok
    report = history.verify(MODEL, expected_head=head)
    assert report.first_bad_seq == 4
    assert "entry 4 recorded outside the database" in report.first_bad.message and "is missing" in str(report)


def test_reordered_rows_are_named(history, store):
    # swap the numbers of entries 2 and 3 (through -1: the primary key refuses a duplicate on the way)
    sql(store, "UPDATE ENTRIES SET seq = -1 WHERE model = :model AND seq = 2")
    sql(store, "UPDATE ENTRIES SET seq = 2 WHERE model = :model AND seq = 3")
    sql(store, "UPDATE ENTRIES SET seq = 3 WHERE model = :model AND seq = -1")
    report = history.verify(MODEL)
    assert report.first_bad_seq == 2
    assert {p.seq for p in report.problems} >= {2, 3}
    assert "prev_hash" in str(report) and "content does not match its hash" in str(report)


def test_appending_on_a_broken_head_is_refused(history, store, people):
    sql(store, "DELETE FROM ENTRIES WHERE model = :model AND seq = 4")
    with pytest.raises(GovernanceError, match=r"the ledger head says seq 4 but the last entry is seq 3; nothing was "
                                              r"appended; run the ledger verification"):
        history.append(MODEL, "rollback", people["alice"], version="1")


def test_a_verifier_trusting_only_the_public_key_agrees(history, store, signing_key):
    assert Ledger(store, trusted_keys=[signing_key.verifying]).verify(MODEL).ok
