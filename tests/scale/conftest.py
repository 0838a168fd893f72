"""Scale-out fixtures: a real two-process Dask cluster and fresh PostgreSQL databases.

dask[distributed] and psycopg2 are dev dependencies: imported, not skipped when missing.
"""

from __future__ import annotations

import uuid
import warnings

import distributed
import psycopg2
import pytest

from tests.services import require_postgres

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


@pytest.fixture(scope="session")
def dask_cluster():
    """Scheduler and two single-threaded worker processes on loopback; closed after the session."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                           dashboard_address=None, worker_dashboard_address=None)
    try:
        yield cluster
    finally:
        cluster.close(timeout=30)


def _admin():
    require_postgres()
    conn = psycopg2.connect(connect_timeout=5, **PG)
    conn.autocommit = True
    return conn


@pytest.fixture
def postgres_url():
    """A fresh database ``creditml_test_<random>`` as a SQLAlchemy URL; dropped afterwards."""
    name = f"creditml_test_{uuid.uuid4().hex[:12]}"
    conn = _admin()
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+psycopg2://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    finally:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()
