"""Who may call the scoring server: bearer tokens of governance identities, checked on every request.

Every path but ``/health`` (the docs and the OpenAPI spec included, and paths that do not
exist) needs ``Authorization: Bearer <token>``, a token from ``creditml users token NAME``
verified against the governance identity store. What each role may do:

============  ============================================================================
``scorer``    score (what-if calls: the link store is read, never written); models, schema, docs
``service``   score, and each scored application is added to the fraud link store; models, schema, docs
``admin``     reload the champions (``POST /v1/admin/reload``); models, schema, docs; no scoring
============  ============================================================================

A missing, malformed, unknown or revoked token is 401 with ``WWW-Authenticate: Bearer``;
a valid token without the role is 403 naming the role. Verified tokens are cached in
memory for ``cache_seconds`` (``CREDITML_TOKEN_CACHE_SECONDS``, default 30): a revoked
token, a disabled user or a removed role takes effect within that time. Tokens are never
logged; only their public id appears in refusals.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from creditml.errors import CreditmlError
from creditml.governance import AuthError, GovernanceStore, Identity, authenticate_token, connect, user_count
from creditml.governance.records import ADMIN, SCORER, SERVICE

log = logging.getLogger("creditml.serving")

SCORE_ROLES = (SCORER, SERVICE)
LINK_WRITE_ROLES = (SERVICE,)  # only these add scored applications to the link store
RELOAD_ROLES = (ADMIN,)
READ_ROLES = (SCORER, SERVICE, ADMIN)  # models, schema, OpenAPI spec and docs: anyone who uses the server
OPEN_PATHS = frozenset({"/health"})

CACHE_ENV = "CREDITML_TOKEN_CACHE_SECONDS"
DEFAULT_CACHE_SECONDS = 30.0
_ISSUE_HINT = ("an admin issues one with 'creditml users token NAME' for a user with role scorer (read-only) or "
               "service (see docs/serving.md, Authentication)")


class AuthSetupError(CreditmlError):
    """The server cannot check tokens (identity store missing, unreadable or empty): it refuses to start."""


class Refused(Exception):
    """A request refused before it reaches an endpoint: 401 (who are you?) or 403 (not with this role)."""

    def __init__(self, status: int, kind: str, message: str, error: str | None = None):
        self.status, self.kind, self.message, self.error = status, kind, message, error
        super().__init__(message)

    def response(self) -> JSONResponse:
        challenge = 'Bearer realm="creditml"' + (f', error="{self.error}"' if self.error else "")
        return JSONResponse(status_code=self.status, headers={"WWW-Authenticate": challenge},
                            content={"detail": [{"loc": ["header", "authorization"], "msg": self.message,
                                                 "type": self.kind}]})


def lacks_role(identity: Identity, roles: tuple[str, ...], doing: str) -> Refused:
    held = ", ".join(sorted(identity.roles)) or "none"
    return Refused(403, "role_required",
                   f"{identity.name} may not {doing}: rule role: expected role {' or '.join(roles)}, found roles: "
                   f"{held}; fix: use the token of a user with role {' or '.join(roles)}, or ask an admin "
                   f"('creditml users add NAME --role {roles[0]}', then 'creditml users token NAME')",
                   error="insufficient_scope")


def may_write_links(identity: Identity) -> bool:
    return any(identity.has(r) for r in LINK_WRITE_ROLES)


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or a 401 saying what to send."""
    if header is None or not header.strip():
        raise Refused(401, "token_missing", f"no API token: send the header 'Authorization: Bearer <token>'; "
                                            f"{_ISSUE_HINT}")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        found = f"scheme {scheme[:20]!r}" if scheme.lower() != "bearer" else "no token after 'Bearer'"
        raise Refused(401, "token_invalid", f"the Authorization header must be 'Bearer <token>', found {found}; "
                                            f"{_ISSUE_HINT}", error="invalid_request")
    return token.strip()


