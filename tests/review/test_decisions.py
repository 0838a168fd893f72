"""decide, record_finding and trainer_of over a real MLflow registry and a real signed ledger."""

from __future__ import annotations

from datetime import date

import pytest

from creditml.governance import ConcurrentDecisionError, DecisionRefused, Identity
from creditml.governance.records import LedgerEntry
from creditml.review._decisions import decide, decision_step, trainer_of
from creditml.review._findings import findings_of, record_finding
from creditml.review._settings import ReviewError

TODAY = date(2026, 12, 1)


def _decide(placeholder, people, version, who, approve=True, comment="read the report", **kw):
    kw.setdefault("today", TODAY)
    return decide(placeholder.registry, people.ledger, placeholder.model, version, people.identities[who], approve, comment, **kw)


def _entry(kind, version, actor, payload, seq=1):
    return LedgerEntry(model="m", seq=seq, kind=kind, version=version, actor=actor, at="2026-12-01T00:00:00",
                       payload=payload, prev_hash="0" * 64, key_id="k")


def test_trainer_comes_from_the_ledger_registration_never_from_a_tag():
    tags = {"creditml.trained_by": "tagged-person"}
    assert trainer_of([], tags, "1").name is None  # a tag anyone can write is not a trainer
    registered = _entry("registered", "1", "dana", {"trainer": "dana", "verified": True})
    assert (trainer_of([registered], tags, "1").name, trainer_of([registered], tags, "1").source) == ("dana", "ledger")
    unverified = _entry("registered", "1", "unverified", {"trainer": "unverified", "verified": False})
    assert trainer_of([unverified], tags, "1").name is None
    assert trainer_of([registered], tags, "2").name is None  # another version's registration


def test_review_then_approval_by_another_with_conditions_mirrored_to_tags(placeholder, people):
    v = placeholder.new_version()
    assert decision_step(people.ledger.entries(placeholder.model), v, people.identities["rita"], True) == "review"
    review = _decide(placeholder, people, v, "rita", comment="stable and calibrated")
    assert (review.kind, review.payload) == ("review", {"decision": "approve", "comment": "stable and calibrated"})
    assert decision_step(people.ledger.entries(placeholder.model), v, people.identities["alex"], True) == "approval"
    approval = _decide(placeholder, people, v, "alex", comment="agreed",
                       conditions=["  monitor PSI monthly ", "", "only for retail"], next_review=date(2027, 6, 1))
    assert approval.kind == "approval" and approval.actor == "alex"
    assert approval.payload == {"comment": "agreed", "conditions": ["monitor PSI monthly", "only for retail"],
                                "next_review": "2027-06-01"}
    tags = placeholder.registry.get_version(placeholder.model, v).tags
    assert tags["creditml.review"] == "approved" and tags["creditml.reviewer"] == "rita"
    assert tags["creditml.approved_by"] == "alex" and tags["creditml.next_review"] == "2027-06-01"
    assert tags["creditml.ledger.decision"] == f"seq 3 {approval.hash}"  # after the registration and the review
    assert people.ledger.verify(placeholder.model).ok


def test_the_trainer_is_refused_approval_by_four_eyes(placeholder, people):
    v = placeholder.new_version(trainer="dana")
    _decide(placeholder, people, v, "rita")
    with pytest.raises(DecisionRefused, match=rf"^dana may not approve version {v} of model '{placeholder.model}': rule four-eyes: "
                                              r"dana trained this version; expected someone other than the trainer; "
                                              r"fix: ask another reviewer/approver$"):
        _decide(placeholder, people, v, "dana")
    with pytest.raises(DecisionRefused, match=rf"dana may not review version {v} .*rule four-eyes"):
        _decide(placeholder, people, v, "dana", approve=False)
    assert [e.kind for e in people.ledger.entries(placeholder.model)] == ["registered", "review"]  # nothing written by the refusals


def test_roles_and_second_pair_of_eyes_are_enforced(placeholder, people):
    v = placeholder.new_version()
    with pytest.raises(DecisionRefused, match=r"dave may not review version .*rule role: expected role reviewer or "
                                              r"approver, found roles: data_scientist"):
        _decide(placeholder, people, v, "dave")
    _decide(placeholder, people, v, "rita")
    with pytest.raises(DecisionRefused, match=r"rita may not approve .*rule approver-is-not-reviewer: rita wrote the "
                                              r"last review .*expected a second person to approve; fix: ask another "
                                              r"approver"):
        _decide(placeholder, people, v, "rita")


