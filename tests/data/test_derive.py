"""Keys through a bridge table and labels by rule, on a small hand-made portfolio."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from creditml.config import load_dataset_config
from creditml.data import load_dataset
from creditml.errors import ConfigError, DataContractError
from creditml.features.dfs import build_candidates
from creditml.features.entityset import build_entityset
from creditml.config import FeatureSettings, TaskSpec
from creditml.tasks import build_instances

BASE = {
    "name": "bank", "as_of": "2021-06-30",
    "tables": {
        "clients": {"file": "clients.csv", "primary_key": "client_id", "static": True,
                    "columns": {"client_id": "id", "birth_date": "datetime", "district": "categorical"}},
        "accounts": {"file": "accounts.csv", "primary_key": "account_id", "static": True,
                     "columns": {"account_id": "id"},
                     "foreign_keys": [{"column": "owner_id", "references": "clients",
                                       "through": {"table": "holders",
                                                   "where": {"column": "role", "op": "==", "value": "OWNER"}}}]},
        "holders": {"file": "holders.csv", "primary_key": "holder_id", "static": True,
                    "columns": {"holder_id": "id", "account_id": "id", "client_id": "id", "role": "categorical"},
                    "foreign_keys": [{"column": "account_id", "references": "accounts"},
                                     {"column": "client_id", "references": "clients"}]},
        "loans": {"file": "loans.csv", "primary_key": "loan_id", "time_index": "applied_at",
                  "columns": {"loan_id": "id", "account_id": "id", "applied_at": "datetime",
                              "disbursed_at": "datetime", "amount": "numeric"},
                  "foreign_keys": [{"column": "account_id", "references": "accounts"}]},
        "installments": {"file": "installments.csv", "primary_key": "inst_id", "time_index": "due_at",
                         "columns": {"inst_id": "id", "loan_id": "id", "due_at": "datetime", "days_late": "numeric"},
                         "foreign_keys": [{"column": "loan_id", "references": "loans"}]},
    },
    "labels": {"bad_90": {"table": "loans", "column": "bad_90",
                          "rule": {"table": "installments", "where": {"column": "days_late", "op": ">=", "value": 90},
                                   "time": "due_at", "start": "disbursed_at", "within_days": 365}}},
}
TASK = TaskSpec(name="default", target="loans", cutoff="applied_at", label="bad_90", maturity_days=0)


def _write(folder, cfg=BASE, holders=None, installments=None):
    pd.DataFrame({"client_id": [1, 2, 3], "birth_date": ["1970-01-01", "1980-01-01", "1990-01-01"],
                  "district": ["a", "b", "a"]}).to_csv(folder / "clients.csv", index=False)
    pd.DataFrame({"account_id": [10, 20]}).to_csv(folder / "accounts.csv", index=False)
    (holders if holders is not None else pd.DataFrame(
        {"holder_id": [1, 2, 3], "account_id": [10, 10, 20], "client_id": [1, 2, 3],
         "role": ["OWNER", "DISPONENT", "OWNER"]})).to_csv(folder / "holders.csv", index=False)
    pd.DataFrame({"loan_id": [100, 200, 300], "account_id": [10, 20, 10],
                  "applied_at": ["2019-01-01", "2019-02-01", "2021-01-01"],
                  "disbursed_at": ["2019-01-10", "2019-02-10", "2021-01-10"],
                  "amount": [1000, 2000, 3000]}).to_csv(folder / "loans.csv", index=False)
    (installments if installments is not None else pd.DataFrame(
        {"inst_id": [1, 2, 3, 4], "loan_id": [100, 100, 200, 300],
         "due_at": ["2019-03-01", "2019-09-01", "2020-06-01", "2021-03-01"],
         "days_late": [5, 120, 95, 100]})).to_csv(folder / "installments.csv", index=False)
    path = folder / "bank.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_a_bridge_gives_each_account_its_owner_and_dfs_looks_the_owner_up(tmp_path):
    dataset = load_dataset(_write(tmp_path))
    accounts = dataset.tables["accounts"].set_index("account_id")
    assert accounts["owner_id"].to_dict() == {10: 1, 20: 3}
    assert any(step.step == "derive_key" and step.table == "accounts" for step in dataset.cleaning)
    es = build_entityset(dataset)
    names = [f.get_name() for f in build_candidates(es, "loans", FeatureSettings(max_depth=2))]
    assert "accounts.clients.district" in names  # the owner's own attribute, not an average over holders


def test_a_bridge_selecting_two_rows_or_none_is_refused(tmp_path):
    two = pd.DataFrame({"holder_id": [1, 2, 3], "account_id": [10, 10, 20], "client_id": [1, 2, 3],
                        "role": ["OWNER", "OWNER", "OWNER"]})
    with pytest.raises(DataContractError, match=r"tables.accounts.foreign_keys.owner_id.through: 1 accounts row\(s\) "
                                                r"have more than one holders row where role == 'OWNER' \(e.g. 10\); "
                                                r"a bridge must select at most one row per key"):
        load_dataset(_write(tmp_path, holders=two))
    none = two.assign(role=["OWNER", "DISPONENT", "DISPONENT"])
    with pytest.raises(DataContractError, match=r"1 of 2 accounts row\(s\) have no holders row where role == "
                                                r"'OWNER' \(e.g. 20\); declare nullable: true"):
        load_dataset(_write(tmp_path, holders=none))


def test_a_dated_bridge_is_refused(tmp_path):
    cfg = yaml.safe_load(yaml.safe_dump(BASE))
    holders = cfg["tables"]["holders"]
    del holders["static"]
    holders["time_index"] = "since"
    holders["columns"]["since"] = "datetime"
    with pytest.raises(ConfigError, match=r"bridge table 'holders' has a time index, but a derived key is the same "
                                          r"at every cutoff; declare the bridge static"):
        load_dataset_config(_write(tmp_path, cfg))


def test_a_label_by_rule_counts_events_inside_its_window_once_known(tmp_path):
    dataset = load_dataset(_write(tmp_path))
    loans = dataset.tables["loans"].set_index("loan_id")
    # loan 100: 120 days late within a year of disbursement; 200: 95 days late but after 365 days;
    # 300: its window is still open at as_of (2021-06-30)
    assert loans.loc[100, "bad_90"] == 1 and loans.loc[100, "bad_90_known_at"] == pd.Timestamp("2019-09-01")
    assert loans.loc[200, "bad_90"] == 0 and pd.isna(loans.loc[200, "bad_90_known_at"])
    assert pd.isna(loans.loc[300, "bad_90"])
    instances = build_instances(dataset, TASK)
    assert instances.labels.to_dict() == {100: 1, 200: 0}
    assert instances.left_out["label not matured"] == 1
    es = build_entityset(dataset)
    assert not {"bad_90", "bad_90_known_at"} & set(es["loans"].columns)  # never a feature


def test_a_rule_window_opening_before_the_cutoff_is_refused(tmp_path):
    cfg = yaml.safe_load(yaml.safe_dump(BASE))
    cfg["labels"]["bad_90"]["rule"]["start"] = "disbursed_at"
    dataset = load_dataset(_write(tmp_path, cfg))
    early = TaskSpec(name="default", target="loans", cutoff="disbursed_at", label="bad_90", maturity_days=0)
    assert len(build_instances(dataset, early).labels) == 2
    cfg["tables"]["loans"]["columns"]["decided_at"] = "datetime"
    path = _write(tmp_path, cfg)
    frame = pd.read_csv(tmp_path / "loans.csv").assign(decided_at=["2019-02-01", "2019-03-01", "2021-02-01"])
    frame.to_csv(tmp_path / "loans.csv", index=False)
    late = TaskSpec(name="default", target="loans", cutoff="decided_at", label="bad_90", maturity_days=0)
    with pytest.raises(DataContractError, match=r"the window of label 'bad_90' opens at loans.disbursed_at, before "
                                                r"the cutoff loans.decided_at for 3 instance\(s\)"):
        build_instances(load_dataset(path), late)


def test_rule_declarations_are_checked_with_the_fix(tmp_path):
    cfg = yaml.safe_load(yaml.safe_dump(BASE))
    cfg["labels"]["bad_90"]["rule"]["table"] = "clients"
    cfg["labels"]["bad_90"]["rule"]["time"] = "birth_date"
    cfg["labels"]["bad_90"]["rule"]["where"]["column"] = "district"
    with pytest.raises(ConfigError, match=r"labels.bad_90.rule.table: no chain of foreign keys leads from 'clients' "
                                          r"to 'loans'"):
        load_dataset_config(_write(tmp_path, cfg))
    cfg = yaml.safe_load(yaml.safe_dump(BASE))
    cfg["tables"]["loans"]["columns"]["bad_90"] = "numeric"
    with pytest.raises(ConfigError, match=r"labels.bad_90: column 'bad_90' is derived by the rule; remove it"):
        load_dataset_config(_write(tmp_path, cfg))


def test_a_bridged_key_travels_in_served_records(tmp_path):
    from creditml.model.records import key_kinds, records_for, tables_from_records
    from creditml.model.paths import feature_paths

    dataset = load_dataset(_write(tmp_path))
    es = build_entityset(dataset)
    definitions = [f for f in build_candidates(es, "loans", FeatureSettings(max_depth=2))
                   if f.get_name() == "accounts.clients.district"]
    records = records_for(dataset.config, dataset.tables, "loans", [100], feature_paths(definitions), None,
                          "applied_at")
    tables = tables_from_records(dataset.config, "loans", records, key_kinds(dataset.config, dataset.tables))
    assert tables["accounts"].set_index("account_id")["owner_id"].to_dict() == {10: 1}
    assert tables["clients"]["client_id"].tolist() == [1]
