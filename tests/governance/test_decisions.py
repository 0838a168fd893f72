"""Four eyes, promotion and rollback rules: pure functions over ledger rows."""

from __future__ import annotations

import pytest

from creditml.governance import (DecisionRefused, FourEyesPolicy, Identity, LedgerEntry, approval_in_force,
                                 champion_of, champion_stack, may_approve, may_promote, may_review, may_rollback,
                                 previous_champion)

MODEL = "creditml-test-model"
TRAINER = "dana"


class Rows(list):
    def add(self, kind: str, actor: str, version: str | None, **payload) -> "Rows":
        self.append(LedgerEntry(model=MODEL, seq=len(self) + 1, kind=kind, version=version, actor=actor,
                                at="2026-12-01T00:00:00+00:00", payload=payload, prev_hash="", key_id=""))
        return self

    def reviewed(self, actor: str, version: str, decision: str) -> "Rows":
        return self.add("review", actor, version, decision=decision, comment="")

    def approved(self, version: str, reviewer: str = "rita", approver: str = "alice") -> "Rows":
        return self.reviewed(reviewer, version, "approve").add("approval", approver, version)


def test_review_needs_a_reviewer_who_did_not_train_it(people):
    may_review([], "1", people["rita"], TRAINER)
    may_review([], "1", people["bob"], TRAINER)  # approvers may review
    with pytest.raises(DecisionRefused, match=r"dana may not review version 1 of model 'm': rule role: expected "
                                              r"role reviewer or approver, found roles: data_scientist"):
        may_review([], "1", people["dana"], TRAINER, model="m")
    trainer_reviewer = Identity("dana", frozenset({"reviewer"}))
    with pytest.raises(DecisionRefused, match=r"dana may not review version 1: rule four-eyes: dana trained this "
                                              r"version; expected someone other than the trainer") as refused:
        may_review([], "1", trainer_reviewer, TRAINER)
    assert (refused.value.actor, refused.value.version, refused.value.rule) == ("dana", "1", "four-eyes")
    with pytest.raises(DecisionRefused, match=r"rule trainer-known: the identity that trained this version is not "
                                              r"recorded"):
        may_review([], "1", people["rita"], None)


def test_approval_needs_an_approver_other_than_the_trainer_after_an_approving_review(people):
    rows = Rows().reviewed("rita", "1", "approve")
    may_approve(rows, "1", people["alice"], TRAINER)
    with pytest.raises(DecisionRefused, match=rf"rita may not approve version 1 of model '{MODEL}': rule role: "
                                              r"expected role approver, found roles: reviewer"):
        may_approve(rows, "1", people["rita"], TRAINER)
    trainer_approver = Identity("dana", frozenset({"approver", "data_scientist"}))
    with pytest.raises(DecisionRefused, match=r"dana may not approve version 1 .*rule four-eyes: dana trained"):
        may_approve(rows, "1", trainer_approver, TRAINER)
    with pytest.raises(DecisionRefused, match=r"alice may not approve version 2 .*rule review-required: expected an "
                                              r"approving review, found no review of this version"):
        may_approve(rows, "2", people["alice"], TRAINER)


def test_a_rejection_stands_until_a_newer_approving_review(people):
    rows = Rows().reviewed("rita", "1", "approve").reviewed("bob", "1", "reject")
    with pytest.raises(DecisionRefused, match=r"alice may not approve version 1 .*rule rejection-stands: the last "
                                              r"review \(seq 2: review of version 1 \(reject\) by bob"):
        may_approve(rows, "1", people["alice"], TRAINER)
    rows.reviewed("rita", "1", "approve")
    may_approve(rows, "1", people["alice"], TRAINER)


def test_the_trainer_cannot_overturn_a_rejection(people):
    # the walk-around: the trainer, also an approver elsewhere, reviews and approves their own version
    trainer = Identity("dana", frozenset({"approver", "reviewer"}))
    rows = Rows().reviewed("rita", "1", "reject")
    with pytest.raises(DecisionRefused, match=r"rule four-eyes"):
        may_review(rows, "1", trainer, TRAINER)
    rows.reviewed("dana", "1", "approve")  # e.g. written before the rules existed
    with pytest.raises(DecisionRefused, match=r"alice may not approve version 1 .*rule four-eyes: the last review "
                                              r"\(seq 2: review of version 1 \(approve\) by dana.*\) was written by the "
                                              r"trainer"):
        may_approve(rows, "1", people["alice"], TRAINER)


