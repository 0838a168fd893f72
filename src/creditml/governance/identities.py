"""Users, roles and credentials. No secret is ever stored, returned twice or logged.

- Passwords are hashed with argon2id (``argon2-cffi``); a hash made with older
  parameters is upgraded at the next successful sign-in.
- API tokens look like ``cmt_<token_id>.<secret>``: ``token_id`` is a public lookup
  prefix, the secret comes from ``secrets.token_urlsafe(32)`` (256 bits). Only the
  SHA-256 of the whole token is stored: a slow hash adds nothing for a secret that
  cannot be guessed. The token is returned once, by ``issue_token``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from creditml.governance.errors import AuthError, IdentityError
from creditml.governance.records import ROLES, UNVERIFIED, Identity
from creditml.governance.store import GovernanceStore, api_tokens, user_roles, users

TOKEN_PREFIX = "cmt_"
_TOKEN_RE = re.compile(r"^cmt_([0-9a-f]{12})\.([A-Za-z0-9_-]{20,})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 ._@'-]{0,198}[A-Za-z0-9.])?$")
_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("creditml: compared against when the user does not exist")
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class IssuedToken:
    """A new API token: ``token`` is the only time the secret exists outside its holder."""

    token_id: str
    user: str
    token: str = field(repr=False)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise IdentityError(f"role {role!r} is unknown; expected one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise IdentityError(
            f"password is too short: expected at least {MIN_PASSWORD_LENGTH} characters, found {len(password)}; "
            "choose a longer one (a passphrase)")


def _user_row(conn, name: str):
    row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
    if row is None:
        raise IdentityError(f"user {name!r} does not exist; create it first (create_user)")
    return row


def _identity(conn, user_id: int, name: str) -> Identity:
    roles = conn.execute(select(user_roles.c.role).where(user_roles.c.user_id == user_id)).scalars()
    return Identity(name=name, roles=frozenset(roles))


def create_user(store: GovernanceStore, name: str, roles: tuple[str, ...] | list[str] = (),
                password: str | None = None) -> Identity:
    """Create user ``name`` with ``roles``; without a password it signs in by token only."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise IdentityError(
            f"user name {name!r} is not valid: expected 1-200 letters, digits, spaces or ._@'- "
            "starting with a letter or digit")
    if name.lower() == UNVERIFIED:
        raise IdentityError(f"user name {name!r} is reserved: it marks versions trained without a signed-in "
                            "identity; choose another name")
    for role in roles:
        _check_role(role)
    if password is not None:
        _check_password(password)
    password_hash = _hasher.hash(password) if password is not None else None
    try:
        with store.engine.begin() as conn:
            user_id = conn.execute(insert(users).values(
                name=name, password_hash=password_hash, disabled=False, created_at=_now())).inserted_primary_key[0]
            for role in sorted(set(roles)):
                conn.execute(insert(user_roles).values(user_id=user_id, role=role))
            return _identity(conn, user_id, name)
    except IntegrityError:
        raise IdentityError(f"user {name!r} already exists; choose another name or add roles with add_role") from None


def create_first_admin(store: GovernanceStore, name: str, password: str | None = None) -> Identity:
    """The bootstrap: create ``name`` as admin, only while the database holds no user at all."""
    with store.engine.begin() as conn:  # BEGIN IMMEDIATE on SQLite: two bootstraps cannot both see zero users
        existing = conn.execute(select(users.c.name).limit(3)).scalars().all()
    if existing:
        raise IdentityError(
            f"init-admin refused for {name!r}: rule bootstrap-only: users already exist ({', '.join(existing)}...); "
            "fix: ask an admin to run 'creditml users add NAME --role admin'")
    return create_user(store, name, ("admin",), password)


def add_role(store: GovernanceStore, name: str, role: str) -> Identity:
    _check_role(role)
    with store.engine.begin() as conn:
        row = _user_row(conn, name)
        if role not in _identity(conn, row["id"], name).roles:
            conn.execute(insert(user_roles).values(user_id=row["id"], role=role))
        return _identity(conn, row["id"], name)


def remove_role(store: GovernanceStore, name: str, role: str) -> Identity:
    _check_role(role)
    with store.engine.begin() as conn:
        row = _user_row(conn, name)
        conn.execute(delete(user_roles).where(user_roles.c.user_id == row["id"], user_roles.c.role == role))
        return _identity(conn, row["id"], name)


