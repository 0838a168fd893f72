"""The identifier history a fraud model's graph features read, kept as applications arrive.

Graph features need more than the scored application's own rows: the sightings of its
connected identifier group as of the cutoff and those applications' rows (see
``records.records_for``). The server holds them in a :class:`LinkStore`:

* ``sightings``: rows of the link table (device, phone, IP ... seen on an application);
* ``applications``: rows of the target table (time, customer, label columns);
* ``confirmations``: when an application became a known positive (fraud confirmed).

``group_context`` answers "which rows would ``records_for`` add for this instance?" from
the store plus the request's own sightings, with exactly the walk of
``records.identifier_component``; ``observe`` adds a scored application afterwards.

Backends: any SQLAlchemy URL; the embedded default is SQLite at ``mlruns/linkstore.db``,
PostgreSQL (``postgresql://user@host/db``) for several server processes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Iterable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from creditml.config import DatasetConfig, GraphSettings
from creditml.model.records import frame_rows

DEFAULT_URL = "sqlite:///mlruns/linkstore.db"
_UPSERTS = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}
_CHUNK = 500

_meta = sa.MetaData()
SIGHTINGS = sa.Table(
    "creditml_link_sightings", _meta,
    sa.Column("row_key", sa.String(200), primary_key=True),
    sa.Column("instance_key", sa.String(200), nullable=False, index=True),
    sa.Column("value", sa.String(500), nullable=False, index=True),
    sa.Column("seen_at", sa.DateTime, index=True),
    sa.Column("row", sa.Text, nullable=False),
)
APPLICATIONS = sa.Table(
    "creditml_link_applications", _meta,
    sa.Column("instance_key", sa.String(200), primary_key=True),
    sa.Column("row", sa.Text, nullable=False),
)
CONFIRMATIONS = sa.Table(
    "creditml_link_confirmations", _meta,
    sa.Column("instance_key", sa.String(200), primary_key=True),
    sa.Column("known_at", sa.DateTime, nullable=False),
)


def _key(value) -> str:
    return str(value.item() if hasattr(value, "item") else value)


def _time(value):
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return None if pd.isna(stamp) else stamp.to_pydatetime()


def _sqlite_pragmas(connection, _record) -> None:
    """Write-ahead logging, so that the server processes' reads never wait for one's write;
    a commit is atomic either way, and with ``synchronous=NORMAL`` a power cut (not a killed
    process) may lose the last sightings, which the next scoring of those applications adds back."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def own_record(record: dict, dataset: DatasetConfig, graph: GraphSettings, target: str) -> dict:
    """The record as a client of a server with a link store sends it: the application's own
    sightings and no rows of its identifier group (the server adds those from the store)."""
    me = _key(record["instance"][dataset.tables[target].primary_key])
    related = dict(record.get("related") or {})
    related[graph.table] = [r for r in related.get(graph.table, [])
                            if r.get(graph.instance_column) is not None and _key(r[graph.instance_column]) == me]
    related.pop(target, None)
    return {**record, "related": related}


def _upsert(conn, table: sa.Table, key: str, values: list[dict]) -> None:
    """Replace the rows with these keys (the last of repeated keys wins): one ``INSERT ... ON
    CONFLICT DO UPDATE`` on SQLite and PostgreSQL, a delete and an insert elsewhere."""
    unique = list({v[key]: v for v in values}.values())
    if not unique:
        return
    dialect = conn.dialect.name
    if dialect in _UPSERTS:
        insert = _UPSERTS[dialect](table)
        replaced = {c.name: insert.excluded[c.name] for c in table.columns if c.name != key}
        statement = insert.on_conflict_do_update(index_elements=[table.c[key]], set_=replaced)
        for chunk in _chunks(unique):
            conn.execute(statement, chunk)
        return
    for chunk in _chunks(unique):
        conn.execute(table.delete().where(table.c[key].in_([v[key] for v in chunk])))
        conn.execute(table.insert(), chunk)


