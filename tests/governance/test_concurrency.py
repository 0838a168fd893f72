"""Concurrent appends serialise: a consistent chain, one row per success, on both backends."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from creditml.governance import ConcurrentDecisionError, GovernanceError, champion_of, may_promote

MODEL = "creditml-test-model"
WRITERS = 20


def run_together(work, n: int = WRITERS) -> list:
    """Run ``work(i)`` in ``n`` threads released at once; each result or exception, by i."""
    barrier = threading.Barrier(n)

    def one(i):
        barrier.wait()
        try:
            return work(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the test
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def assert_consistent(ledger, successes):
    rows = ledger.entries(MODEL)
    assert ledger.verify(MODEL).ok
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    return rows


def test_concurrent_appends_all_land_in_one_chain(ledger, people):
    results = run_together(lambda i: ledger.append(MODEL, "finding", people["rita"], payload={"writer": i}))
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    rows = assert_consistent(ledger, results)
    assert len(rows) == WRITERS
    assert sorted(r.payload["writer"] for r in rows) == list(range(WRITERS))
    assert sorted(r.seq for r in results) == list(range(1, WRITERS + 1))


@pytest.fixture
def approved_versions(ledger, people):
    for v in range(1, WRITERS + 1):
        ledger.append(MODEL, "review", people["rita"], version=str(v), payload={"decision": "approve"})
        ledger.append(MODEL, "approval", people["alice"], version=str(v))
    return [str(v) for v in range(1, WRITERS + 1)]


def test_concurrent_promotions_that_stay_valid_are_retried_in_turn(ledger, people, approved_versions):
    def promote(i):
        version = approved_versions[i]
        return ledger.append(MODEL, "promotion", people["alice"], version=version,
                             check=lambda rows: may_promote(rows, version, people["alice"], model=MODEL))

    results = run_together(promote)
    assert [r for r in results if isinstance(r, Exception)] == []
    rows = assert_consistent(ledger, results)
    promotions = [r for r in rows if r.kind == "promotion"]
    assert sorted(int(p.version) for p in promotions) == list(range(1, WRITERS + 1))
    assert champion_of(rows) == promotions[-1].version


def test_concurrent_promotions_from_the_same_view_leave_one_champion(ledger, people, approved_versions):
    seen_seq, _ = ledger.head(MODEL)

    def champion_still_none(rows):
        if champion_of(rows) is not None:
            raise GovernanceError(f"version {champion_of(rows)} became champion meanwhile, expected no champion")

    def promote(i):
        return ledger.append(MODEL, "promotion", people["alice"], version=approved_versions[i],
                             check=champion_still_none, based_on_seq=seen_seq)

    results = run_together(promote)
    wins = [r for r in results if not isinstance(r, Exception)]
    losses = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 1 and len(losses) == WRITERS - 1
    assert all(isinstance(e, ConcurrentDecisionError) for e in losses)
    assert all(f"another decision was recorded first (seq {seen_seq + 1}: promotion of version {wins[0].version}"
               in str(e) for e in losses)
    rows = assert_consistent(ledger, results)
    assert [r.version for r in rows if r.kind == "promotion"] == [wins[0].version]
    assert champion_of(rows) == wins[0].version


def test_verifying_while_others_append_sees_a_consistent_ledger(ledger, people):
    done = threading.Event()
    reports = []

    def verify_until_done():
        while not done.is_set():
            reports.append(ledger.verify(MODEL))

    verifier = threading.Thread(target=verify_until_done)
    verifier.start()
    try:
        results = run_together(lambda i: ledger.append(MODEL, "finding", people["rita"], payload={"writer": i}), 10)
    finally:
        done.set()
        verifier.join()
    assert [r for r in results if isinstance(r, Exception)] == []
    assert reports and [str(r) for r in reports if not r.ok] == []
