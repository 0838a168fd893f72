"""The governance database: one SQLAlchemy engine, its tables, and how transactions begin.

SQLite (the embedded default) and PostgreSQL (by URL) hold the same tables. On SQLite
every transaction starts with ``BEGIN IMMEDIATE``: it takes the database's write lock
up front, so a read-check-append sequence cannot interleave with another writer. On
PostgreSQL the ledger locks a per-model head row (``SELECT ... FOR UPDATE``) and the
``(model, seq)`` primary key refuses a second row with the same number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import (Boolean, Column, Engine, ForeignKey, Integer, MetaData, String, Table, Text,
                        create_engine, event, text)
from sqlalchemy.engine import make_url

from creditml.governance import settings

metadata = MetaData()
_SCHEMA_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

users = Table(
    "governance_users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", Text, nullable=True),  # argon2id; NULL: token-only (services)
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", String(40), nullable=False),
)

user_roles = Table(
    "governance_user_roles", metadata,
    Column("user_id", Integer, ForeignKey("governance_users.id"), primary_key=True),
    Column("role", String(40), primary_key=True),
)

api_tokens = Table(
    "governance_api_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_id", String(40), nullable=False, unique=True),  # the public prefix, for lookup
    Column("user_id", Integer, ForeignKey("governance_users.id"), nullable=False),
    Column("token_hash", String(64), nullable=False),  # SHA-256 of the whole token
    Column("label", String(200), nullable=False, default=""),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40), nullable=True),
)

ledger_keys = Table(
    "governance_ledger_keys", metadata,
    Column("key_id", String(64), primary_key=True),
    Column("public_key", String(64), nullable=False),  # raw Ed25519 public key, hex
    Column("created_at", String(40), nullable=False),
)

ledger_heads = Table(
    "governance_ledger_heads", metadata,
    Column("model", String(250), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

ledger_entries = Table(
    "governance_ledger_entries", metadata,
    Column("model", String(250), primary_key=True),
    Column("seq", Integer, primary_key=True),  # (model, seq) unique: concurrent appends serialise
    Column("kind", String(20), nullable=False),
    Column("version", String(40), nullable=True),
    Column("actor", String(200), nullable=False),
    Column("at", String(40), nullable=False),
    Column("payload", Text, nullable=False),  # canonical JSON, exactly as hashed
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
)


@dataclass
class GovernanceStore:
    """An engine bound to the governance tables (in ``schema`` on PostgreSQL, if given)."""

    engine: Engine
    url: str = field(repr=False)  # may carry a database password
    schema: str | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_transactions(engine: Engine) -> None:
    # pysqlite's own transaction handling starts transactions lazily and as DEFERRED;
    # take it over so that every transaction holds the write lock from its first statement
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def connect(url: str | None = None, *, schema: str | None = None, create: bool = True) -> GovernanceStore:
    """Open the governance database at ``url`` (default: ``settings.database_url()``).

    ``schema`` (PostgreSQL only) keeps the tables in their own schema, created if missing.
    ``create`` makes any missing table; existing tables and rows are left as they are.
    """
    url = url or settings.database_url()
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        if schema:
            raise ValueError(f"schema={schema!r}: SQLite has no schemas; use a separate database file instead")
        engine = create_engine(url, connect_args={"timeout": 60})
        _sqlite_transactions(engine)
    else:
        if schema and not _SCHEMA_RE.match(schema):
            raise ValueError(f"schema={schema!r} is not a plain identifier; use letters, digits and _ only")
        engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        if schema:
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            engine = engine.execution_options(schema_translate_map={None: schema})
    store = GovernanceStore(engine=engine, url=url, schema=schema)
    if create:
        metadata.create_all(engine)
    return store