class LinkStore:
    """Identifier sightings, applications and confirmations of one graph declaration."""

    def __init__(self, url: str = DEFAULT_URL, dataset: DatasetConfig | None = None,
                 graph: GraphSettings | None = None, target: str | None = None):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine = sa.create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        _meta.create_all(self.engine)
        self.dataset, self.graph, self.target = dataset, graph, target

    def bind(self, dataset: DatasetConfig, graph: GraphSettings, target: str) -> "LinkStore":
        """The same store read through a model's declaration (table and column names)."""
        bound = copy.copy(self)
        bound.dataset, bound.graph, bound.target = dataset, graph, target
        return bound

    # ------------------------------------------------------------------ names
    @property
    def _link_pk(self) -> str:
        return self.dataset.tables[self.graph.table].primary_key

    @property
    def _target_pk(self) -> str:
        return self.dataset.tables[self.target].primary_key

    @property
    def _label(self):
        if not self.graph.label:
            return None
        label = self.dataset.labels[self.graph.label]
        return label if label.table == self.target else None

    def _require_bound(self) -> None:
        if self.dataset is None or self.graph is None or self.target is None:
            raise RuntimeError("LinkStore is not bound to a dataset declaration; call bind(dataset, graph, target)")

    # ------------------------------------------------------------------ writing
    def _sighting_values(self, rows: list[dict]) -> list[dict]:
        g = self.graph
        return [{"row_key": _key(r[self._link_pk]), "instance_key": _key(r[g.instance_column]),
                 "value": _key(r[g.value_column]), "seen_at": _time(r.get(g.time_column)),
                 "row": json.dumps(r, default=str)}
                for r in rows if r.get(g.value_column) is not None and r.get(g.instance_column) is not None]

    def _application_values(self, rows: list[dict]) -> list[dict]:
        return [{"instance_key": _key(r[self._target_pk]), "row": json.dumps(r, default=str)} for r in rows]

    def add_sightings(self, rows: list[dict]) -> None:
        self._require_bound()
        with self.engine.begin() as conn:
            _upsert(conn, SIGHTINGS, "row_key", self._sighting_values(rows))

    def add_applications(self, rows: list[dict]) -> None:
        self._require_bound()
        with self.engine.begin() as conn:
            _upsert(conn, APPLICATIONS, "instance_key", self._application_values(rows))

    def confirm(self, instance_id, known_at) -> None:
        """Record that ``instance_id`` became a known positive at ``known_at``."""
        with self.engine.begin() as conn:
            _upsert(conn, CONFIRMATIONS, "instance_key",
                    [{"instance_key": _key(instance_id), "known_at": _time(known_at)}])

    def observe(self, record: dict) -> None:
        """Add a scored application (its own row and sightings) to the history, in one transaction."""
        self._require_bound()
        with self.engine.begin() as conn:
            _upsert(conn, SIGHTINGS, "row_key", self._sighting_values(self._own_sightings(record)))
            _upsert(conn, APPLICATIONS, "instance_key", self._application_values([record["instance"]]))

    def load_from_dataset(self, dataset, graph: GraphSettings | None = None, target: str | None = None,
                          until=None) -> int:
        """Seed from a loaded dataset (rows of the link and target tables at or before ``until``)."""
        store = self if graph is None else self.bind(dataset.config, graph, target or self.target)
        g = store.graph
        links = dataset.tables[g.table]
        apps = dataset.tables[store.target]
        if until is not None:
            until = pd.Timestamp(until)
            links = links[links[g.time_column] <= until]
            apps = apps[apps[store.dataset.tables[store.target].time_index] <= until]
        store.add_sightings(frame_rows(links))
        store.add_applications(frame_rows(apps))
        return len(links)

    # ------------------------------------------------------------------ reading
    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for t in (SIGHTINGS, APPLICATIONS, CONFIRMATIONS)}

    def _own_sightings(self, record: dict) -> list[dict]:
        return own_record(record, self.dataset, self.graph, self.target)["related"][self.graph.table]

    def group_context(self, record: dict, cutoff) -> dict[str, list[dict]]:
        """Rows ``records_for`` would add for the record's identifier group as of ``cutoff``.

        Returns ``{link table: sightings, target table: application rows}`` (the instance's
        own row excluded), from the store and the record's own sightings.
        """
        self._require_bound()
        g = self.graph
        cutoff = _time(cutoff)
        me = _key(record["instance"][self._target_pk])
        own = [r for r in self._own_sightings(record)
               if _time(r.get(g.time_column)) is not None and _time(r.get(g.time_column)) <= cutoff]
        own_by_app: dict[str, set] = {}
        own_by_value: dict[str, set] = {}
        for r in own:
            own_by_app.setdefault(me, set()).add(_key(r[g.value_column]))
            own_by_value.setdefault(_key(r[g.value_column]), set()).add(me)

        apps, values, frontier = {me}, set(), {me}
        with self.engine.connect() as conn:
            while frontier:
                found = set().union(*(own_by_app.get(a, set()) for a in frontier))
                for chunk in _chunks(sorted(frontier)):
                    found |= set(conn.execute(sa.select(SIGHTINGS.c.value).where(
                        SIGHTINGS.c.instance_key.in_(chunk), SIGHTINGS.c.seen_at <= cutoff)).scalars())
                new_values = found - values
                if not new_values:
                    break
                values |= new_values
                reached = set().union(*(own_by_value.get(v, set()) for v in new_values))
                for chunk in _chunks(sorted(new_values)):
                    reached |= set(conn.execute(sa.select(SIGHTINGS.c.instance_key).where(
                        SIGHTINGS.c.value.in_(chunk), SIGHTINGS.c.seen_at <= cutoff)).scalars())
                frontier = reached - apps
                apps |= reached
            sightings = {_key(r[self._link_pk]): r for r in own}
            for chunk in _chunks(sorted(values)):
                for row_key, row in conn.execute(sa.select(SIGHTINGS.c.row_key, SIGHTINGS.c.row).where(
                        SIGHTINGS.c.value.in_(chunk), SIGHTINGS.c.seen_at <= cutoff)):
                    sightings.setdefault(row_key, json.loads(row))
            others = sorted(apps - {me})
            app_rows, confirmed = [], {}
            for chunk in _chunks(others):
                app_rows += [json.loads(r) for r in conn.execute(
                    sa.select(APPLICATIONS.c.row).where(APPLICATIONS.c.instance_key.in_(chunk))).scalars()]
                confirmed.update(dict(conn.execute(sa.select(CONFIRMATIONS.c.instance_key, CONFIRMATIONS.c.known_at)
                                                   .where(CONFIRMATIONS.c.instance_key.in_(chunk))).all()))
        label = self._label
        if label is not None and confirmed:
            for row in app_rows:
                known = confirmed.get(_key(row[self._target_pk]))
                if known is not None:
                    row[label.column] = 1
                    if label.known_at:
                        row[label.known_at] = pd.Timestamp(known).isoformat()
        return {g.table: list(sightings.values()), self.target: app_rows}

    def with_context(self, record: dict, cutoff) -> dict:
        """A copy of the record with its identifier group added to ``related``."""
        context = self.group_context(record, cutoff)
        related = {k: list(v) for k, v in (record.get("related") or {}).items()}
        for table, rows in context.items():
            pk = self.dataset.tables[table].primary_key
            have = {_key(r.get(pk)) for r in related.get(table, [])}
            related.setdefault(table, []).extend(r for r in rows if _key(r.get(pk)) not in have)
        return {**record, "related": related}

    def close(self) -> None:
        self.engine.dispose()
