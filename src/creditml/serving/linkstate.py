"""Whether the link store holds usable history: ``/health`` reports it, the server logs it.

* ``empty``: no application at all (never seeded with ``creditml links-load``, or the wrong URL);
* ``stale``: the newest identifier sighting is older than ``max_age_days``
  (``--link-store-max-age``, ``CREDITML_LINKSTORE_MAX_AGE_DAYS``, default 7). Applications
  enter the store with their sightings, so the newest sighting dates the newest application
  the store has seen; it is an indexed column, cheap enough for every health check;
* ``unreadable``: the database did not answer;
* ``ok`` otherwise.

Graph features of a fraud request read the identifier group from the store, so with an
empty or stale store they see only what the request carries: scores still come back, but
miss the rings they exist to find.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from creditml.errors import CreditmlError
from creditml.serving.linkstore import APPLICATIONS, SIGHTINGS, LinkStore

MAX_AGE_ENV = "CREDITML_LINKSTORE_MAX_AGE_DAYS"
DEFAULT_MAX_AGE_DAYS = 7.0
OK, EMPTY, STALE, UNREADABLE = "ok", "empty", "stale", "unreadable"


@dataclass(frozen=True)
class LinkStoreState:
    state: str
    newest_sighting: str | None
    max_age_days: float
    message: str = ""


def max_age_from_env() -> float:
    raw = os.environ.get(MAX_AGE_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_AGE_DAYS
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise CreditmlError(f"{MAX_AGE_ENV}={raw!r}: expected a number of days above 0 (the newest sighting may be "
                            "this old before the link store is reported stale)")
    return value


def link_store_state(store: LinkStore, max_age_days: float, now: datetime | None = None) -> LinkStoreState:
    """The store's state as of ``now`` (default: the current UTC time, naive like the data)."""
    now = now or datetime.now(timezone.utc).replace(tzinfo=None)
    where = make_url(store.url).render_as_string(hide_password=True)
    try:
        with store.engine.connect() as conn:
            has_applications = conn.execute(sa.select(APPLICATIONS.c.instance_key).limit(1)).first() is not None
            newest = conn.execute(sa.select(sa.func.max(SIGHTINGS.c.seen_at))).scalar()
    except sa.exc.SQLAlchemyError as exc:
        return LinkStoreState(UNREADABLE, None, max_age_days,
                              f"the link store {where} could not be read ({type(exc).__name__}); fraud graph "
                              "features see only the identifiers each request carries")
    stamp = newest.isoformat() if newest is not None else None
    if not has_applications:
        return LinkStoreState(EMPTY, stamp, max_age_days,
                              f"the link store {where} holds no application: fraud graph features see only the "
                              "identifiers each request carries; seed it with 'creditml links-load PIPELINE "
                              "--dataset DATASET --url URL'")
    if newest is None or (now - newest).total_seconds() > max_age_days * 86400:
        found = "no identifier sighting" if newest is None else (
            f"its newest identifier sighting is from {stamp}, {(now - newest).total_seconds() / 86400:.0f} days ago")
        return LinkStoreState(STALE, stamp, max_age_days,
                              f"the link store {where} is stale: {found}, older than {max_age_days:g} days "
                              "(--link-store-max-age); fraud graph features miss what happened since; load recent "
                              "history with 'creditml links-load', and check that fraud applications are scored "
                              "with a service token (scorer calls do not add them)")
    return LinkStoreState(OK, stamp, max_age_days)
