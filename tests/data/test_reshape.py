"""Wide tables declared as a child table of dated rows (``unpivot``)."""

from __future__ import annotations

import copy

import featuretools as ft
import pandas as pd
import pytest
import yaml

from creditml.config import load_dataset_config
from creditml.data import load_dataset, validate_dataset
from creditml.errors import ConfigError
from creditml.features.compute import compute_matrix
from creditml.features.entityset import build_entityset
from creditml.model.paths import Hop
from creditml.model.records import key_kinds, records_for, tables_from_records

TIMES = ["2005-09-30", "2005-08-31", "2005-07-31"]


def _config() -> dict:
    return {
        "name": "wide", "time_anchor": "2005-09-30", "as_of": "2005-10-31",
        "tables": {
            "clients": {"file": "clients.csv", "primary_key": "ID", "time_index": "scored_at", "anchor_column": True,
                        "columns": {"ID": "id", "scored_at": "datetime", "LIMIT": "numeric", "Y": "numeric"}},
            "statements": {
                "unpivot": {"table": "clients", "times": list(TIMES),
                            "columns": {"bill": ["B_SEP", "B_AUG", "B_JUL"], "status": ["S_SEP", "S_AUG", "S_JUL"]}},
                "primary_key": "statement_id", "generate_primary_key": True, "time_index": "statement_at",
                "columns": {"statement_id": "id", "ID": "id", "statement_at": "datetime", "bill": "numeric",
                            "status": "numeric"},
                "foreign_keys": [{"column": "ID", "references": "clients"}],
            },
        },
        "labels": {"default": {"table": "clients", "column": "Y"}},
    }


def _write(tmp_path, config: dict | None = None):
    pd.DataFrame({"ID": [7, 8], "LIMIT": [1000.0, 2000.0], "Y": [1, 0],
                  "B_SEP": [300.0, 50.0], "B_AUG": [200.0, 60.0], "B_JUL": [100.0, 70.0],
                  "S_SEP": [2, -1], "S_AUG": [1, -1], "S_JUL": [0, 0]}).to_csv(tmp_path / "clients.csv", index=False)
    path = tmp_path / "dataset.yaml"
    path.write_text(yaml.safe_dump(config or _config(), sort_keys=False))
    return path


def _config_error(tmp_path, config) -> str:
    with pytest.raises(ConfigError) as err:
        load_dataset_config(_write(tmp_path, config))
    return str(err.value)


def test_wide_columns_become_dated_rows_of_a_child_table(tmp_path):
    dataset = load_dataset(_write(tmp_path))
    rows = dataset.tables["statements"]
    assert len(rows) == 6 and list(rows.columns) == ["statement_id", "ID", "statement_at", "bill", "status"]
    seven = rows[rows.ID == 7].set_index("statement_at")
    assert seven["bill"].to_dict() == {pd.Timestamp(t): b for t, b in zip(TIMES, [300.0, 200.0, 100.0])}
    assert seven["status"].tolist() == [2, 1, 0]
    assert rows["statement_id"].is_unique
    # the wide columns are the child's now; the wide table keeps what it declares
    assert list(dataset.tables["clients"].columns) == ["scored_at", "ID", "LIMIT", "Y"]


def test_dfs_aggregates_and_trends_over_the_unpivoted_rows(tmp_path):
    config = _config()
    config["time_anchor"] = "2005-06-30"  # clients known before their statements, to cut in between
    dataset = load_dataset(_write(tmp_path, config))
    es = build_entityset(dataset)
    defs = ft.dfs(entityset=es, target_dataframe_name="clients", features_only=True, max_depth=1,
                  agg_primitives=["mean", "max", "trend"], trans_primitives=[])
    cutoff = pd.DataFrame({"ID": [7, 8], "time": pd.Timestamp("2005-09-30")})
    matrix = compute_matrix(defs, es, cutoff)
    assert matrix.loc[7, "MEAN(statements.bill)"] == 200.0 and matrix.loc[8, "MAX(statements.status)"] == 0
    assert matrix.loc[7, "TREND(statements.bill, statement_at)"] > 0 > matrix.loc[8, "TREND(statements.bill, statement_at)"]
    # point in time: as of the end of August the September statement is unknown
    earlier = compute_matrix(defs, es, cutoff.assign(time=pd.Timestamp("2005-08-31")))
    assert earlier.loc[7, "MEAN(statements.bill)"] == 150.0


