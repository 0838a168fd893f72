"""Approval rate and AUC by protected group (pure).

An instance is approved when its predicted risk is below the threshold that approves
``approval_rate`` of the training instances, so every group is judged by one policy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditml.modeling.metrics import roc_auc


def approval_threshold(train_probability: np.ndarray, approval_rate: float) -> float:
    return float(np.quantile(train_probability, approval_rate))


def group_table(group: pd.Series, label: np.ndarray, probability: np.ndarray, threshold: float,
                min_group_size: int, label_is_good: bool = False) -> pd.DataFrame:
    """One row per group: n, approval rate, AUC, ratio to the best group's approval rate."""
    risk = 1 - np.asarray(probability) if label_is_good else np.asarray(probability)
    frame = pd.DataFrame({"group": group.astype("string").fillna("(missing)").values, "y": label,
                          "p": probability, "risk": risk})
    rows = []
    for name, part in frame.groupby("group", sort=True):
        auc = roc_auc(part.y, part.p) if 0 < part.y.sum() < len(part) else float("nan")
        rows.append({"group": name, "n": len(part), "approval_rate": float((part.risk <= threshold).mean()),
                     "label_rate": float(part.y.mean()), "auc": auc, "gated": len(part) >= min_group_size})
    out = pd.DataFrame(rows)
    best = out.loc[out.gated, "approval_rate"].max() if out.gated.any() else np.nan
    out["ratio_to_best"] = out["approval_rate"] / best if best and best > 0 else np.nan
    return out


def fairness_ratio(tables: dict[str, pd.DataFrame]) -> float:
    """Worst gated group's approval rate over the best's, across all protected attributes."""
    ratios = [t.loc[t.gated, "ratio_to_best"].min() for t in tables.values() if t.gated.sum() >= 2]
    return float(min(ratios)) if ratios else 1.0
