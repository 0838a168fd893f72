"""Tables read from a database through SQLAlchemy: the real PostgreSQL on the machine.

Each test writes its tables into a schema of its own and drops it afterwards.
"""

from __future__ import annotations

import uuid

import pandas as pd
import pytest
import yaml

from creditml.config import load_dataset_config
from creditml.data import load_dataset, validate_dataset
from creditml.data.reading import engine_url
from creditml.errors import ConfigError
from tests.data.test_validation import _config, _tables

URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def schema():
    sqlalchemy = pytest.importorskip("sqlalchemy")
    engine = sqlalchemy.create_engine(engine_url(URL))
    try:
        with engine.connect():
            pass
    except sqlalchemy.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {URL} is not reachable: {exc}")
    name = f"creditml_test_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{name}"'))
    try:
        for table, frame in _tables().items():
            frame.to_sql(table, engine, schema=name, index=False)
        yield name
    finally:
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text(f'DROP SCHEMA "{name}" CASCADE'))
        engine.dispose()


def _write(tmp_path, config: dict):
    path = tmp_path / "dataset.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _from_database(db_schema: str, **loans_source) -> dict:
    config = _config()
    for name in ("customers", "loans"):
        del config["tables"][name]["file"]
        config["tables"][name]["source"] = {"url": URL, "table": name, "schema": db_schema}
    if loans_source:
        config["tables"]["loans"]["source"] = {"url": URL, **loans_source}
    return config


def test_tables_read_from_postgresql(tmp_path, schema):
    ds = load_dataset(_write(tmp_path, _from_database(schema)))
    loans = ds.table("loans")
    assert loans["loan_id"].tolist() == [10, 11, 12, 13]
    assert pd.api.types.is_datetime64_any_dtype(loans["disbursed_at"])
    assert loans["days_before"].tolist()[:1] == [pd.Timestamp("2023-12-22")]
    assert ds.table("customers")["income"].isna().sum() == 1


def test_a_table_read_from_a_query(tmp_path, schema):
    query = f'SELECT * FROM "{schema}".loans WHERE principal >= 600'
    config = _from_database(schema, query=query)
    ds = load_dataset(_write(tmp_path, config))
    assert ds.table("loans")["loan_id"].tolist() == [11, 12, 13]


def test_a_missing_database_table_names_the_table_and_what_to_check(tmp_path, schema):
    config = _from_database(schema, table="loans_2024", schema=schema)
    config["tables"]["loans"]["source"]["url"] = "postgresql://postgres:secret@127.0.0.1:5432/test"
    (problem,) = validate_dataset(load_dataset_config(_write(tmp_path, config))).problems
    assert problem.startswith("table 'loans': cannot read table 'loans_2024' from "
                              "postgresql://postgres:***@127.0.0.1:5432/test: ")
    assert problem.endswith("; check tables.loans.source (url, table or query) and that the database is reachable")
    assert "secret" not in problem


def test_source_needs_a_table_or_a_query(tmp_path):
    config = _config()
    del config["tables"]["loans"]["file"]
    config["tables"]["loans"]["source"] = {"url": URL}
    with pytest.raises(ConfigError, match=r"tables\.loans\.source: Value error, declare exactly one of table: NAME "
                                          r"or query: SQL"):
        load_dataset_config(_write(tmp_path, config))
