"""Files as lenders export them: delimiters, quotes, encodings, missing markers, number formats, suffixes."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from creditml.config import load_dataset_config
from creditml.data import load_dataset, validate_dataset
from creditml.errors import ConfigError
from tests.data.test_validation import _config, _tables, write_world


def _write_text(folder, name: str, text: str, encoding: str = "utf-8") -> None:
    (folder / name).write_bytes(text.encode(encoding))


def _with_loans_file(tmp_path, file: str, **loans) -> dict:
    config = _config()
    config["tables"]["loans"]["file"] = file
    config["tables"]["loans"].update(loans)
    write_world(tmp_path, config=config)
    return config


SEMICOLON_LOANS = ("loan_id;customer_id;disbursed_at;principal;bad;days_before\n"
                   "10;1;2023-05-01;1.500,50;0;-10\n11;1;2023-06-01;?;1;-20\n"
                   "12;2;2023-07-01;700;0;-30\n13;3;2023-08-01;\"8,5\";0;0\n")


def test_unknown_suffix_without_format_names_the_table_and_the_fix(tmp_path):
    _with_loans_file(tmp_path, "loans.dat")
    with pytest.raises(ConfigError, match=r"tables\.loans: cannot tell how to read 'loans\.dat' from its suffix "
                                          r"'\.dat' \(\.csv, \.tsv, \.txt are text, \.parquet and \.pq are Parquet\); "
                                          r"set tables\.loans\.format: csv for delimited text"):
        load_dataset_config(tmp_path / "dataset.yaml")


def test_wrong_delimiter_is_one_problem_that_names_the_delimiter(tmp_path):
    _with_loans_file(tmp_path, "loans.dat", format="csv")
    _write_text(tmp_path, "loans.dat", SEMICOLON_LOANS)
    problems = validate_dataset(load_dataset_config(tmp_path / "dataset.yaml")).problems
    assert problems == [
        "table 'loans': loans.dat read as one column named 'loan_id;customer_id;disbursed_at;principal;bad;days_before' "
        "with delimiter ',', but the header contains ';': the file looks ';'-separated; "
        "set tables.loans.csv.delimiter: \";\""]


def test_csv_options_read_a_european_export(tmp_path):
    _with_loans_file(tmp_path, "loans.dat", format="text",
                     csv={"delimiter": ";", "decimal": ",", "thousands": ".", "na_values": ["?"],
                          "encoding": "latin-1"})
    _write_text(tmp_path, "loans.dat", SEMICOLON_LOANS.replace("loan_id", "loan_id"), encoding="latin-1")
    loans = load_dataset(tmp_path / "dataset.yaml").table("loans")
    assert loans["principal"].tolist()[:1] == [1500.5]
    assert pd.isna(loans["principal"].iloc[1])  # '?' is a missing-value marker
    assert loans["principal"].iloc[3] == 8.5  # quoted, with a decimal comma


def test_question_mark_without_na_values_says_where_the_marker_goes(tmp_path):
    tables = _tables()
    tables["loans"]["principal"] = ["500", "?", "700", "800"]
    (problem,) = validate_dataset(load_dataset_config(write_world(tmp_path, tables=tables))).problems
    assert problem.endswith("(a missing-value marker such as '?' goes in tables.loans.csv.na_values; "
                            "1.234,5 needs csv.thousands and csv.decimal)")


def test_quote_character_and_encoding(tmp_path):
    config = _config()
    config["tables"]["customers"]["csv"] = {"quotechar": "'", "encoding": "cp1252"}
    write_world(tmp_path, config=config)
    _write_text(tmp_path, "customers.csv", "customer_id,created_at,income,region\n"
                "1,2023-01-01,1000,'Zürich, Nord'\n2,2023-02-01,2000,south\n3,2023-03-01,,north\n",
                encoding="cp1252")
    customers = load_dataset(tmp_path / "dataset.yaml").table("customers")
    assert customers["region"].tolist() == ["Zürich, Nord", "south", "north"]


def test_tsv_is_tab_separated_and_txt_is_text(tmp_path):
    config = _config()
    config["tables"]["loans"]["file"] = "loans.tsv"
    config["tables"]["customers"]["file"] = "customers.txt"
    write_world(tmp_path, config=config)
    tables = _tables()
    tables["loans"].to_csv(tmp_path / "loans.tsv", sep="\t", index=False)
    tables["customers"].to_csv(tmp_path / "customers.txt", index=False)
    ds = load_dataset(tmp_path / "dataset.yaml")
    assert ds.table("loans")["principal"].tolist() == [500, 600, 700, 800]
    assert len(ds.table("customers")) == 3


def test_pq_suffix_is_parquet(tmp_path):
    config = _config()
    config["tables"]["customers"]["file"] = "customers.pq"
    write_world(tmp_path, config=config)
    _tables()["customers"].to_parquet(tmp_path / "customers.pq")
    assert load_dataset(tmp_path / "dataset.yaml").table("customers")["income"].tolist()[:2] == [1000.0, 2000.5]


def test_text_declared_parquet_says_to_set_format_csv(tmp_path):
    config = _config()
    config["tables"]["customers"]["file"] = "customers.parquet"
    write_world(tmp_path, config=config)
    _tables()["customers"].to_csv(tmp_path / "customers.parquet", index=False)
    (problem,) = validate_dataset(load_dataset_config(tmp_path / "dataset.yaml")).problems
    assert problem.startswith(f"table 'customers': file '{tmp_path / 'customers.parquet'}' cannot be read as parquet")
    assert problem.endswith("; if it is delimited text, set tables.customers.format: csv")


def test_file_or_source_exactly_one(tmp_path):
    config = _config()
    del config["tables"]["customers"]["file"]
    path = tmp_path / "dataset.yaml"
    path.write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match=r"tables\.customers: declare exactly one of file: PATH, source: .* or unpivot: "):
        load_dataset_config(path)


def test_csv_options_are_single_characters(tmp_path):
    config = _config()
    config["tables"]["loans"]["csv"] = {"delimiter": ";;"}
    with pytest.raises(ConfigError, match=r"tables\.loans\.csv\.delimiter: Value error, must be a single character, "
                                          r"got ';;'"):
        load_dataset_config(write_world(tmp_path, config=config))