class TokenVerifier:
    """Token -> identity against the governance store, with verified tokens cached for ``cache_seconds``.

    The cache is keyed by the token's SHA-256 (the token itself is not kept), guarded by a
    lock, and bounded: when full, expired entries go first, then the oldest. Refusals are
    not cached: a malformed token costs a regular expression, an unknown one an indexed lookup.
    """

    def __init__(self, store: GovernanceStore, cache_seconds: float = DEFAULT_CACHE_SECONDS,
                 max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        if cache_seconds < 0:
            raise ValueError(f"cache_seconds must be 0 (check every request) or more, got {cache_seconds}")
        self.store, self.cache_seconds, self.max_entries, self._clock = store, cache_seconds, max_entries, clock
        self._cache: dict[str, tuple[Identity, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    def cached(self, token: str) -> Identity | None:
        """The identity of a token verified less than ``cache_seconds`` ago; no I/O."""
        key = self._key(token)
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                return None
            if hit[1] <= self._clock():
                del self._cache[key]
                return None
            return hit[0]

    def verify(self, token: str) -> Identity:
        """The identity holding ``token`` (from the cache or the store); AuthError when refused."""
        identity = self.cached(token)
        if identity is not None:
            return identity
        identity = authenticate_token(self.store, token)
        if self.cache_seconds > 0:
            now = self._clock()
            with self._lock:
                if len(self._cache) >= self.max_entries:
                    for key in [k for k, (_, expires) in self._cache.items() if expires <= now]:
                        del self._cache[key]
                    while len(self._cache) >= self.max_entries:
                        del self._cache[next(iter(self._cache))]
                self._cache[self._key(token)] = (identity, now + self.cache_seconds)
        return identity


class BearerAuth:
    """ASGI middleware: every path but ``OPEN_PATHS`` needs a verified token of a serving role.

    The identity goes to ``request.state.identity``; endpoints ask for their own role
    with :func:`requires`. Sitting in front of routing, it also covers the docs, the spec
    and any endpoint added later.
    """

    def __init__(self, app, verifier: TokenVerifier):
        self.app, self.verifier = app, verifier

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        try:
            identity = await self._identity(Headers(scope=scope).get("authorization"))
            if not any(identity.has(r) for r in READ_ROLES):
                raise lacks_role(identity, READ_ROLES, "use the scoring server")
        except Refused as refused:
            log.info("refused %s %s: %s", scope.get("method"), scope["path"], refused.message)
            await refused.response()(scope, receive, send)
            return
        scope.setdefault("state", {})["identity"] = identity
        await self.app(scope, receive, send)

    async def _identity(self, header: str | None) -> Identity:
        token = bearer_token(header)
        identity = self.verifier.cached(token)
        if identity is not None:
            return identity
        try:  # a database round trip: off the event loop
            return await run_in_threadpool(self.verifier.verify, token)
        except AuthError as exc:
            raise Refused(401, "token_refused", f"the API token was refused: {exc}", error="invalid_token") from None
        except SQLAlchemyError as exc:
            log.error("the identity store could not be read: %s", type(exc).__name__)
            raise Refused(503, "identity_store_unavailable", "the identity store could not be read to check the "
                                                             "token; retry shortly") from None


def requires(roles: tuple[str, ...], doing: str) -> Callable[[Request], Identity]:
    """A FastAPI dependency: the request's identity, or 403 unless it holds one of ``roles``.

    ``doing`` may name path parameters (``"score task {task!r}"``)."""

    async def check(request: Request) -> Identity:  # async: no thread-pool hop for a dictionary lookup
        identity = request.state.identity  # set by BearerAuth, which runs before every route
        if not any(identity.has(r) for r in roles):
            raise lacks_role(identity, roles, doing.format(**request.path_params))
        return identity

    return check


def cache_seconds_from_env() -> float:
    raw = os.environ.get(CACHE_ENV, "").strip()
    if not raw:
        return DEFAULT_CACHE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise AuthSetupError(f"{CACHE_ENV}={raw!r}: expected a number of seconds, 0 or more (0 checks every "
                             "request against the identity store)")
    return value


def open_identity_store(url: str) -> GovernanceStore:
    """The governance store the server checks tokens against; refuses one that is missing, unreadable or empty.

    Never creates it: a server pointed at the wrong place must say so, not start with an
    empty store that refuses every token.
    """
    parsed = make_url(url)
    where = parsed.render_as_string(hide_password=True)
    fix = ("fix: point MLFLOW_TRACKING_URI at the tracking store whose governance database holds the users "
           "(or set CREDITML_GOVERNANCE_URL), or create the first admin with 'creditml users init-admin NAME'")
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:" or not Path(path).is_file():
            raise AuthSetupError(f"the identity store {where} does not exist; the server checks every API token "
                                 f"against it and will not start without it; {fix}")
    try:
        store = connect(url, create=False)
        users = user_count(store)
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise AuthSetupError(f"the identity store {where} cannot be read ({type(exc).__name__}: {first}); the "
                             f"server checks every API token against it and will not start without it; {fix}") from None
    if users == 0:
        store.dispose()
        raise AuthSetupError(f"the identity store {where} holds no user, so no token could ever be accepted; {fix}")
    return store