def test_a_wide_column_missing_from_the_file_is_named(tmp_path):
    config = _config()
    config["tables"]["statements"]["unpivot"]["columns"]["bill"] = ["B_SEP", "B_AUGUST", "B_JUL"]
    (problem,) = validate_dataset(load_dataset_config(_write(tmp_path, config))).problems
    assert problem.startswith("table 'statements': file ")
    assert ("cannot be read as an unpivot of table 'clients': table 'statements': unpivot.columns name 1 "
            "column(s) that are not in table 'clients''s file: 'B_AUGUST' ('B_AUGUST': did you mean 'B_AUG'?); "
            "the file has 9 columns; fix the names under tables.statements.unpivot.columns") in problem


def test_groups_of_another_length_than_the_times_are_refused(tmp_path):
    config = _config()
    config["tables"]["statements"]["unpivot"]["columns"]["status"] = ["S_SEP", "S_AUG"]
    assert ("tables.statements.unpivot.columns.status: 2 wide column(s) ['S_SEP', 'S_AUG'] for 3 time(s) in "
            "tables.statements.unpivot.times; give one column per time, in the same order") in _config_error(tmp_path, config)


@pytest.mark.parametrize("change, message", [
    (lambda t: t["unpivot"].update(table="client"),
     "tables.statements.unpivot.table: 'client' is not a declared table (tables: clients, statements)"),
    (lambda t: t["unpivot"]["times"].__setitem__(1, "August 2005"),
     "tables.statements.unpivot.times[1]: 'August 2005' is not a date; write it as YYYY-MM-DD"),
    (lambda t: t["unpivot"]["times"].__setitem__(2, "2005-09-30"),
     "tables.statements.unpivot.times: a time appears twice"),
    (lambda t: t["columns"].pop("status"),
     "tables.statements.unpivot.columns: value column 'status' is not declared under tables.statements.columns"),
    (lambda t: t.update(foreign_keys=[]),
     "tables.statements.foreign_keys: an unpivot of 'clients' carries its key 'ID'; declare foreign_keys: "
     "[{column: ID, references: clients}]"),
    (lambda t: t.update(generate_primary_key=False),
     "tables.statements.generate_primary_key: an unpivot's rows have no key in any file; set generate_primary_key: true"),
    (lambda t: t.pop("time_index"),
     "tables.statements.time_index: an unpivot needs a datetime time_index"),
    (lambda t: t.update(file="statements.csv"),
     "tables.statements: declare exactly one of file: PATH, source: {url: ..., table: ...} or unpivot: "),
])
def test_broken_unpivot_declarations_say_what_to_fix(tmp_path, change, message):
    config = copy.deepcopy(_config())
    change(config["tables"]["statements"])
    assert message in _config_error(tmp_path, config)


def test_a_table_with_neither_file_nor_unpivot_is_refused(tmp_path):
    config = _config()
    del config["tables"]["clients"]["file"]
    assert "tables.clients: declare exactly one of file: PATH, source: " in _config_error(tmp_path, config)


def test_a_served_record_may_send_the_wide_row_as_the_file_holds_it(tmp_path):
    dataset = load_dataset(_write(tmp_path))
    kinds = key_kinds(dataset.config, dataset.tables)
    wide = pd.read_csv(tmp_path / "clients.csv").to_dict(orient="records")[0]  # as a client sends it
    raw = tables_from_records(dataset.config, "clients", [{"instance": wide}], kinds)["statements"]
    path = (Hop(False, "clients", "ID", "statements", "ID"),)
    cut = tables_from_records(dataset.config, "clients",
                              records_for(dataset.config, dataset.tables, "clients", [7], {path}), kinds)["statements"]
    columns = ["ID", "statement_at", "bill", "status"]
    pd.testing.assert_frame_equal(raw[columns].sort_values("statement_at").reset_index(drop=True),
                                  cut[columns].sort_values("statement_at").reset_index(drop=True))
    assert raw["statement_id"].is_unique and len(raw) == 3