def test_a_rejection_withdraws_and_carries_no_conditions(placeholder, people):
    v = placeholder.new_version()
    with pytest.raises(ReviewError, match=r"rita's decision on version .* is a rejection with conditions of use .*"
                                          r"rule conditions-need-approval"):
        _decide(placeholder, people, v, "rita", approve=False, conditions=["x"])
    rejected = _decide(placeholder, people, v, "rita", approve=False, comment="unstable by month")
    assert rejected.payload == {"decision": "reject", "comment": "unstable by month"}
    assert placeholder.registry.get_version(placeholder.model, v).tags["creditml.review"] == "rejected"
    assert people.ledger.entries(placeholder.model)[-1].payload["decision"] == "reject"
    # a rejection stands until a newer approving review: alex's approve is that review, not an approval
    assert decision_step(people.ledger.entries(placeholder.model), v, people.identities["alex"], True) == "review"
    assert _decide(placeholder, people, v, "alex", comment="fixed after discussion").kind == "review"
    approval = _decide(placeholder, people, v, "rita", comment="agreed now")
    assert approval.kind == "approval"


def test_inputs_are_checked_before_anything_is_written(placeholder, people):
    v = placeholder.new_version()
    with pytest.raises(ReviewError, match=r"has no comment; rule decision-comment: .*fix: write a comment"):
        _decide(placeholder, people, v, "rita", comment="   ")
    with pytest.raises(ReviewError, match=r"next review date 2026-12-01 is not after today \(2026-12-01\); rule "
                                          r"next-review-in-future"):
        _decide(placeholder, people, v, "rita", next_review=TODAY)
    assert [e.kind for e in people.ledger.entries(placeholder.model)] == ["registered"]


def test_a_decision_overtaken_by_another_is_not_written(placeholder, people):
    v = placeholder.new_version()
    _decide(placeholder, people, v, "rita")
    seen = people.ledger.head(placeholder.model)[0]  # alex opens the page here ...
    decide(placeholder.registry, people.ledger, placeholder.model, v, Identity("bo", frozenset({"reviewer"})), False,
           "found a leak", today=TODAY)  # ... while bo rejects
    with pytest.raises(ConcurrentDecisionError, match=r"was decided on the ledger at seq 2, but another decision was "
                                                      r"recorded first \(seq 3: review of version .* \(reject\) by bo"):
        _decide(placeholder, people, v, "alex", based_on_seq=seen)
    assert len(people.ledger.entries(placeholder.model)) == 3  # the registration, the review, the rejection


def test_findings_are_signed_ledger_rows_refused_like_reviews(placeholder, people):
    v = placeholder.new_version(trainer="dana")
    entry = record_finding(placeholder.registry, people.ledger, placeholder.model, v, people.identities["rita"], "limitation",
                           "medium", "thin data before 2021", "stability")
    assert entry.kind == "finding" and entry.actor == "rita"
    [found] = findings_of(people.ledger.entries(placeholder.model), v)
    assert (found.type, found.severity, found.section, found.text, found.hash) == (
        "limitation", "medium", "stability", "thin data before 2021", entry.hash)
    with pytest.raises(ReviewError, match=r"type 'bug' is unknown; rule finding-type: expected one of issue, "
                                          r"limitation, policy_exception"):
        record_finding(placeholder.registry, people.ledger, placeholder.model, v, people.identities["rita"], "bug", "low", "x",
                       "summary")
    with pytest.raises(ReviewError, match=r"report section 'appendix' is unknown; rule finding-section"):
        record_finding(placeholder.registry, people.ledger, placeholder.model, v, people.identities["rita"], "issue", "low", "x",
                       "appendix")
    with pytest.raises(DecisionRefused, match=r"dana may not review .*rule four-eyes"):
        record_finding(placeholder.registry, people.ledger, placeholder.model, v, people.identities["dana"], "issue", "high",
                       "own model", "summary")
    with pytest.raises(DecisionRefused, match=r"rule trainer-known"):
        record_finding(placeholder.registry, people.ledger, placeholder.model, placeholder.new_version(trainer=None),
                       people.identities["rita"], "issue", "low", "who trained this?", "general")
    assert len(people.ledger.entries(placeholder.model)) == 2  # the registration and the finding
