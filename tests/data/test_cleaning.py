"""Declared cleaning, each step counted: exact duplicates, orphans, label values; null foreign keys."""

from __future__ import annotations

import featuretools as ft
import pandas as pd
import pytest

from creditml.config import TaskSpec, load_dataset_config
from creditml.data import CleaningStep, load_dataset, validate_dataset
from creditml.errors import ConfigError
from creditml.features.compute import compute_matrix
from creditml.features.entityset import build_entityset
from creditml.tasks import build_instances
from tests.data.test_validation import _config, _tables, write_world


def _problems(path) -> list[str]:
    return validate_dataset(load_dataset_config(path)).problems


def _duplicated_customers(differing: bool = False) -> dict:
    tables = _tables()
    customers = tables["customers"]
    extra = customers.iloc[[0, 0, 2]].copy()
    if differing:
        extra.iloc[2, extra.columns.get_loc("income")] = 999.0
    tables["customers"] = pd.concat([customers, extra], ignore_index=True)
    return tables


def test_exact_duplicates_are_an_error_that_suggests_drop_exact(tmp_path):
    (problem,) = _problems(write_world(tmp_path, tables=_duplicated_customers()))
    assert problem == (
        "table 'customers', primary key 'customer_id': 2 key(s) appear more than once (5 rows), e.g. 1, 3; keys must "
        "be unique: remove the duplicates or declare the right key column; 3 of these rows are exact copies of "
        "another row: on_duplicate: drop_exact on tables.customers drops exact copies with a count")


def test_drop_exact_drops_copies_with_a_count(tmp_path):
    config = _config()
    config["tables"]["customers"]["on_duplicate"] = "drop_exact"
    ds = load_dataset(write_world(tmp_path, config=config, tables=_duplicated_customers()))
    assert ds.table("customers")["customer_id"].tolist() == [1, 2, 3]
    assert ds.cleaning == [CleaningStep("customers", "drop_exact_duplicates", 3,
                                        "3 of 6 rows (50.0%) were exact copies of an earlier row")]


def test_drop_exact_keeps_rows_that_differ_under_one_key_as_an_error(tmp_path):
    config = _config()
    config["tables"]["customers"]["on_duplicate"] = "drop_exact"
    (problem,) = _problems(write_world(tmp_path, config=config, tables=_duplicated_customers(differing=True)))
    assert problem == (
        "table 'customers', primary key 'customer_id': 1 key(s) appear more than once (2 rows), e.g. 3; they differ "
        "in other columns, so on_duplicate: drop_exact keeps them; decide which row is right in the export, or "
        "declare the right key column")


def test_dropped_orphans_are_counted_with_their_share(tmp_path):
    tables = _tables()
    tables["loans"]["customer_id"] = [1, 7, 8, 3]
    config = _config()
    config["tables"]["loans"]["foreign_keys"][0]["on_orphan"] = "drop"
    ds = load_dataset(write_world(tmp_path, config=config, tables=tables))
    assert ds.cleaning == [CleaningStep("loans", "drop_orphans", 2,
                                        "2 of 4 rows (50.0%): 'customer_id' is not a key of 'customers'")]


def _labelled(tmp_path, values, **label) -> object:
    config = _config()
    config["tables"]["loans"]["columns"]["bad"] = "categorical"
    config["labels"]["bad"].update(label)
    tables = _tables()
    tables["loans"]["bad"] = values
    return write_world(tmp_path, config=config, tables=tables)


def test_label_values_mapped_to_one_and_zero(tmp_path):
    ds = load_dataset(_labelled(tmp_path, ["Good", "Bad", "Good", "2"], positive=["Bad", 2]))
    assert ds.table("loans")["bad"].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert ds.cleaning == [CleaningStep("loans", "map_label", 4, "label 'bad': 2 row(s) ['2', 'Bad'] -> 1, 2 row(s) -> 0")]
    task = TaskSpec(name="t", target="loans", cutoff="disbursed_at", label="bad")
    assert build_instances(ds, task).labels.tolist() == [0, 1, 0, 1]


def test_status_codes_with_a_negative_list(tmp_path):
    path = _labelled(tmp_path, ["A", "B", "C", "D"], positive=["B", "D"], negative=["A", "C"])
    assert load_dataset(path).table("loans")["bad"].tolist() == [0.0, 1.0, 0.0, 1.0]


