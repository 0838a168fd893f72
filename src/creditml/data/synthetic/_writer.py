"""Table declarations (semantic and storage types), the dataset config, Parquet output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from creditml.config import ColumnSpec, DatasetConfig, ForeignKey, LabelSpec, TableSpec
from creditml.data.synthetic._params import AS_OF, START

I, F, S, T, B = pa.int64(), pa.float64(), pa.string(), pa.timestamp("ns"), pa.bool_()

# table -> (primary key, time index, {column: (semantic type, arrow type)}, foreign keys, extras)
TABLES: dict[str, dict] = {
    "customers": dict(pk="customer_id", ti="created_at", cols={
        "customer_id": ("id", I), "created_at": ("datetime", T), "birth_year": ("numeric", I),
        "gender": ("categorical", S), "region": ("categorical", S), "employment_type": ("categorical", S),
        "monthly_income": ("numeric", F), "full_name": ("text", S), "phone_number": ("text", S),
        "email": ("text", S)}, fks={}, protected=["birth_year", "gender"],
        pii=["full_name", "phone_number", "email"]),
    "intermediaries": dict(pk="intermediary_id", ti="registered_at", cols={
        "intermediary_id": ("id", S), "registered_at": ("datetime", T), "kind": ("categorical", S),
        "region": ("categorical", S), "commission_rate": ("numeric", F)}, fks={}),
    "applications": dict(pk="application_id", ti="applied_at", cols={
        "application_id": ("id", I), "customer_id": ("id", I), "intermediary_id": ("id", S),
        "applied_at": ("datetime", T), "amount_requested": ("numeric", F), "term_months": ("numeric", I),
        "declared_income": ("numeric", F), "purpose": ("categorical", S), "channel": ("categorical", S),
        "decision": ("categorical", S), "fraud_confirmed": ("numeric", I), "fraud_confirmed_at": ("datetime", T),
        "fraud_label_known_at": ("datetime", T)},
        fks={"customer_id": "customers", "intermediary_id": "intermediaries"},
        sti={"fraud_label_known_at": ["fraud_confirmed", "fraud_confirmed_at"]},
        nullable_fks={"intermediary_id"}),  # a direct application has no broker
    "bureau_accounts": dict(pk="bureau_account_id", ti="reported_at", cols={
        "bureau_account_id": ("id", I), "customer_id": ("id", I), "reported_at": ("datetime", T),
        "opened_at": ("datetime", T), "credit_type": ("categorical", S), "credit_limit": ("numeric", F),
        "balance": ("numeric", F), "max_dpd_24m": ("numeric", F), "n_late_payments": ("numeric", F),
        "closed": ("boolean", B)}, fks={"customer_id": "customers"}),
    "loans": dict(pk="loan_id", ti="disbursed_at", cols={
        "loan_id": ("id", I), "application_id": ("id", I), "customer_id": ("id", I),
        "disbursed_at": ("datetime", T), "principal": ("numeric", F), "term_months": ("numeric", I),
        "interest_rate": ("numeric", F), "default_90dpd_12m": ("numeric", I), "default_known_at": ("datetime", T)},
        fks={"application_id": "applications", "customer_id": "customers"},
        sti={"default_known_at": ["default_90dpd_12m"]}),
    "installments": dict(pk="installment_id", ti="due_at", cols={
        "installment_id": ("id", I), "loan_id": ("id", I), "customer_id": ("id", I),
        "installment_number": ("numeric", I), "due_at": ("datetime", T), "amount_due": ("numeric", F),
        "paid_at": ("datetime", T), "amount_paid": ("numeric", F), "days_late": ("numeric", F)},
        fks={"loan_id": "loans", "customer_id": "customers"}, sti={"paid_at": ["amount_paid", "days_late"]}),
    "collection_cases": dict(pk="case_id", ti="opened_at", cols={
        "case_id": ("id", I), "loan_id": ("id", I), "customer_id": ("id", I), "opened_at": ("datetime", T),
        "balance_at_open": ("numeric", F), "dpd_at_open": ("numeric", F), "cured_30d": ("numeric", I),
        "cured_known_at": ("datetime", T)}, fks={"loan_id": "loans", "customer_id": "customers"},
        sti={"cured_known_at": ["cured_30d"]}),
    "collection_actions": dict(pk="action_id", ti="action_at", cols={
        "action_id": ("id", I), "case_id": ("id", I), "customer_id": ("id", I), "action_at": ("datetime", T),
        "channel": ("categorical", S), "outcome": ("categorical", S), "promise_kept": ("boolean", B),
        "promise_checked_at": ("datetime", T)}, fks={"case_id": "collection_cases", "customer_id": "customers"},
        sti={"promise_checked_at": ["promise_kept"]}),
    "application_identifiers": dict(pk="application_identifier_id", ti="seen_at", cols={
        "application_identifier_id": ("id", I), "application_id": ("id", I), "kind": ("categorical", S),
        "value_hash": ("id", S), "seen_at": ("datetime", T)}, fks={"application_id": "applications"}),
}

# domain roles the credit primitives look for (see creditml.features.primitives)
ROLES = {
    ("installments", "days_late"): "days_past_due", ("installments", "amount_due"): "amount_due",
    ("installments", "amount_paid"): "amount_paid", ("bureau_accounts", "balance"): "balance",
    ("bureau_accounts", "credit_limit"): "credit_limit", ("bureau_accounts", "max_dpd_24m"): "days_past_due",
    ("collection_cases", "dpd_at_open"): "days_past_due",
}

LABELS = {
    "default_12m": ("loans", "default_90dpd_12m", "default_known_at"),
    "fraud": ("applications", "fraud_confirmed", "fraud_label_known_at"),
    "cure_30d": ("collection_cases", "cured_30d", "cured_known_at"),
}


def dataset_config(name: str, description: str) -> DatasetConfig:
    tables = {}
    for tname, t in TABLES.items():
        tables[tname] = TableSpec(
            file=f"{tname}.parquet", primary_key=t["pk"], time_index=t["ti"],
            secondary_time_index=t.get("sti", {}),
            columns={c: ColumnSpec(type=sem, role=ROLES.get((tname, c))) for c, (sem, _) in t["cols"].items()},
            foreign_keys=[ForeignKey(column=c, references=r, on_orphan="error", nullable=c in t.get("nullable_fks", ()))
                          for c, r in t["fks"].items()],
            protected=t.get("protected", []), pii=t.get("pii", []),
        )
    labels = {k: LabelSpec(table=tb, column=c, known_at=ka) for k, (tb, c, ka) in LABELS.items()}
    return DatasetConfig(name=name, description=description, as_of=AS_OF, tables=tables, labels=labels)


def to_time(days) -> np.ndarray:
    """Float days since START -> datetime64[ns] rounded to the second (NaN -> NaT)."""
    d = np.asarray(days, dtype=np.float64)
    ok = ~np.isnan(d)
    sec = np.where(ok, np.round(np.where(ok, d, 0) * 86400.0), 0).astype(np.int64)
    out = START + sec.astype("timedelta64[s]").astype("timedelta64[ns]")
    out[~ok] = np.datetime64("NaT")
    return out


def _arrow(tname: str, frame: pd.DataFrame) -> pa.Table:
    cols = TABLES[tname]["cols"]
    arrays, fields = [], []
    for c, (sem, typ) in cols.items():
        v = frame[c]
        if sem == "datetime":
            v = to_time(v.to_numpy(dtype=np.float64))
            arr = pa.array(v, type=typ, from_pandas=True)
        elif typ == B:
            arr = pa.array(v.to_numpy(dtype=object), type=B, from_pandas=True)
        else:
            arr = pa.array(v.to_numpy(), type=typ, from_pandas=True)
        arrays.append(arr)
        fields.append(pa.field(c, typ))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


class Writers:
    """One ParquetWriter per table; each chunk of customers becomes row groups."""

    def __init__(self, out_dir: Path, row_group_size: int = 1_000_000):
        self.out_dir = out_dir
        self.row_group_size = row_group_size
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {t: 0 for t in TABLES}

    def write(self, tname: str, frame: pd.DataFrame) -> None:
        table = _arrow(tname, frame)
        if tname not in self.writers:
            self.writers[tname] = pq.ParquetWriter(self.out_dir / f"{tname}.parquet", table.schema,
                                                   compression="zstd")
        if table.num_rows:
            self.writers[tname].write_table(table, row_group_size=self.row_group_size)
        self.rows[tname] += table.num_rows

    def close(self) -> None:
        for w in self.writers.values():
            w.close()
