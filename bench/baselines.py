"""Hand-built baselines for the real datasets: the dozen aggregates an analyst would write first.

Each baseline reads the same validated tables as creditml (``creditml.data.load_dataset``),
computes its features with pandas as of each instance's cutoff (rows dated after it are
left out, late-known values count only once known), fits XGBoost with its default
parameters on the training split and is scored on the test split of the very same split
creditml uses (``creditml.splits.time_split`` with the pipeline's settings).
Protected attributes (sex, age) are left out, as creditml leaves them out.

    from bench.baselines import BASELINES, score_baseline
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import xgboost as xgb

from creditml.data import Dataset
from creditml.modeling.metrics import bootstrap_auc, roc_auc

N_BOOTSTRAP = 200  # as creditml's own evaluation
HOME_CREDIT_NOT_EMPLOYED = 365243  # Home Credit's sentinel in DAYS_EMPLOYED


def _slope(values: np.ndarray) -> np.ndarray:
    """Least-squares slope per row over equally spaced positions (oldest first)."""
    x = np.arange(values.shape[1], dtype=float)
    x = x - x.mean()
    return (values - values.mean(axis=1, keepdims=True)) @ x / (x ** 2).sum()


def taiwan_features(dataset: Dataset, cutoff: pd.Series) -> pd.DataFrame:
    """Limit, latest / worst / count of delays, bills, payments and utilisation over six statements."""
    clients = dataset.tables["clients"].set_index("ID")
    rows = dataset.tables["statements"]
    rows = rows[rows["statement_at"] <= rows["ID"].map(cutoff)]
    wide = rows.pivot_table(index="ID", columns="statement_at", values=["pay_status", "bill_amount", "paid_amount"])
    status, bill, paid = (wide[c].sort_index(axis=1).reindex(cutoff.index) for c in
                          ("pay_status", "bill_amount", "paid_amount"))  # months oldest -> latest
    limit = clients["X1"].reindex(cutoff.index)
    # the payment of a month settles the previous month's bill
    paid_share = (paid.to_numpy()[:, 1:] / np.where(bill.to_numpy()[:, :-1] > 0, bill.to_numpy()[:, :-1], np.nan))
    return pd.DataFrame({
        "limit": limit,
        "education": pd.to_numeric(clients["X3"], errors="coerce").reindex(cutoff.index),
        "marriage": pd.to_numeric(clients["X4"], errors="coerce").reindex(cutoff.index),
        "pay_status_latest": status.iloc[:, -1],
        "pay_status_max": status.max(axis=1),
        "months_delayed": (status > 0).sum(axis=1),
        "bill_latest": bill.iloc[:, -1],
        "bill_mean": bill.mean(axis=1),
        "bill_trend": _slope(bill.to_numpy()),
        "paid_latest": paid.iloc[:, -1],
        "paid_mean": paid.mean(axis=1),
        "paid_share_mean": pd.DataFrame(np.clip(paid_share, 0, 10)).mean(axis=1).to_numpy(),  # NaN: no bill
        "utilisation_latest": bill.iloc[:, -1] / limit,
        "utilisation_mean": bill.mean(axis=1) / limit,
    }, index=cutoff.index)


def home_credit_features(dataset: Dataset, cutoff: pd.Series) -> pd.DataFrame:
    """The application's own ratios and scores; bureau, previous applications and installments aggregates."""
    t = dataset.tables
    app = t["application"].set_index("SK_ID_CURR").reindex(cutoff.index)
    out = pd.DataFrame({
        "credit_to_income": app["AMT_CREDIT"] / app["AMT_INCOME_TOTAL"],
        "annuity_to_income": app["AMT_ANNUITY"] / app["AMT_INCOME_TOTAL"],
        "credit_to_goods": app["AMT_CREDIT"] / app["AMT_GOODS_PRICE"],
        "ext_source_1": app["EXT_SOURCE_1"], "ext_source_2": app["EXT_SOURCE_2"], "ext_source_3": app["EXT_SOURCE_3"],
        "days_employed": app["DAYS_EMPLOYED"].where(app["DAYS_EMPLOYED"] != HOME_CREDIT_NOT_EMPLOYED),
        "income": app["AMT_INCOME_TOTAL"],
    }, index=cutoff.index)

    bureau = t["bureau"][t["bureau"]["DAYS_CREDIT"] <= t["bureau"]["SK_ID_CURR"].map(cutoff)]
    known = bureau["DAYS_CREDIT_UPDATE"] <= bureau["SK_ID_CURR"].map(cutoff)  # late-known amounts
    by = bureau.assign(active=bureau["CREDIT_ACTIVE"].eq("Active"),
                       debt=bureau["AMT_CREDIT_SUM_DEBT"].where(known),
                       overdue=bureau["AMT_CREDIT_SUM_OVERDUE"].where(known),
                       day_overdue=bureau["CREDIT_DAY_OVERDUE"].where(known)).groupby("SK_ID_CURR")
    out["bureau_count"] = by.size().reindex(cutoff.index).fillna(0)
    out["bureau_active"] = by["active"].sum().reindex(cutoff.index).fillna(0)
    out["bureau_debt"] = by["debt"].sum().reindex(cutoff.index)
    out["bureau_overdue"] = by["overdue"].sum().reindex(cutoff.index)
    out["bureau_max_days_overdue"] = by["day_overdue"].max().reindex(cutoff.index)

    prev = t["previous_application"]
    prev = prev[prev["DAYS_DECISION"] <= prev["SK_ID_CURR"].map(cutoff)]
    bp = prev.assign(refused=prev["NAME_CONTRACT_STATUS"].eq("Refused")).groupby("SK_ID_CURR")
    out["previous_count"] = bp.size().reindex(cutoff.index).fillna(0)
    out["previous_refused_share"] = bp["refused"].mean().reindex(cutoff.index)

    inst = t["installments_payments"].merge(prev[["SK_ID_PREV", "SK_ID_CURR"]], on="SK_ID_PREV")
    at = inst["SK_ID_CURR"].map(cutoff)
    inst = inst[(inst["DAYS_INSTALMENT"] <= at) & (inst["DAYS_ENTRY_PAYMENT"] <= at)]
    late = (inst["DAYS_ENTRY_PAYMENT"] - inst["DAYS_INSTALMENT"]).dt.days
    bi = inst.assign(days_late=late.clip(lower=0), paid_late=late > 0,
                     paid_share=inst["AMT_PAYMENT"] / inst["AMT_INSTALMENT"].where(inst["AMT_INSTALMENT"] > 0)
                     ).groupby("SK_ID_CURR")
    out["installment_days_late_mean"] = bi["days_late"].mean().reindex(cutoff.index)
    out["installment_days_late_max"] = bi["days_late"].max().reindex(cutoff.index)
    out["installment_paid_late_share"] = bi["paid_late"].mean().reindex(cutoff.index)
    out["installment_paid_share"] = bi["paid_share"].mean().reindex(cutoff.index)
    return out


