"""Outside services the tests use (PostgreSQL, Debian's chromium): present, started, or a clear refusal.

On a fresh machine without them a test that needs one is skipped with the reason; with
CREDITML_REQUIRE_SERVICES=1 (as ``.ci/run`` sets) it fails instead, so CI can never
skip them silently.
"""

from __future__ import annotations

import os
import subprocess

import pytest

REQUIRE_SERVICES = "CREDITML_REQUIRE_SERVICES"
PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
START_PG = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def unavailable(reason: str) -> None:
    """Fail when the run requires its services, else skip; either way with the reason."""
    if os.environ.get(REQUIRE_SERVICES) == "1":
        pytest.fail(f"{REQUIRE_SERVICES}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _pg_error() -> str | None:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 5})
    try:
        engine.connect().close()
        return None
    except Exception as exc:  # noqa: BLE001 - any driver error means "not reachable"
        return str(exc).splitlines()[0]
    finally:
        engine.dispose()


def require_postgres() -> str:
    """The test database's URL; PostgreSQL is started when it is installed but down."""
    if _pg_error() is None:
        return PG_URL
    subprocess.run(START_PG, shell=True, timeout=60, capture_output=True)
    error = _pg_error()
    if error:
        unavailable(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({error}); start it with {START_PG}")
    return PG_URL


def require_chromium() -> None:
    if not os.path.exists("/usr/bin/chromium"):
        unavailable("/usr/bin/chromium is missing; install it: apt-get update && apt-get install -y chromium")
