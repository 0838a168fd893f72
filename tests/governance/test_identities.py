"""Users, roles, passwords and API tokens, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from creditml.governance import (AuthError, IdentityError, add_role, authenticate_password, authenticate_token,
                                 connect, create_user, disable_user, get_identity, issue_token, remove_role,
                                 revoke_token)
from creditml.governance.store import api_tokens, metadata, users

PASSWORD = "correct horse battery staple"


def test_users_have_roles(store):
    made = create_user(store, "dana", roles=["data_scientist"], password=PASSWORD)
    assert made.name == "dana" and made.roles == {"data_scientist"}
    assert add_role(store, "dana", "reviewer").roles == {"data_scientist", "reviewer"}
    assert add_role(store, "dana", "reviewer").roles == {"data_scientist", "reviewer"}  # idempotent
    assert remove_role(store, "dana", "reviewer").roles == {"data_scientist"}
    assert get_identity(store, "dana").has("data_scientist")


def test_unknown_role_duplicate_user_and_bad_names_are_refused(store):
    with pytest.raises(IdentityError, match=r"role 'superuser' is unknown; expected one of data_scientist, reviewer"):
        create_user(store, "dana", roles=["superuser"])
    create_user(store, "dana")
    with pytest.raises(IdentityError, match=r"user 'dana' already exists"):
        create_user(store, "dana")
    with pytest.raises(IdentityError, match=r"user 'nobody' does not exist; create it first"):
        add_role(store, "nobody", "reviewer")
    with pytest.raises(IdentityError, match=r"user name ' ' is not valid"):
        create_user(store, " ")
    with pytest.raises(IdentityError, match=r"password is too short: expected at least 12 characters, found 5"):
        create_user(store, "eve", password="short")


def test_password_sign_in(store):
    create_user(store, "rita", roles=["reviewer"], password=PASSWORD)
    assert authenticate_password(store, "rita", PASSWORD).roles == {"reviewer"}
    with pytest.raises(AuthError, match=r"sign-in refused for 'rita': unknown user or wrong password"):
        authenticate_password(store, "rita", PASSWORD + "!")
    with pytest.raises(AuthError, match=r"sign-in refused for 'mallory': unknown user or wrong password"):
        authenticate_password(store, "mallory", PASSWORD)
    create_user(store, "ci", roles=["service"])  # token only
    with pytest.raises(AuthError, match=r"sign-in refused for 'ci'"):
        authenticate_password(store, "ci", PASSWORD)
    disable_user(store, "rita")
    with pytest.raises(AuthError, match=r"user 'rita' is disabled"):
        authenticate_password(store, "rita", PASSWORD)


def test_token_sign_in_and_revocation(store):
    create_user(store, "alice", roles=["approver"])
    issued = issue_token(store, "alice", label="laptop")
    assert issued.token.startswith(f"cmt_{issued.token_id}.")
    assert issued.token not in repr(issued)  # shown once, never by accident in a log line
    who = authenticate_token(store, issued.token)
    assert who.name == "alice" and who.roles == {"approver"}

    wrong_secret = issued.token[:-4] + ("AAAA" if not issued.token.endswith("AAAA") else "BBBB")
    with pytest.raises(AuthError, match=rf"API token {issued.token_id} is not valid \(unknown id or wrong secret\)"):
        authenticate_token(store, wrong_secret)
    with pytest.raises(AuthError, match=r"API token 0123456789ab is not valid"):
        authenticate_token(store, "cmt_0123456789ab." + "x" * 43)
    with pytest.raises(AuthError, match=r"API token is malformed: expected 'cmt_<12 hex digits>.<secret>'"):
        authenticate_token(store, "alice")

    other = issue_token(store, "alice")
    revoke_token(store, issued.token_id)
    with pytest.raises(AuthError, match=rf"API token {issued.token_id} of user 'alice' was revoked at"):
        authenticate_token(store, issued.token)
    assert authenticate_token(store, other.token).name == "alice"  # revoking one leaves the others
    with pytest.raises(IdentityError, match=r"token id 'ffffffffffff' is unknown"):
        revoke_token(store, "ffffffffffff")
    disable_user(store, "alice")
    with pytest.raises(AuthError, match=r"user 'alice' is disabled"):
        authenticate_token(store, other.token)


def test_no_plaintext_secret_is_stored(store):
    create_user(store, "dana", roles=["data_scientist"], password=PASSWORD)
    issued = issue_token(store, "dana")
    secret = issued.token.split(".", 1)[1]
    with store.engine.begin() as conn:
        dumped = "\n".join(repr(tuple(row)) for table in metadata.sorted_tables
                           for row in conn.execute(select(table)))
        stored_hash = conn.execute(select(users.c.password_hash)).scalar_one()
        token_hash = conn.execute(select(api_tokens.c.token_hash)).scalar_one()
    assert PASSWORD not in dumped and secret not in dumped and issued.token not in dumped
    assert stored_hash.startswith("$argon2id$")
    assert len(token_hash) == 64 and secret not in token_hash


def test_no_plaintext_secret_in_the_sqlite_file(tmp_path):
    path = tmp_path / "governance.db"
    store = connect(f"sqlite:///{path}")
    create_user(store, "dana", roles=["data_scientist"], password=PASSWORD)
    issued = issue_token(store, "dana")
    authenticate_token(store, issued.token)
    authenticate_password(store, "dana", PASSWORD)
    store.dispose()
    files = [p for p in tmp_path.iterdir() if p.name.startswith("governance.db")]  # the db and any journal
    raw = b"".join(Path(p).read_bytes() for p in files)
    secret = issued.token.split(".", 1)[1]
    assert b"dana" in raw  # the scan reads the real content
    for plain in (PASSWORD, secret, issued.token):
        assert plain.encode() not in raw
