"""The built-in synthetic world: deterministic, valid, realistic label rates and oracle AUCs,
labels defined strictly after their cutoffs, sizes per scale."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from creditml.config import load_dataset_config
from creditml.data import load_dataset
from creditml.data.synthetic import SCALES, WorldSummary, generate_world, planned_rows

AUC_RANGE = {"credit_default": (0.75, 0.88), "intermediary_fraud": (0.85, 0.97), "collection_cure": (0.70, 0.85)}
RATE_RANGE = {"credit_default": (0.05, 0.12), "intermediary_fraud": (0.02, 0.06), "collection_cure": (0.30, 0.55)}
TABLES = ["customers", "intermediaries", "applications", "bureau_accounts", "loans", "installments",
          "collection_cases", "collection_actions", "application_identifiers"]


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> WorldSummary:
    return generate_world(tmp_path_factory.mktemp("world") / "w", scale="small", seed=0)


@pytest.fixture(scope="module")
def dataset(world):
    return load_dataset(world.out_dir / "dataset.yaml")


@pytest.fixture(scope="module")
def oracle(world) -> pd.DataFrame:
    return pd.read_parquet(world.out_dir / "oracle.parquet")


def test_same_seed_same_bytes_other_seed_other_data(world, tmp_path):
    again = generate_world(tmp_path / "again", scale="small", seed=0)
    first, second = _digest(world.out_dir), _digest(again.out_dir)
    assert first == second
    other = generate_world(tmp_path / "other", scale="small", seed=1)
    assert _digest(other.out_dir)["installments.parquet"] != first["installments.parquet"]


def test_chunked_generation_writes_the_same_kind_of_world(tmp_path):
    s = generate_world(tmp_path / "chunked", scale="small", seed=3, chunk_customers=300)
    ds = load_dataset(s.out_dir / "dataset.yaml")
    for name, spec in ds.config.tables.items():
        assert ds.tables[name][spec.primary_key].is_unique, name
    assert s.rows["applications"] == len(ds.tables["applications"])


def test_world_validates_with_every_table_and_unique_keys(world, dataset):
    assert set(dataset.config.tables) == set(TABLES)
    assert dataset.config.as_of == "2024-12-31"
    for name, spec in dataset.config.tables.items():
        frame = dataset.tables[name]
        assert len(frame) > 0, name
        assert frame[spec.primary_key].is_unique, name
        raw = pd.read_parquet(dataset.config.path_of(name))
        assert set(raw.columns) == set(spec.columns), f"{name}: every written column is declared"
        if spec.time_index:
            assert pd.api.types.is_datetime64_ns_dtype(raw[spec.time_index]), name
            assert raw[spec.time_index].max() <= pd.Timestamp("2024-12-31"), name
    assert world.rows == {name: len(dataset.tables[name]) for name in TABLES}


def test_declared_labels_protected_and_pii(dataset):
    cfg = dataset.config
    assert {k: (v.table, v.column, v.known_at) for k, v in cfg.labels.items()} == {
        "default_12m": ("loans", "default_90dpd_12m", "default_known_at"),
        "fraud": ("applications", "fraud_confirmed", "fraud_label_known_at"),
        "cure_30d": ("collection_cases", "cured_30d", "cured_known_at"),
    }
    cust = cfg.tables["customers"]
    assert set(cust.pii) == {"full_name", "phone_number", "email"}
    assert {"birth_year", "gender"} <= set(cust.protected)
    assert cfg.tables["installments"].secondary_time_index == {"paid_at": ["amount_paid", "days_late"]}


@pytest.mark.parametrize("task", list(AUC_RANGE))
def test_oracle_auc_and_label_rate_in_range(world, oracle, task):
    o = oracle[oracle["task"] == task]
    assert len(o) > 100
    assert o["instance_id"].is_unique
    assert o["probability"].between(0, 1).all()
    auc = roc_auc_score(o["label"], o["probability"])
    lo, hi = AUC_RANGE[task]
    assert lo <= auc <= hi, f"{task}: oracle AUC {auc:.3f}"
    lo, hi = RATE_RANGE[task]
    assert lo <= o["label"].mean() <= hi, f"{task}: label rate {o['label'].mean():.3f}"
    assert world.oracle_auc[task] == pytest.approx(auc)


def test_oracle_matches_the_written_labels_and_maturity(dataset, oracle):
    as_of = pd.Timestamp("2024-12-31")
    t = dataset.tables
    loans = t["loans"].set_index("application_id")
    o = oracle[oracle.task == "credit_default"].set_index("instance_id")
    matured = loans[loans.default_known_at <= as_of]
    assert set(o.index) == set(matured.index)
    assert (o["label"] == matured.loc[o.index, "default_90dpd_12m"]).all()
    apps = t["applications"].set_index("application_id")
    o = oracle[oracle.task == "intermediary_fraud"].set_index("instance_id")
    expected = apps[apps.intermediary_id.notna() & (apps.applied_at <= as_of - pd.Timedelta(days=180))]
    assert set(o.index) == set(expected.index)
    assert (o["label"] == expected.loc[o.index, "fraud_confirmed"]).all()
    cases = t["collection_cases"].set_index("case_id")
    o = oracle[oracle.task == "collection_cure"].set_index("instance_id")
    assert set(o.index) == set(cases[cases.opened_at + pd.Timedelta(days=30) <= as_of].index)
    assert (o["label"] == cases.loc[o.index, "cured_30d"]).all()


def test_label_defining_events_happen_after_the_cutoff(dataset):
    t = dataset.tables
    apps = t["applications"]
    loans = t["loans"].merge(apps[["application_id", "applied_at"]], on="application_id")
    assert (loans.disbursed_at > loans.applied_at).all()
    assert (loans.default_known_at > loans.applied_at).all()
    inst = t["installments"].merge(loans[["loan_id", "applied_at", "disbursed_at"]], on="loan_id")
    assert (inst.due_at > inst.applied_at).all()
    fraud = apps[apps.fraud_confirmed == 1]
    assert (fraud.fraud_confirmed_at > fraud.applied_at).all()
    assert (apps.fraud_label_known_at > apps.applied_at).all()
    assert apps.loc[apps.intermediary_id.isna(), "fraud_confirmed"].eq(0).all()
    cases = t["collection_cases"]
    assert (cases.cured_known_at > cases.opened_at).all()
    assert (cases.cured_known_at <= cases.opened_at + pd.Timedelta(days=30)).all()
    acts = t["collection_actions"].merge(cases[["case_id", "opened_at"]], on="case_id")
    assert (acts.action_at > acts.opened_at).all()


def test_repayment_is_consistent_with_the_default_label(dataset):
    t = dataset.tables
    loans = t["loans"]
    inst = t["installments"].merge(loans[["loan_id", "disbursed_at", "default_90dpd_12m", "default_known_at"]], on="loan_id")
    inst = inst[inst.due_at <= pd.Timestamp("2024-12-31") - pd.Timedelta(days=120)]
    good = inst[inst.default_90dpd_12m == 0]
    assert (good.days_late.dropna() < 90).all()
    assert good.paid_at.notna().mean() > 0.97
    bad = inst[inst.default_90dpd_12m == 1]
    # a defaulted loan stops paying: the installment whose 90 DPD defines the default is never paid
    stop = bad[bad.due_at + pd.Timedelta(days=90) == bad.default_known_at]
    assert len(stop) > 0 and stop.paid_at.isna().all()
    assert ((stop.default_known_at - stop.disbursed_at) <= pd.Timedelta(days=365)).all()
    paid = t["installments"].dropna(subset=["paid_at"])
    assert (paid.paid_at >= paid.due_at).all()


def test_fraud_rings_form_dense_identifier_clusters(dataset):
    t = dataset.tables
    ids = t["application_identifiers"].merge(t["applications"][["application_id", "customer_id", "fraud_confirmed"]],
                                             on="application_id")
    ids = ids[ids.kind.isin(["device", "phone", "contact_phone"])]
    per_value = ids.groupby("value_hash").customer_id.nunique()
    ids["sharers"] = ids.value_hash.map(per_value) - 1
    by_app = ids.groupby("application_id").agg(sharers=("sharers", "sum"), fraud=("fraud_confirmed", "max"))
    assert by_app[by_app.fraud == 1].sharers.median() > 3 * max(by_app[by_app.fraud == 0].sharers.median(), 0.5)


def test_realistic_mess(dataset):
    t = dataset.tables
    assert t["customers"].monthly_income.isna().mean() > 0.05
    assert t["bureau_accounts"].max_dpd_24m.isna().any()
    raw = pd.read_parquet(dataset.config.path_of("customers"))
    spellings = set(raw.employment_type)
    assert {"Salaried", "SALARIED"} <= spellings and any(s != s.strip() for s in spellings)
    assert (t["loans"].default_known_at > pd.Timestamp("2024-12-31")).any()  # censored recent loans


def test_sizes_per_scale(world):
    assert world.rows["applications"] == pytest.approx(SCALES["small"].n_applications, rel=0.02)
    medium = planned_rows("medium")
    assert medium["applications"] == pytest.approx(50_000, rel=0.02)
    child = sum(v for k, v in medium.items() if k not in {"customers", "intermediaries", "applications"})
    assert child > 1_000_000
    large = planned_rows("large")
    assert large["applications"] == pytest.approx(500_000, rel=0.02)
    assert sum(v for k, v in large.items() if k not in {"customers", "intermediaries", "applications"}) > 10_000_000


def test_config_written_round_trips(world):
    cfg = load_dataset_config(world.out_dir / "dataset.yaml")
    assert cfg.name.startswith("synthetic-small")
    assert np.isfinite(list(world.oracle_auc.values())).all()