def set_password(store: GovernanceStore, name: str, password: str) -> None:
    _check_password(password)
    with store.engine.begin() as conn:
        row = _user_row(conn, name)
        conn.execute(update(users).where(users.c.id == row["id"]).values(password_hash=_hasher.hash(password)))


def disable_user(store: GovernanceStore, name: str) -> None:
    """Refuse every credential of ``name`` from now on (its ledger entries stay)."""
    with store.engine.begin() as conn:
        row = _user_row(conn, name)
        conn.execute(update(users).where(users.c.id == row["id"]).values(disabled=True))


def user_count(store: GovernanceStore) -> int:
    with store.engine.begin() as conn:
        return len(conn.execute(select(users.c.id)).all())


def get_identity(store: GovernanceStore, name: str) -> Identity:
    with store.engine.begin() as conn:
        row = _user_row(conn, name)
        return _identity(conn, row["id"], name)


def issue_token(store: GovernanceStore, name: str, label: str = "") -> IssuedToken:
    """A new API token for ``name``. Show ``.token`` to its holder once; it cannot be recovered."""
    token_id = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}{token_id}.{secrets.token_urlsafe(32)}"
    with store.engine.begin() as conn:
        row = _user_row(conn, name)
        conn.execute(insert(api_tokens).values(token_id=token_id, user_id=row["id"], token_hash=_sha256(token),
                                               label=label, created_at=_now(), revoked_at=None))
    return IssuedToken(token_id=token_id, user=name, token=token)


def revoke_token(store: GovernanceStore, token_id: str) -> None:
    """Revoke the token with public id ``token_id`` (the part after ``cmt_``, before the dot)."""
    with store.engine.begin() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.token_id == token_id)).mappings().first()
        if row is None:
            raise IdentityError(f"token id {token_id!r} is unknown; list the user's tokens to find its id")
        if row["revoked_at"] is None:
            conn.execute(update(api_tokens).where(api_tokens.c.id == row["id"]).values(revoked_at=_now()))


def authenticate_token(store: GovernanceStore, token: str) -> Identity:
    """The identity holding ``token``; AuthError when it is malformed, unknown, wrong or revoked."""
    match = _TOKEN_RE.match(token.strip()) if isinstance(token, str) else None
    if match is None:
        raise AuthError(
            "API token is malformed: expected 'cmt_<12 hex digits>.<secret>' as printed when it was issued; "
            "check CREDITML_TOKEN or issue a new token")
    token_id = match.group(1)
    with store.engine.begin() as conn:
        row = conn.execute(
            select(api_tokens, users.c.name, users.c.disabled)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_id == token_id)).mappings().first()
        # the same refusal for an unknown id and a wrong secret: the id alone proves nothing
        if row is None or not hmac.compare_digest(row["token_hash"], _sha256(token.strip())):
            raise AuthError(
                f"API token {token_id} is not valid (unknown id or wrong secret); "
                "sign in again or ask an admin for a new token")
        if row["revoked_at"] is not None:
            raise AuthError(f"API token {token_id} of user {row['name']!r} was revoked at {row['revoked_at']}; "
                            "ask an admin for a new token")
        if row["disabled"]:
            raise AuthError(f"user {row['name']!r} is disabled; ask an admin to enable it")
        return _identity(conn, row["user_id"], row["name"])


def authenticate_password(store: GovernanceStore, name: str, password: str) -> Identity:
    """The identity ``name`` if ``password`` is its password; AuthError otherwise."""
    refusal = AuthError(f"sign-in refused for {name!r}: unknown user or wrong password; check both and retry")
    with store.engine.begin() as conn:
        row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
        stored = row["password_hash"] if row is not None else None
        try:
            # verify against a dummy hash for unknown users so timing does not reveal who exists
            _hasher.verify(stored or _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            raise refusal from None
        if stored is None:
            raise refusal
        if row["disabled"]:
            raise AuthError(f"user {name!r} is disabled; ask an admin to enable it")
        if _hasher.check_needs_rehash(stored):
            conn.execute(update(users).where(users.c.id == row["id"]).values(password_hash=_hasher.hash(password)))
        return _identity(conn, row["id"], name)
