"""One contract suite, two backends: every test taking ``store`` runs on SQLite (a file
per test) and on PostgreSQL (a schema per test in database ``test``, dropped after)."""

from __future__ import annotations

import os
import uuid

import pytest

from sqlalchemy import create_engine, text

from tests.services import require_postgres

from creditml.governance import Identity, Ledger, SigningKey, connect

PG_URL = os.environ.get("CREDITML_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        governance = connect(f"sqlite:///{tmp_path / 'governance.db'}")
        yield governance
        governance.dispose()
        return
    require_postgres()
    schema = f"gov_test_{uuid.uuid4().hex[:12]}"
    governance = connect(PG_URL, schema=schema)
    try:
        yield governance
    finally:
        governance.dispose()
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture
def ledger(store, signing_key) -> Ledger:
    return Ledger(store, signing_key=signing_key)


@pytest.fixture
def people() -> dict[str, Identity]:
    return {
        "dana": Identity("dana", frozenset({"data_scientist"})),  # trains
        "rita": Identity("rita", frozenset({"reviewer"})),
        "alice": Identity("alice", frozenset({"approver"})),
        "bob": Identity("bob", frozenset({"approver", "reviewer"})),
        "ci": Identity("ci", frozenset({"service"})),
    }
