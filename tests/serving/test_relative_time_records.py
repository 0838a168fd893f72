"""Relative-time data (Home Credit's DAYS_* and MONTHS_BALANCE) served from raw records.

Loading turns an offset column into a timestamp; ``records_for`` writes that timestamp into
a record. Serving once read it back as an offset, got nothing, and so lost every row the
column time-stamps: the repository's own Home Credit pipeline stopped with a training/serving
skew. These tests pin the round trip and the skew message.
"""

from __future__ import annotations

import featuretools as ft
import numpy as np
import pandas as pd
import pytest
import yaml

from creditml.config import load_dataset_config
from creditml.data import Dataset, load_dataset
from creditml.features.compute import compute_matrix
from creditml.features.entityset import build_entityset
from creditml.model.paths import feature_paths
from creditml.model.bundle import feature_skew
from creditml.model.records import key_kinds, records_for, tables_from_records

ANCHOR = "2018-05-17"


def _relative_world(tmp_path) -> Dataset:
    pd.DataFrame({"app_id": [1, 2, 3], "income": [100.0, 200.0, 300.0], "bad": [0, 1, 0]}).to_csv(
        tmp_path / "application.csv", index=False)
    pd.DataFrame({"prev_id": [10, 11, 12, 13], "app_id": [1, 1, 2, 3], "amount": [5.0, 7.0, 9.0, 11.0],
                  "days_decision": [-400, -30, -200, -10]}).to_csv(tmp_path / "previous.csv", index=False)
    pd.DataFrame({"prev_id": [10, 10, 11, 12], "months_balance": [-13, -12, -1, -6],
                  "dpd": [0.0, 30.0, 0.0, 5.0]}).to_csv(tmp_path / "balance.csv", index=False)
    config = {
        "name": "relative", "time_anchor": ANCHOR, "as_of": ANCHOR,
        "tables": {
            "application": {"file": "application.csv", "primary_key": "app_id", "time_index": "applied_at",
                            "anchor_column": True,
                            "columns": {"app_id": "id", "applied_at": "datetime", "income": "numeric",
                                        "bad": "numeric"}},
            "previous": {"file": "previous.csv", "primary_key": "prev_id", "time_index": "days_decision",
                         "columns": {"prev_id": "id", "app_id": "id", "amount": "numeric",
                                     "days_decision": {"type": "datetime", "offset_unit": "days"}},
                         "foreign_keys": [{"column": "app_id", "references": "application"}]},
            "balance": {"file": "balance.csv", "primary_key": "balance_id", "generate_primary_key": True,
                        "time_index": "months_balance",
                        "columns": {"balance_id": "id", "prev_id": "id", "dpd": "numeric",
                                    "months_balance": {"type": "datetime", "offset_unit": "months"}},
                        "foreign_keys": [{"column": "prev_id", "references": "previous"}]},
        },
        "labels": {"bad": {"table": "application", "column": "bad"}},
    }
    path = tmp_path / "dataset.yaml"
    path.write_text(yaml.safe_dump(config))
    return load_dataset(load_dataset_config(path))


def _definitions(dataset: Dataset) -> list:
    es = build_entityset(dataset)
    return ft.dfs(entityset=es, target_dataframe_name="application", features_only=True, max_depth=2,
                  agg_primitives=["count", "sum", "max", "time_since_last"], trans_primitives=[])


def test_records_carry_relative_times_back_to_the_same_timestamps(tmp_path):
    dataset = _relative_world(tmp_path)
    defs = _definitions(dataset)
    records = records_for(dataset.config, dataset.tables, "application", [1, 2, 3], feature_paths(defs))
    assert records[0]["related"]["previous"][0]["days_decision"] == "2017-04-12T00:00:00"  # 400 days before
    served = tables_from_records(dataset.config, "application", records, key_kinds(dataset.config, dataset.tables))
    for name in ("previous", "balance"):
        time_index = dataset.config.tables[name].time_index
        want = dataset.tables[name].set_index(dataset.config.tables[name].primary_key)[time_index].sort_index()
        got = served[name].set_index(dataset.config.tables[name].primary_key)[time_index].sort_index()
        pd.testing.assert_series_equal(got, want, check_names=False)


