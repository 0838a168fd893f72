"""The link store gives a fraud model the same graph features online as offline.

Offline: graph features of every fraud instance from the full dataset. Online: a store
seeded with the history before a point in time, then fed the remaining applications
and fraud confirmations as events in time order; each fraud instance is computed from
its own row and sightings plus what the store returns. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import subprocess
import uuid

import numpy as np
import pandas as pd
import pytest

from tests.services import require_postgres
import sqlalchemy as sa

from creditml.config import GraphSettings, TaskSpec
from creditml.data import Dataset, load_dataset
from creditml.features.graph import graph_features, graph_kinds
from creditml.features.inputs import graph_inputs
from creditml.serving.linkstore import LinkStore
from creditml.model.records import frame_rows, tables_from_records
from creditml.tasks import TaskInstances, build_instances

GRAPH = GraphSettings(table="application_identifiers", instance_column="application_id", value_column="value_hash",
                      kind_column="kind", time_column="seen_at", customer_column="customer_id", label="fraud")
TASK = TaskSpec(name="intermediary_fraud", target="applications", cutoff="applied_at", label="fraud",
                maturity_days=180, kind="fraud", require_not_null=["intermediary_id"])
PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
LABEL_COLUMNS = ("fraud_confirmed", "fraud_confirmed_at", "fraud_label_known_at")


def _postgres_url() -> str:
    require_postgres()
    return PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'linkstore.db'}"
        return
    url = _postgres_url()
    schema = f"linkstore_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    yield f"{url}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="module")
def fraud_world(small_world):
    dataset = load_dataset(small_world)
    instances = build_instances(dataset, TASK)
    links, inst, applications, confirmations = graph_inputs(dataset, TASK.target, GRAPH, instances.cutoff_time)
    kinds = graph_kinds(links, GRAPH)
    offline = graph_features(links, inst, applications, GRAPH, confirmations, kinds=kinds)
    return dataset, instances, kinds, offline


def _online_features(store: LinkStore, dataset: Dataset, record: dict, cutoff, kinds) -> pd.Series:
    record = store.with_context(record, cutoff)
    tables = tables_from_records(dataset.config, TASK.target, [record])
    pk = "application_id"
    inst = pd.DataFrame({pk: [record["instance"][pk]], "time": [pd.Timestamp(cutoff)]})
    links, frame, applications, confirmations = graph_inputs(Dataset(dataset.config, tables), TASK.target, GRAPH, inst)
    return graph_features(links, frame, applications, GRAPH, confirmations, kinds=kinds).iloc[0]


def test_online_graph_features_equal_offline(store_url, fraud_world):
    dataset, instances, kinds, offline = fraud_world
    apps = dataset.tables["applications"].sort_values(["applied_at", "application_id"], kind="stable")
    times = instances.times.sort_values(kind="stable")
    split_at, last = times.iloc[-20], times.iloc[-1]  # the last 20 fraud instances are scored online
    store = LinkStore(store_url).bind(dataset.config, GRAPH, TASK.target)
    store.load_from_dataset(dataset, until=split_at)  # history as extracted: confirmations known so far included

    links = dataset.tables["application_identifiers"]
    own = {k: frame_rows(g) for k, g in links.groupby("application_id")}
    later = apps[(apps["applied_at"] > split_at) & (apps["applied_at"] <= last)]
    # events after the split: applications arrive with blank labels, confirmations arrive when known
    events = [(t, 0, row) for t, row in zip(later["applied_at"], frame_rows(later))]
    confirmed = apps[(apps["fraud_confirmed"] == 1) & apps["fraud_label_known_at"].notna()]
    events += [(t, 1, i) for t, i in zip(confirmed["fraud_label_known_at"], confirmed["application_id"])
               if split_at < t <= last]
    events.sort(key=lambda e: (e[0], e[1]))
    fraud_ids = set(instances.labels.index)
    cutoffs = instances.times
    compared = 0
    for _, kind, payload in events:
        if kind == 1:
            store.confirm(payload, dataset.tables["applications"].set_index("application_id")
                          .at[payload, "fraud_label_known_at"])
            continue
        row = {k: (None if k in LABEL_COLUMNS else v) for k, v in payload.items()}
        row["fraud_confirmed"] = 0
        record = {"instance": row, "related": {"application_identifiers": own.get(row["application_id"], [])}}
        app_id = row["application_id"]
        if app_id in fraud_ids:
            got = _online_features(store, dataset, record, cutoffs[app_id], kinds)
            want = offline.loc[app_id]
            np.testing.assert_allclose(got[want.index].to_numpy(float), want.to_numpy(float), rtol=0, atol=1e-9,
                                       err_msg=f"application {app_id}")
            compared += 1
        store.observe(record)
    assert compared >= 15, f"only {compared} fraud instances after the split"
    store.close()
