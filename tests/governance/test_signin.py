"""Who is signed in: CREDITML_TOKEN wins over the login file; a missing sign-in names both ways;
the trainer of a version is what its ledger `registered` entry says."""

from __future__ import annotations

import pytest

from creditml.governance import (AuthError, Identity, IdentityError, LedgerEntry, create_first_admin, create_user,
                                 issue_token, save_token, signed_in, signed_in_or_none, trainer_of)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDITML_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CREDITML_TOKEN", raising=False)
    return tmp_path / "home"


def test_the_environment_wins_and_the_login_file_is_private(store, home, monkeypatch):
    create_user(store, "dana", ("data_scientist",))
    create_user(store, "ava", ("approver",))
    assert signed_in_or_none(store) is None
    with pytest.raises(AuthError, match=r"nobody is signed in, and only a signed-in identity may approve; fix: run "
                                        r"'creditml login NAME' .* or export CREDITML_TOKEN="):
        signed_in(store, "approve")
    path = save_token(issue_token(store, "dana").token)
    assert path == home / "token" and path.stat().st_mode & 0o777 == 0o600
    assert signed_in(store).name == "dana"
    monkeypatch.setenv("CREDITML_TOKEN", issue_token(store, "ava").token)
    assert signed_in(store) == Identity("ava", frozenset({"approver"}))
    monkeypatch.setenv("CREDITML_TOKEN", "ava")
    with pytest.raises(AuthError, match=r"the token in \$CREDITML_TOKEN was refused: API token is malformed"):
        signed_in(store)


def test_init_admin_only_on_an_empty_database_and_unverified_is_reserved(store):
    assert create_first_admin(store, "root").has("admin")
    with pytest.raises(IdentityError, match=r"init-admin refused for 'eve': rule bootstrap-only"):
        create_first_admin(store, "eve")
    with pytest.raises(IdentityError, match=r"user name 'unverified' is reserved"):
        create_user(store, "unverified", ("approver",))


def _registered(version: str, trainer: str) -> LedgerEntry:
    return LedgerEntry(model="m", seq=1, kind="registered", version=version, actor=trainer, at="t",
                       payload={"trainer": trainer, "verified": trainer != "unverified"}, prev_hash="0", key_id="k")


def test_the_trainer_is_the_ledgers_registered_entry():
    rows = [_registered("1", "dana"), _registered("2", "unverified")]
    assert trainer_of(rows, "1") == "dana"
    assert trainer_of(rows, "2") is None and trainer_of(rows, "3") is None
