"""Sign-in sessions and CSRF tokens.

- A session lives on the server (``SessionStore``, in memory): signing out deletes it,
  so a copied cookie stops working at once. The cookie holds only the session id,
  signed with the server secret (itsdangerous), ``HttpOnly`` and ``SameSite=Strict``.
- Sessions end after ``idle_minutes`` without a request and ``max_hours`` after sign-in;
  a new sign-in always gets a new id (no session fixation).
- Every POST form carries the session's CSRF token (``csrf_token``), compared in
  constant time. The sign-in form, which has no session yet, carries a token that must
  match a signed short-lived cookie set with the form (double submit).
- Roles are re-read from the governance database on every request: a role removed or a
  user disabled takes effect on the next click, not at the next sign-in.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select

from creditml.governance import GovernanceStore, Identity, IdentityError, get_identity
from creditml.governance.store import users

SESSION_COOKIE = "creditml_review_session"
SIGNIN_COOKIE = "creditml_review_signin"
SIGNIN_TOKEN_SECONDS = 3600


@dataclass
class Session:
    sid: str
    name: str
    csrf: str
    created: float
    last_seen: float = field(default=0.0)


class SessionStore:
    """Server-side sessions; the cookie carries only a signed id."""

    def __init__(self, secret: bytes, idle_minutes: int = 30, max_hours: int = 8, clock=time.monotonic):
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._cookie = URLSafeTimedSerializer(secret, salt="creditml.review.session")
        self._signin = URLSafeTimedSerializer(secret, salt="creditml.review.signin")
        self.idle_seconds, self.max_seconds = idle_minutes * 60, max_hours * 3600
        self._clock = clock

    # ------------------------------------------------------------------ sessions

    def open(self, name: str) -> tuple[Session, str]:
        """A new session for ``name`` and the cookie value naming it."""
        now = self._clock()
        session = Session(sid=secrets.token_urlsafe(32), name=name, csrf=secrets.token_urlsafe(32), created=now,
                          last_seen=now)
        with self._lock:
            self._sessions[session.sid] = session
        return session, self._cookie.dumps(session.sid)

    def find(self, cookie: str | None) -> Session | None:
        """The live session the cookie names; None when absent, forged, expired or signed out."""
        if not cookie:
            return None
        try:
            sid = self._cookie.loads(cookie, max_age=self.max_seconds)
        except BadSignature:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if now - session.last_seen > self.idle_seconds or now - session.created > self.max_seconds:
                del self._sessions[sid]
                return None
            session.last_seen = now
            return session

    def close(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.sid, None)

    # ------------------------------------------------------------------ CSRF

    @staticmethod
    def csrf_ok(session: Session, submitted: str | None) -> bool:
        return bool(submitted) and hmac.compare_digest(session.csrf.encode(), str(submitted).encode())

    def signin_token(self) -> tuple[str, str]:
        """(form token, cookie value) for the sign-in form."""
        nonce = secrets.token_urlsafe(32)
        return nonce, self._signin.dumps(nonce)

    def signin_token_ok(self, cookie: str | None, submitted: str | None) -> bool:
        if not cookie or not submitted:
            return False
        try:
            nonce = self._signin.loads(cookie, max_age=SIGNIN_TOKEN_SECONDS)
        except BadSignature:
            return False
        return hmac.compare_digest(str(nonce).encode(), str(submitted).encode())


def current_identity(store: GovernanceStore, name: str) -> Identity | None:
    """``name``'s identity with its roles as they are now; None when the user was disabled or removed."""
    with store.engine.begin() as conn:
        disabled = conn.execute(select(users.c.disabled).where(users.c.name == name)).scalar_one_or_none()
    if disabled is None or disabled:
        return None
    try:
        return get_identity(store, name)
    except IdentityError:
        return None