def test_the_approver_must_not_be_the_last_reviewer_unless_configured(people):
    rows = Rows().reviewed("bob", "1", "approve")
    with pytest.raises(DecisionRefused, match=r"bob may not approve version 1 .*rule approver-is-not-reviewer: bob "
                                              r"wrote the last review .*expected a second person to approve"):
        may_approve(rows, "1", people["bob"], TRAINER)
    may_approve(rows, "1", people["bob"], TRAINER, FourEyesPolicy(approver_differs_from_reviewer=False))


def test_an_approval_is_given_once_and_withdrawn_by_a_later_rejection(people):
    rows = Rows().approved("1")
    assert approval_in_force(rows, "1").seq == 2
    with pytest.raises(DecisionRefused, match=r"rule already-approved: it is already approved \(seq 2: approval"):
        may_approve(rows, "1", people["bob"], TRAINER)
    rows.reviewed("bob", "1", "reject")
    assert approval_in_force(rows, "1") is None


def test_promotion_needs_an_approval_in_force(people):
    rows = Rows().reviewed("rita", "1", "approve")
    with pytest.raises(DecisionRefused, match=r"alice may not promote version 1 .*rule approval-required"):
        may_promote(rows, "1", people["alice"])
    rows.add("approval", "alice", "1")
    with pytest.raises(DecisionRefused, match=r"rita may not promote version 1 .*rule role: expected role approver "
                                              r"or service, found roles: reviewer"):
        may_promote(rows, "1", people["rita"])
    may_promote(rows, "1", people["ci"])
    rows.add("promotion", "ci", "1")
    with pytest.raises(DecisionRefused, match=r"rule already-champion: version 1 is already champion"):
        may_promote(rows, "1", people["alice"])
    rows.approved("2").reviewed("bob", "2", "reject")
    with pytest.raises(DecisionRefused, match=r"alice may not promote version 2 .*rule approval-required: .*a later "
                                              r"review rejected it"):
        may_promote(rows, "2", people["alice"])


def test_the_ledger_decides_the_champion_and_rollback_walks_it(people):
    rows = Rows()
    assert champion_of(rows) is None and previous_champion(rows) is None
    with pytest.raises(DecisionRefused, match=r"alice may not roll back of model .*rule champion-required"):
        may_rollback(rows, people["alice"], model=MODEL)
    for v in ("1", "2", "3"):
        rows.approved(v).add("promotion", "alice", v)
    assert champion_of(rows) == "3" and champion_stack(rows) == ["1", "2", "3"]
    assert may_rollback(rows, people["ci"]) == ("3", "2")
    rows.add("rollback", "ci", "2", rolled_back="3")
    assert champion_of(rows) == "2" and previous_champion(rows) == "1"
    assert may_rollback(rows, people["alice"]) == ("2", "1")
    rows.add("rollback", "alice", "1", rolled_back="2")
    assert champion_of(rows) == "1"
    with pytest.raises(DecisionRefused, match=r"alice may not roll back version 1 .*rule previous-champion-required: "
                                              r"version 1 is the first champion"):
        may_rollback(rows, people["alice"])
    with pytest.raises(DecisionRefused, match=r"rita may not roll back version 1 .*rule role"):
        may_rollback(rows, people["rita"])


def test_rollback_refuses_a_previous_champion_whose_approval_was_withdrawn(people):
    rows = Rows().approved("1").add("promotion", "alice", "1").approved("2").add("promotion", "alice", "2")
    rows.reviewed("bob", "1", "reject")
    with pytest.raises(DecisionRefused, match=r"alice may not roll back version 2 .*rule approval-required: the "
                                              r"previous champion, version 1, has no approval in force"):
        may_rollback(rows, people["alice"])
