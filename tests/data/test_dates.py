"""Dates are read as declared and never guessed; implausible dates are flagged."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from creditml.cli import app
from creditml.config import load_dataset_config
from creditml.data import load_dataset, validate_dataset
from creditml.errors import ConfigError
from tests.data.test_validation import _config, _tables, write_world


def _world(tmp_path, dates, column_spec=None, **dataset):
    config = _config()
    config.update(dataset)
    if column_spec is not None:
        config["tables"]["loans"]["columns"]["disbursed_at"] = column_spec
    tables = _tables()
    tables["loans"]["disbursed_at"] = dates
    return write_world(tmp_path, config=config, tables=tables)


def _problems(path) -> list[str]:
    return validate_dataset(load_dataset_config(path)).problems


def test_integer_dates_are_refused_with_the_fix(tmp_path):
    (problem,) = _problems(_world(tmp_path, [930705, 930801, 931002, 940115]))
    assert problem == (
        "table 'loans', column 'disbursed_at': 4 value(s) are not dates (they are numbers, and creditml does not "
        "guess which date a number means), e.g. 930705, 930801, 931002, 940115; declare how they are written: "
        "format: '%y%m%d' for digits that spell a date, or epoch_unit: s|ms|us|ns|D for a count since 1970-01-01 "
        "under tables.loans.columns.disbursed_at")


def test_declared_format_reads_yymmdd(tmp_path):
    path = _world(tmp_path, [930705, 930801, 931002, 940115], {"type": "datetime", "format": "%y%m%d"})
    loans = load_dataset(path).table("loans")
    assert loans["disbursed_at"].tolist()[:2] == [pd.Timestamp("1993-07-05"), pd.Timestamp("1993-08-01")]


def test_value_outside_the_declared_format(tmp_path):
    (problem,) = _problems(_world(tmp_path, ["930705", "1993-08-01", "931002", "940115"],
                                  {"type": "datetime", "format": "%y%m%d"}))
    assert problem.startswith("table 'loans', column 'disbursed_at': 1 value(s) are not dates (not in the declared "
                              "format '%y%m%d'), e.g. '1993-08-01'; fix the values or the column's format")


def test_epoch_unit(tmp_path):
    seconds = [1_682_899_200, 1_685_577_600, 1_688_169_600, 1_690_848_000]  # 2023-05-01, -06-01, -07-01, -08-01
    path = _world(tmp_path, seconds, {"type": "datetime", "epoch_unit": "s"})
    assert load_dataset(path).table("loans")["disbursed_at"].dt.strftime("%Y-%m-%d").tolist() == [
        "2023-05-01", "2023-06-01", "2023-07-01", "2023-08-01"]


def test_ambiguous_strings_need_dayfirst(tmp_path):
    dates = ["03/04/2023", "25/04/2023", "05/06/2023", "13/07/2023"]
    (problem,) = _problems(_world(tmp_path, dates))
    assert problem == (
        "table 'loans', column 'disbursed_at': 2 value(s) are not dates (ambiguous: read day-first and month-first "
        "they give two different dates, e.g. '03/04/2023'), e.g. '03/04/2023', '05/06/2023'; declare dayfirst: true "
        "(31/12/2020) or dayfirst: false (12/31/2020), or a format under tables.loans.columns.disbursed_at")
    loans = load_dataset(_world(tmp_path, dates, {"type": "datetime", "dayfirst": True})).table("loans")
    assert loans["disbursed_at"].tolist() == [pd.Timestamp(d) for d in
                                              ["2023-04-03", "2023-04-25", "2023-06-05", "2023-07-13"]]


def test_rows_after_as_of_are_an_error(tmp_path):
    path = _world(tmp_path, ["2023-05-01", "2024-03-01", "2023-07-01", "2024-02-01"], as_of="2023-12-31")
    (problem,) = _problems(path)
    assert problem == (
        "table 'loans', column 'disbursed_at': 2 of 4 rows (50.0%) are dated after as_of 2023-12-31 (when the data "
        "was extracted), first 2024-03-01 00:00:00 at key 11; a row cannot be known after the extraction: fix "
        "as_of, the dates or how they are read (format, dayfirst)")


def test_dates_before_earliest_are_flagged_and_earliest_is_configurable(tmp_path):
    dates = ["1870-05-01", "2023-06-01", "2023-07-01", "2023-08-01"]
    (problem,) = _problems(_world(tmp_path, dates))
    assert problem.startswith("table 'loans', column 'disbursed_at': 1 row(s) are dated before 1900-01-01 "
                              "(earliest: the first plausible date), e.g. 1870-05-01 00:00:00 at key 10; check how "
                              "the column is read (format, epoch_unit, offset_unit), or set earliest:")
    assert _problems(_world(tmp_path, dates, earliest="1850-01-01")) == []


def test_date_options_belong_to_datetime_columns(tmp_path):
    config = _config()
    config["tables"]["loans"]["columns"]["principal"] = {"type": "numeric", "format": "%Y"}
    with pytest.raises(ConfigError, match=r"format describe\(s\) how dates are written, so the type must be "
                                          r"'datetime', not 'numeric'"):
        load_dataset_config(write_world(tmp_path, config=config))
    config["tables"]["loans"]["columns"]["principal"] = "numeric"
    config["tables"]["loans"]["columns"]["disbursed_at"] = {"type": "datetime", "format": "%y", "epoch_unit": "s"}
    with pytest.raises(ConfigError, match=r"format and epoch_unit are two ways of reading the same date"):
        load_dataset_config(write_world(tmp_path, config=config))


def test_validate_shows_every_date_range_and_flags_the_outside(tmp_path):
    path = _world(tmp_path, ["2023-05-01", "2023-06-01", "2023-07-01", "2025-01-01"], as_of="2024-06-30")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert any("customers" in line and "created_at" in line and "2023-01-01" in line and "2023-03-01" in line
               for line in lines), result.output
    (flagged,) = [line for line in lines if "outside" in line]
    assert "loans" in flagged and "disbursed_at" in flagged and "2025-01-01" in flagged
    assert "1 of 4 rows (25.0%) are dated after as_of 2024-06-30" in result.output
