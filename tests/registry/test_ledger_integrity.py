"""The ledger decides: tampering is caught by `creditml audit --verify`, an alias moved by hand is
refused and reported, and concurrent promotions serialise with the alias mirroring the ledger."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from creditml.cli import app
from creditml.governance import ConcurrentDecisionError, DecisionRefused
from creditml.registry import open_registry
from creditml.registry.governed import ledger_champions
from creditml.registry.loading import ledger_champion
from creditml.registry.promotion import approve, audit, promote, review
from tests.governed import GOOD, log_version

NAME = "creditml-test-model"


def _approved(world) -> str:
    version = log_version(NAME, GOOD, world["dana"].identity)
    review(NAME, version, True, world["rui"].identity, "read the report")
    approve(NAME, version, world["ava"].identity)
    return version


def _verify():
    return CliRunner().invoke(app, ["audit", NAME, "--verify"], env={"CREDITML_TOKEN": ""})


def _db(tmp_path):
    return sa.create_engine(f"sqlite:///{tmp_path / 'governance.db'}")


@pytest.mark.parametrize("tamper, first_bad, says", [
    ("edit", 3, "content does not match its hash"),
    ("delete", 3, "entry 3 is missing"),
    ("reorder", 2, "prev_hash"),
])
def test_editing_deleting_or_reordering_a_ledger_row_is_caught_by_audit_verify(world, tmp_path, tamper, first_bad,
                                                                                says):
    """Done-when: `creditml audit MODEL --verify` names the first bad entry and exits 2."""
    version = log_version(NAME, GOOD, world["dana"].identity)
    review(NAME, version, False, world["rui"].identity, "too volatile")  # seq 2
    review(NAME, version, True, world["bo"].identity, "fixed")  # seq 3
    approve(NAME, version, world["ava"].identity)  # seq 4
    ok = _verify()
    assert ok.exit_code == 0 and "4 entries verified" in ok.output, ok.output
    engine = _db(tmp_path)
    with engine.begin() as conn:
        if tamper == "edit":  # the rejection becomes an approval
            conn.execute(sa.text("UPDATE governance_ledger_entries SET payload = replace(payload, 'approve', "
                                 "'reject') WHERE seq = 3"))
        elif tamper == "delete":
            conn.execute(sa.text("DELETE FROM governance_ledger_entries WHERE seq = 3"))
        else:  # swap entries 2 and 3
            conn.execute(sa.text("UPDATE governance_ledger_entries SET seq = -1 WHERE seq = 2"))
            conn.execute(sa.text("UPDATE governance_ledger_entries SET seq = 2 WHERE seq = 3"))
            conn.execute(sa.text("UPDATE governance_ledger_entries SET seq = 3 WHERE seq = -1"))
    engine.dispose()
    bad = _verify()
    assert bad.exit_code == 2, bad.output
    assert f"fails verification: first bad entry is seq {first_bad}" in bad.output and says in bad.output


def test_deleting_the_last_entries_and_rewriting_the_head_is_caught_against_the_mirrored_head(world, tmp_path):
    version = _approved(world)
    promote(NAME, version, world["ava"].identity)  # seq 4, head mirrored to the registered model's tag
    engine = _db(tmp_path)
    with engine.begin() as conn:
        row = conn.execute(sa.text("SELECT hash FROM governance_ledger_entries WHERE seq = 3")).scalar_one()
        conn.execute(sa.text("DELETE FROM governance_ledger_entries WHERE seq = 4"))
        conn.execute(sa.text("UPDATE governance_ledger_heads SET seq = 3, hash = :h"), {"h": row})
    engine.dispose()
    bad = _verify()
    assert bad.exit_code == 2 and "entry 4 recorded outside the database" in bad.output, bad.output


def test_an_alias_moved_by_hand_is_refused_reported_and_the_approved_champion_stays(world):
    """Done-when (registry side): the ledger, not the alias, names the champion; audit --verify reports it."""
    champion = _approved(world)
    promote(NAME, champion, world["ava"].identity)
    rogue = log_version(NAME, GOOD, world["dana"].identity)  # never reviewed
    MlflowClient().set_registered_model_alias(NAME, "champion", rogue)
    assert ledger_champion(NAME)[0] == champion
    champions, problems = ledger_champions(open_registry())
    assert champions == {NAME: champion}
    assert [(p.name, p.alias, p.ledger_champion) for p in problems] == [(NAME, rogue, champion)]
    result = _verify()
    assert result.exit_code == 2
    assert (f"champion mismatch: model '{NAME}': alias 'champion' points at version {rogue} but the ledger's "
            f"champion is version {champion}; the alias is refused") in " ".join(result.output.split())
    # nothing was written for the alias move
    assert [e.kind for e in audit(NAME)] == ["registered", "review", "approval", "promotion", "registered"]


def test_twenty_concurrent_promotions_leave_one_champion_and_the_alias_equal_to_the_ledger(world):
    """Done-when: one ledger row per success, a clear refusal for the others, alias == ledger."""
    versions = [_approved(world) for _ in range(20)]
    barrier = threading.Barrier(len(versions))
    outcomes: dict[str, str] = {}

    def attempt(version: str) -> None:
        barrier.wait()
        try:
            promote(NAME, version, world["ava"].identity)
            outcomes[version] = "promoted"
        except (ConcurrentDecisionError, DecisionRefused) as exc:
            outcomes[version] = f"refused: {exc}"

    threads = [threading.Thread(target=attempt, args=(v,)) for v in versions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(outcomes) == 20, outcomes
    promoted = [v for v, o in outcomes.items() if o == "promoted"]
    refused = [o for o in outcomes.values() if o != "promoted"]
    rows = [e for e in audit(NAME) if e.kind == "promotion"]
    assert sorted(e.version for e in rows) == sorted(promoted) and len(promoted) >= 1
    assert all("another decision was recorded first" in r or "rule one-decision-at-a-time" in r for r in refused)
    champion = rows[-1].version
    assert ledger_champion(NAME)[0] == champion
    assert open_registry().alias_version(NAME, "champion") == champion
    assert _verify().exit_code == 0
