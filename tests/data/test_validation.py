"""Every broken data contract gets a precise message naming table, column, count and examples."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from creditml.cli import app
from creditml.config import load_dataset_config
from creditml.data import load_dataset, validate_dataset
from creditml.errors import ConfigError, DataContractError

HOME_CREDIT = Path(__file__).resolve().parents[2] / "configs" / "datasets" / "home_credit.yaml"


def _config() -> dict:
    return {
        "name": "tiny",
        "time_anchor": "2024-01-01",
        "tables": {
            "customers": {
                "file": "customers.csv",
                "primary_key": "customer_id",
                "time_index": "created_at",
                "columns": {"customer_id": "id", "created_at": "datetime", "income": "numeric",
                            "region": "categorical"},
            },
            "loans": {
                "file": "loans.csv",
                "primary_key": "loan_id",
                "time_index": "disbursed_at",
                "columns": {"loan_id": "id", "customer_id": "id", "disbursed_at": "datetime",
                            "principal": "numeric", "bad": "numeric",
                            "days_before": {"type": "datetime", "offset_unit": "days"}},
                "foreign_keys": [{"column": "customer_id", "references": "customers"}],
            },
        },
        "labels": {"bad": {"table": "loans", "column": "bad"}},
    }


def _tables() -> dict[str, pd.DataFrame]:
    customers = pd.DataFrame({
        "customer_id": [1, 2, 3],
        "created_at": ["2023-01-01", "2023-02-01", "2023-03-01"],
        "income": [1000.0, 2000.5, None],
        "region": ["north", "south", "north"],
    })
    loans = pd.DataFrame({
        "loan_id": [10, 11, 12, 13],
        "customer_id": [1, 1, 2, 3],
        "disbursed_at": ["2023-05-01", "2023-06-01", "2023-07-01", "2023-08-01"],
        "principal": [500, 600, 700, 800],
        "bad": [0, 1, 0, 0],
        "days_before": [-10, -20, -30, 0],
    })
    return {"customers": customers, "loans": loans}


def write_world(folder: Path, config: dict | None = None, tables: dict | None = None, bom: bool = False) -> Path:
    for name, frame in (tables or _tables()).items():
        frame.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8-sig" if bom else "utf-8")
    path = folder / "dataset.yaml"
    path.write_text(yaml.safe_dump(config or _config()))
    return path


def problems_of(path: Path) -> list[str]:
    return validate_dataset(load_dataset_config(path)).problems


def test_valid_world_loads_with_types(tmp_path):
    ds = load_dataset(write_world(tmp_path, bom=True))
    loans = ds.table("loans")
    assert pd.api.types.is_datetime64_any_dtype(loans["disbursed_at"])
    # offsets count from the anchor
    assert loans["days_before"].tolist()[:2] == [pd.Timestamp("2023-12-22"), pd.Timestamp("2023-12-12")]
    assert ds.table("customers")["income"].isna().sum() == 1


def test_missing_file(tmp_path):
    path = write_world(tmp_path)
    (tmp_path / "loans.csv").unlink()
    (problem,) = problems_of(path)
    assert "table 'loans'" in problem and "loans.csv' does not exist" in problem and "tables.loans.file" in problem


def test_missing_column_suggests_the_closest(tmp_path):
    tables = _tables()
    tables["loans"] = tables["loans"].rename(columns={"principal": "principle"})
    (problem,) = problems_of(write_world(tmp_path, tables=tables))
    assert problem.startswith("table 'loans': column 'principal' is declared but not in loans.csv")
    assert "did you mean 'principle'?" in problem


def test_unparseable_numbers_and_dates_are_counted_with_examples(tmp_path):
    tables = _tables()
    tables["loans"]["principal"] = ["500", "six hundred", "700", "?"]
    tables["customers"]["created_at"] = ["2023-01-01", "yesterday", "2023-03-01"]
    problems = problems_of(write_world(tmp_path, tables=tables))
    assert any(p.startswith("table 'loans', column 'principal': 2 value(s) are not numbers, e.g. 'six hundred', '?'")
               for p in problems), problems
    assert any("table 'customers', column 'created_at': 1 value(s) are not dates (expected ISO 8601" in p and "e.g. 'yesterday'" in p
               for p in problems), problems


def test_duplicate_and_missing_primary_keys(tmp_path):
    tables = _tables()
    tables["loans"]["loan_id"] = [10, 10, None, 13]
    problems = problems_of(write_world(tmp_path, tables=tables))
    assert any("primary key 'loan_id': 1 row(s) have no key" in p for p in problems), problems
    assert any("primary key 'loan_id': 1 key(s) appear more than once (2 rows), e.g. 10;" in p
               for p in problems), problems


def test_orphans_are_an_error_by_default(tmp_path):
    tables = _tables()
    tables["loans"]["customer_id"] = [1, 7, 8, 3]
    (problem,) = problems_of(write_world(tmp_path, tables=tables))
    assert problem == ("table 'loans', foreign key 'customer_id' -> 'customers': 2 of 4 rows (50.0%) point at keys "
                       "that do not exist, e.g. 7, 8; either fix the export (is 'customers' complete?) or set "
                       "on_orphan: drop on this foreign key to drop them with a count")


def test_orphans_dropped_with_a_count_when_configured(tmp_path):
    tables = _tables()
    tables["loans"]["customer_id"] = [1, 7, 8, 3]
    config = _config()
    config["tables"]["loans"]["foreign_keys"][0]["on_orphan"] = "drop"
    ds = load_dataset(write_world(tmp_path, config=config, tables=tables))
    assert ds.table("loans")["loan_id"].tolist() == [10, 13]
    assert "table 'loans': dropped 2 orphan row(s) whose 'customer_id' is not a key of 'customers'" in ds.notes[0]


def test_label_must_be_zero_or_one(tmp_path):
    tables = _tables()
    tables["loans"]["bad"] = [0, 2, 1, -1]
    (problem,) = problems_of(write_world(tmp_path, tables=tables))
    assert problem.startswith("label 'bad' (table 'loans', column 'bad'): 2 value(s) are not 0 or 1, e.g. 2, -1 "
                              "at keys 11, 13")


def test_empty_table(tmp_path):
    tables = _tables()
    tables["customers"] = tables["customers"].iloc[:0]
    problems = problems_of(write_world(tmp_path, tables=tables))
    assert "customers.csv' has no rows; every table needs data" in problems[0]


def test_all_problems_reported_together_and_load_raises(tmp_path):
    tables = _tables()
    tables["loans"]["bad"] = [0, 5, 1, 0]
    tables["customers"]["customer_id"] = [1, 1, 2]  # a duplicate, and customer 3 is gone: an orphan
    path = write_world(tmp_path, tables=tables)
    with pytest.raises(DataContractError, match=r"dataset 'tiny': 3 data contract problem\(s\)") as info:
        load_dataset(path)
    assert [p.split(":")[0] for p in info.value.problems] == [
        "table 'customers', primary key 'customer_id'",
        "table 'loans', foreign key 'customer_id' -> 'customers'",
        "label 'bad' (table 'loans', column 'bad')",
    ]


def test_config_unknown_key_names_its_path(tmp_path):
    config = _config()
    config["tables"]["loans"]["primary_kee"] = "loan_id"
    with pytest.raises(ConfigError, match=r"tables\.loans\.primary_kee: unknown key; remove it or check its spelling"):
        load_dataset_config(write_world(tmp_path, config=config))


def test_config_undeclared_key_column_and_unknown_reference(tmp_path):
    config = _config()
    config["tables"]["loans"]["time_index"] = "funded_at"
    config["tables"]["loans"]["foreign_keys"][0]["references"] = "clients"
    with pytest.raises(ConfigError) as info:
        load_dataset_config(write_world(tmp_path, config=config))
    message = str(info.value)
    assert "tables.loans.time_index: column 'funded_at' is not declared under tables.loans.columns" in message
    assert "references table 'clients', which is not declared (tables: customers, loans)" in message


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"dataset config file '.*nope.yaml' does not exist"):
        load_dataset_config(tmp_path / "nope.yaml")


def test_cli_validate_exits_2_with_every_problem(tmp_path):
    tables = _tables()
    tables["loans"]["customer_id"] = [1, 9, 2, 3]
    tables["loans"]["bad"] = [0, 1, 3, 0]
    result = CliRunner().invoke(app, ["validate", str(write_world(tmp_path, tables=tables))])
    assert result.exit_code == 2
    out = result.output
    assert "2 data contract problem(s)" in out
    assert "foreign key 'customer_id' -> 'customers': 1 of 4 rows (25.0%)" in out and "label 'bad'" in out


def test_cli_validate_ok_prints_a_summary(tmp_path):
    result = CliRunner().invoke(app, ["validate", str(write_world(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "customers" in result.output


def test_home_credit_sample_validates_with_orphans_dropped(samples):
    report = validate_dataset(load_dataset_config(HOME_CREDIT))
    assert report.problems == []
    assert "table 'bureau': dropped 649 orphan row(s)" in " ".join(report.notes)
    assert "table 'previous_application': dropped 496 orphan row(s)" in " ".join(report.notes)
    app_table = report.tables["application"]
    assert len(app_table) == 1000 and app_table["DEFAULTED"].sum() == 70
    # relative offsets became real timestamps before the anchor
    assert (report.tables["bureau"]["DAYS_CREDIT"] <= pd.Timestamp("2018-05-17")).all()


def test_late_known_value_without_its_time(tmp_path):
    config = _config()
    config["tables"]["loans"]["columns"]["repaid"] = "numeric"
    config["tables"]["loans"]["columns"]["repaid_at"] = "datetime"
    config["tables"]["loans"]["secondary_time_index"] = {"repaid_at": ["repaid"]}
    tables = _tables()
    tables["loans"]["repaid"] = [100, 200, None, 50]
    tables["loans"]["repaid_at"] = ["2023-06-01", None, None, "2023-09-01"]
    (problem,) = problems_of(write_world(tmp_path, config=config, tables=tables))
    assert problem.startswith("table 'loans', column 'repaid': 1 row(s) have a value but no 'repaid_at' "
                              "(when it became known), e.g. keys 11")


def test_readme_example_declares_only_keys_that_exist(tmp_path):
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Declaring your own data", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "dataset.yaml").write_text(example)
    cfg = load_dataset_config(tmp_path / "dataset.yaml")
    assert cfg.tables["scores"].time_index == "_snapshot_at" and cfg.tables["brokers"].static
    assert cfg.tables["installments"].source.db_schema == "lending"
    assert cfg.tables["loans"].csv.delimiter == ";" and cfg.labels["bad_status"].positive == ["D", "2"]