def test_served_features_equal_offline_ones_on_relative_time(tmp_path):
    dataset = _relative_world(tmp_path)
    defs = _definitions(dataset)
    cutoff = pd.DataFrame({"app_id": [1, 2, 3], "time": pd.Timestamp(ANCHOR)})
    offline = compute_matrix(defs, build_entityset(dataset), cutoff)
    assert offline.loc[1, "COUNT(previous)"] == 2 and offline.loc[1, "MAX(previous.SUM(balance.dpd))"] == 30
    kinds = key_kinds(dataset.config, dataset.tables)
    for app_id in (1, 2, 3):
        record = records_for(dataset.config, dataset.tables, "application", [app_id], feature_paths(defs))
        tables = tables_from_records(dataset.config, "application", record, kinds)
        served = compute_matrix(defs, build_entityset(Dataset(dataset.config, tables)),
                                cutoff[cutoff.app_id == app_id])
        assert feature_skew(offline.loc[app_id], served.iloc[0], limit=50) == []


def test_a_record_may_send_the_offsets_as_the_file_holds_them(tmp_path):
    dataset = _relative_world(tmp_path)
    record = {"instance": {"app_id": 1, "income": 100.0, "bad": 0},
              "related": {"previous": [{"prev_id": 10, "app_id": 1, "amount": 5.0, "days_decision": -400}],
                          "balance": [{"balance_id": 0, "prev_id": 10, "months_balance": -13, "dpd": 0.0}]}}
    tables = tables_from_records(dataset.config, "application", [record])
    assert tables["previous"]["days_decision"].tolist() == [pd.Timestamp("2017-04-12")]
    assert tables["balance"]["months_balance"].tolist() == [pd.Timestamp("2017-04-17")]


def test_skew_names_the_features_with_offline_and_served_values():
    offline = pd.Series({"COUNT(previous)": np.int64(2), "MAX(previous.amount)": 7.0, "income": 100.0,
                         "MODE(previous.kind)": "cash"})
    served = pd.Series({"COUNT(previous)": np.int64(0), "MAX(previous.amount)": np.nan,
                        "income": 100.0 + 1e-12, "MODE(previous.kind)": "cash"})
    assert feature_skew(offline, served) == ["COUNT(previous): offline 2, served 0",
                                             "MAX(previous.amount): offline 7.0, served nan"]
    assert feature_skew(offline, served, limit=1) == ["COUNT(previous): offline 2, served 0"]


@pytest.mark.parametrize("value", [None, "2017-04-12T00:00:00", -400])
def test_missing_dates_and_offsets_mix_in_one_column(tmp_path, value):
    dataset = _relative_world(tmp_path)
    rows = [{"prev_id": 10, "app_id": 1, "amount": 5.0, "days_decision": value},
            {"prev_id": 11, "app_id": 1, "amount": 7.0, "days_decision": -30}]
    record = {"instance": {"app_id": 1, "income": 100.0, "bad": 0}, "related": {"previous": rows}}
    got = tables_from_records(dataset.config, "application", [record])["previous"]["days_decision"].tolist()
    assert got[1] == pd.Timestamp("2018-04-17")
    assert (pd.isna(got[0]) if value is None else got[0] == pd.Timestamp("2017-04-12"))


def test_a_skew_is_judged_as_the_model_reads_values_so_zero_and_rounding_noise_differ():
    """0 offline and 1e-28 served (a constant series' slope summed in another order) go down different branches
    of a split at 0; the last bits of 30.03 do not change XGBoost's float32 input."""
    offline = pd.Series({"TREND(installments.amount_due, due_at)": 0.0, "DAYS_SINCE_LAST_DELINQUENCY": 30.03})
    served = pd.Series({"TREND(installments.amount_due, due_at)": 1.1289610077512602e-28,
                        "DAYS_SINCE_LAST_DELINQUENCY": 30.029999999999998})
    assert feature_skew(offline, served) == [
        "TREND(installments.amount_due, due_at): offline 0.0, served 1.1289610077512602e-28"]
