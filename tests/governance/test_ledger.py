"""Appending to and verifying the signed, hash-chained ledger, on SQLite and PostgreSQL."""

from __future__ import annotations

import stat

import pytest

from creditml.governance import (ConcurrentDecisionError, DecisionRefused, GovernanceError, Ledger, LedgerKeyError,
                                 SigningKey, champion_of, load_public_keys, may_promote)
from creditml.governance.records import GENESIS_HASH

MODEL = "creditml-test-model"


def test_entries_are_chained_signed_and_verify(ledger, people, signing_key):
    first = ledger.append(MODEL, "review", people["rita"], version="1",
                          payload={"decision": "approve", "comment": "SHAP report reads well"})
    second = ledger.append(MODEL, "approval", people["alice"], version=1)
    third = ledger.append(MODEL, "promotion", people["alice"], version="1", payload={"gates_sha256": "ab" * 32})
    assert [e.seq for e in ledger.entries(MODEL)] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.hash and third.prev_hash == second.hash
    assert signing_key.verifying.verify(third.signature, third.hash)
    assert ledger.entries(MODEL)[1] == second  # what was returned is what was stored
    assert ledger.head(MODEL) == (3, third.hash)
    report = ledger.verify(MODEL)
    assert report.ok and report.entries == 3 and report.first_bad_seq is None
    assert str(report).startswith(f"ledger of model '{MODEL}': 3 entries verified")
    assert report.raise_if_bad() is report


def test_models_have_separate_chains(ledger, people):
    ledger.append("model-a", "finding", people["rita"], payload={"text": "PSI drifting"})
    ledger.append("model-b", "finding", people["rita"], payload={"text": "ok"})
    ledger.append("model-a", "condition", people["alice"], payload={"text": "re-check in 30 days"})
    assert [e.seq for e in ledger.entries("model-a")] == [1, 2]
    assert [e.seq for e in ledger.entries("model-b")] == [1]
    assert ledger.models() == ["model-a", "model-b"]
    assert ledger.verify("model-a").ok and ledger.verify("model-b").ok
    assert ledger.verify("never-written").ok and ledger.verify("never-written").entries == 0


def test_malformed_entries_are_refused_before_writing(ledger, people):
    with pytest.raises(GovernanceError, match=r"ledger entry kind 'tag' is unknown; expected one of registered, review"):
        ledger.append(MODEL, "tag", people["rita"], version="1")
    with pytest.raises(GovernanceError, match=r"a review needs payload decision 'approve' or 'reject', found 'ok'"):
        ledger.append(MODEL, "review", people["rita"], version="1", payload={"decision": "ok"})
    with pytest.raises(GovernanceError, match=r"a promotion entry needs the model version"):
        ledger.append(MODEL, "promotion", people["alice"])
    with pytest.raises(GovernanceError, match=r"the payload of a finding entry cannot be stored as JSON .*pass only "
                                              r"strings, finite numbers"):
        ledger.append(MODEL, "finding", people["rita"], payload={"psi": float("nan")})
    with pytest.raises(GovernanceError, match=r"a ledger entry needs a signed-in identity as actor, found 'rita'"):
        ledger.append(MODEL, "finding", "rita")
    assert ledger.entries(MODEL) == []


def test_a_refusing_check_writes_nothing(ledger, people):
    def promote_check(rows):
        may_promote(rows, "1", people["alice"], model=MODEL)

    with pytest.raises(DecisionRefused, match=r"alice may not promote version 1 of model .*rule approval-required"):
        ledger.append(MODEL, "promotion", people["alice"], version="1", check=promote_check)
    assert ledger.entries(MODEL) == [] and ledger.head(MODEL) == (0, GENESIS_HASH)


def test_a_decision_overtaken_by_another_is_refused_or_retried(ledger, people):
    for v in ("1", "2"):
        ledger.append(MODEL, "review", people["rita"], version=v, payload={"decision": "approve"})
        ledger.append(MODEL, "approval", people["alice"], version=v)
    seen_seq, _ = ledger.head(MODEL)
    seen_champion = champion_of(ledger.entries(MODEL))

    def champion_unchanged(rows):
        if champion_of(rows) != seen_champion:
            raise GovernanceError(f"the champion is now {champion_of(rows)}, expected {seen_champion}")

    ledger.append(MODEL, "promotion", people["bob"], version="1", check=champion_unchanged, based_on_seq=seen_seq)
    with pytest.raises(ConcurrentDecisionError,
                       match=r"the promotion of version 2 by alice was decided on the ledger at seq 4, but another "
                             r"decision was recorded first \(seq 5: promotion of version 1 by bob.*now: the champion "
                             r"is now 1, expected None"):
        ledger.append(MODEL, "promotion", people["alice"], version="2", check=champion_unchanged,
                      based_on_seq=seen_seq)
    with pytest.raises(ConcurrentDecisionError, match=r"another decision was recorded first"):
        ledger.append(MODEL, "finding", people["rita"], payload={}, based_on_seq=seen_seq)
    # still valid although the head moved: appended after the newer entry
    entry = ledger.append(MODEL, "finding", people["rita"], payload={"text": "fine"}, check=lambda rows: None,
                          based_on_seq=seen_seq)
    assert entry.seq == 6 and ledger.verify(MODEL).ok


def test_key_file_is_private_and_its_public_half_verifies(store, people, tmp_path, monkeypatch):
    key_file = tmp_path / "keys" / "ledger.key"
    monkeypatch.setenv("CREDITML_LEDGER_KEY", str(key_file))
    monkeypatch.delenv("CREDITML_LEDGER_PUBLIC_KEY", raising=False)
    writer = Ledger(store)  # the governance service: loads (here: creates) the key from the setting
    writer.append(MODEL, "finding", people["rita"], payload={"text": "x"})
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    public = key_file.with_name("ledger.key.pub")
    assert b"PRIVATE" not in public.read_bytes()
    assert load_public_keys(public)[0].key_id == SigningKey.load_or_create(key_file).key_id

    # a verifier holding only the public key, from the setting
    monkeypatch.setenv("CREDITML_LEDGER_KEY", str(tmp_path / "absent.key"))
    monkeypatch.setenv("CREDITML_LEDGER_PUBLIC_KEY", str(public))
    assert Ledger(store).verify(MODEL).ok

    monkeypatch.setenv("CREDITML_LEDGER_PUBLIC_KEY", str(tmp_path / "absent.pub"))
    with pytest.raises(LedgerKeyError, match=r"no trusted ledger key: neither .*absent.pub.* nor .*absent.key.* exists"):
        Ledger(store).verify(MODEL)

    key_file.chmod(0o644)
    with pytest.raises(LedgerKeyError, match=r"readable by others \(mode 0644\), expected mode 0600; .*chmod 600"):
        SigningKey.load_or_create(key_file)


def test_entries_signed_by_another_key_are_not_trusted(store, people, signing_key):
    Ledger(store, signing_key=SigningKey.generate()).append(MODEL, "finding", people["rita"], payload={})
    report = Ledger(store, trusted_keys=[signing_key.verifying]).verify(MODEL)
    assert report.first_bad_seq == 1
    assert f"which is not trusted (trusted: {signing_key.key_id})" in report.first_bad.message
