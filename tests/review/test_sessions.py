"""Sessions end when they should; forged cookies and tokens are refused; the secret is kept private."""

from __future__ import annotations

import pytest

from creditml.review._sessions import SessionStore
from creditml.review._settings import ReviewError, ReviewSettings, load_or_create_secret


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_idle_and_absolute_expiry_and_sign_out():
    clock = Clock()
    store = SessionStore(b"s" * 64, idle_minutes=30, max_hours=8, clock=clock)
    session, cookie = store.open("rita")
    clock.now += 29 * 60
    assert store.find(cookie) is session  # a request refreshes the idle timer ...
    clock.now += 29 * 60
    assert store.find(cookie) is session
    clock.now += 31 * 60
    assert store.find(cookie) is None  # ... 31 idle minutes end it
    session, cookie = store.open("rita")
    for _ in range(17):  # active all day: still ends 8 hours after sign-in
        clock.now += 29 * 60
        store.find(cookie)
    assert store.find(cookie) is None
    session, cookie = store.open("rita")
    store.close(session)
    assert store.find(cookie) is None


def test_forged_cookies_and_tokens_are_refused():
    store = SessionStore(b"s" * 64)
    other = SessionStore(b"t" * 64)
    session, cookie = store.open("rita")
    _, foreign = other.open("rita")
    assert store.find(foreign) is None and store.find(cookie + "x") is None and store.find(session.sid) is None
    assert store.csrf_ok(session, session.csrf) and not store.csrf_ok(session, "") and not store.csrf_ok(session, None)
    token, signin_cookie = store.signin_token()
    assert store.signin_token_ok(signin_cookie, token)
    assert not store.signin_token_ok(signin_cookie, token + "x") and not store.signin_token_ok(None, token)
    assert not store.signin_token_ok(other.signin_token()[1], token)
    assert store.open("rita")[0].sid != session.sid  # every sign-in gets a new id


def test_the_secret_is_created_private_and_refused_when_exposed(tmp_path):
    path = tmp_path / "gov" / "review-session.secret"
    secret = load_or_create_secret(path)
    assert len(secret) == 64 and path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret(path) == secret
    path.chmod(0o644)
    with pytest.raises(ReviewError, match=r"review session secret .* is readable by others \(mode 0644\), expected "
                                          r"mode 0600: whoever reads it can forge sign-ins; chmod 600"):
        load_or_create_secret(path)
    path.chmod(0o600)
    path.write_text("short")
    with pytest.raises(ReviewError, match=r"holds 5 characters, expected 64 hex digits; delete it and restart"):
        load_or_create_secret(path)


def test_settings_are_checked():
    with pytest.raises(ReviewError, match=r"session_idle_minutes=0, session_max_hours=8: expected at least 1 each"):
        ReviewSettings(session_idle_minutes=0)