def test_unmapped_label_value_is_named(tmp_path):
    (problem,) = _problems(_labelled(tmp_path, ["A", "B", "C", "X"], positive=["B"], negative=["A", "C"]))
    assert problem == (
        "label 'bad' (table 'loans', column 'bad'): 1 value(s) are neither positive nor negative, e.g. 'X'; add them "
        "to labels.bad.positive or labels.bad.negative (or drop negative: so that every value not positive means 0)")


def test_a_label_that_is_not_zero_or_one_suggests_positive(tmp_path):
    (problem,) = _problems(_labelled(tmp_path, ["Good", "Bad", "Good", "Good"]))
    assert problem == (
        "label 'bad' (table 'loans', column 'bad'): 4 value(s) are not 0 or 1, e.g. 'Good', 'Bad' at keys 10, 11, "
        "12, 13; a label must be 0 or 1: declare the values that mean 1 with labels.bad.positive: [Good, Bad] "
        "(every other value then means 0; add negative: [...] to list those too)")


def test_label_mapping_declaration_is_checked(tmp_path):
    with pytest.raises(ConfigError, match=r"labels\.bad: Value error, \['Bad'\] listed both as positive and negative"):
        load_dataset_config(_labelled(tmp_path, ["Good"] * 4, positive=["Bad"], negative=["Bad"]))
    with pytest.raises(ConfigError, match=r"negative: needs positive: too"):
        load_dataset_config(_labelled(tmp_path, ["Good"] * 4, negative=["Good"]))


def _null_broker_world(tmp_path, nullable: bool):
    config = _config()
    config["tables"]["brokers"] = {"file": "brokers.csv", "primary_key": "broker_id", "time_index": "registered_at",
                                   "columns": {"broker_id": "id", "registered_at": "datetime", "fee": "numeric"}}
    config["tables"]["loans"]["columns"]["broker_id"] = "id"
    config["tables"]["loans"]["foreign_keys"].append({"column": "broker_id", "references": "brokers",
                                                      "nullable": nullable})
    tables = _tables()
    tables["brokers"] = pd.DataFrame({"broker_id": [100, 101], "registered_at": ["2022-01-01", "2022-02-01"],
                                      "fee": [0.01, 0.02]})
    tables["loans"]["broker_id"] = [100, None, None, 101]
    return write_world(tmp_path, config=config, tables=tables)


def test_null_foreign_key_is_an_error_unless_nullable(tmp_path):
    (problem,) = _problems(_null_broker_world(tmp_path, nullable=False))
    assert problem == (
        "table 'loans', foreign key 'broker_id' -> 'brokers': 2 of 4 rows (50.0%) have no value, e.g. keys 11, 12; "
        "every row needs its parent: fill the column, or declare nullable: true on this foreign key if a row may "
        "have no 'brokers' row")


@pytest.mark.parametrize("engine", ["featuretools", "fast"])
def test_nullable_integer_foreign_key_rows_have_no_parent_in_the_entityset(tmp_path, engine):
    ds = load_dataset(_null_broker_world(tmp_path, nullable=True))
    es = build_entityset(ds)  # woodwork refused an integer key with gaps under an integer parent key
    fee = ft.Feature(es["brokers"].ww["fee"], "loans")
    brokered = ft.Feature(es["loans"].ww["principal"], parent_dataframe_name="brokers", primitive=ft.primitives.Sum)
    cutoff = pd.DataFrame({"loan_id": [10, 11, 13], "time": pd.to_datetime(["2024-01-01"] * 3)})
    matrix = compute_matrix([fee, ft.Feature(brokered, "loans")], es, cutoff, engine)
    assert matrix["brokers.fee"].tolist()[0] == 0.01 and matrix["brokers.fee"].tolist()[2] == 0.02
    assert pd.isna(matrix["brokers.fee"].tolist()[1])
    assert matrix["brokers.SUM(loans.principal)"].tolist()[0] == 500


def test_cli_validate_prints_each_cleaning_step_with_its_count(tmp_path):
    from typer.testing import CliRunner

    from creditml.cli import app

    tables = _tables()
    tables["loans"]["customer_id"] = [1, 7, 8, 3]
    config = _config()
    config["tables"]["loans"]["foreign_keys"][0]["on_orphan"] = "drop"
    result = CliRunner().invoke(app, ["validate", str(write_world(tmp_path, config=config, tables=tables))])
    assert result.exit_code == 0, result.output
    assert ("cleaned: loans: drop_orphans, 2 row(s): 2 of 4 rows (50.0%): 'customer_id' is not a key of 'customers'"
            in result.output)