BASELINES: dict[str, Callable[[Dataset, pd.Series], pd.DataFrame]] = {
    "taiwan_default": taiwan_features,
    "home_credit_default": home_credit_features,
}


@dataclass
class BaselineResult:
    features: int
    validation_auc: float
    test_auc: float
    test_auc_low: float
    test_auc_high: float
    probability: pd.Series  # test instances


def score_baseline(X: pd.DataFrame, labels: pd.Series, split: pd.Series, seed: int = 0) -> BaselineResult:
    """Default XGBoost fit on the training split; AUC on validation and test, the test's with a bootstrap CI."""
    X = X.loc[labels.index].astype("float64")
    model = xgb.XGBClassifier(n_jobs=1, random_state=seed)  # defaults otherwise: what "default XGBoost" means
    train = (split.loc[labels.index] == "train").to_numpy()
    model.fit(X[train], labels[train])
    p = pd.Series(model.predict_proba(X)[:, 1], index=labels.index)
    out = {}
    for name in ("validation", "test"):
        mask = (split.loc[labels.index] == name).to_numpy()
        out[name] = (labels[mask].to_numpy(), p[mask].to_numpy())
    low, high = bootstrap_auc(*out["test"], N_BOOTSTRAP, seed)
    test = (split.loc[labels.index] == "test").to_numpy()
    return BaselineResult(X.shape[1], roc_auc(*out["validation"]), roc_auc(*out["test"]), low, high, p[test])
