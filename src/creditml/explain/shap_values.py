"""SHAP values of the XGBoost model and the statistics a reviewer reads from them.

Contributions come from XGBoost's own exact TreeSHAP (``pred_contribs=True``): it gives
the same values as ``shap.TreeExplainer`` (measured max difference 0.0) and is faster.
Every computation checks additivity against the model's own margin, which is predicted
separately (``output_margin=True``), so a wrong iteration range or a category
mismatch shows up as an error rather than as a plausible-looking report.

Pure: arrays and frames in, arrays and frames out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy.stats import spearmanr

from creditml.errors import CreditmlError
from creditml.model.frame import model_frame

ADDITIVITY_TOLERANCE = 1e-4
MIN_MONOTONICITY_ROWS = 10  # fewer non-missing values: the correlation says nothing


class AdditivityError(CreditmlError):
    """SHAP contributions do not add up to the model's margin."""


@dataclass(frozen=True)
class ShapValues:
    """Per-row, per-feature contributions to the margin (log-odds of the positive label)."""

    values: np.ndarray  # (n_rows, n_features)
    base: np.ndarray  # (n_rows,) XGBoost's bias term (the same for every row)
    margin: np.ndarray  # (n_rows,) the model's margin, predicted independently
    features: list[str]
    index: pd.Index
    additivity_error: float  # max over rows of |sum(values) + base - margin|

    @property
    def probability(self) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.margin))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.values, index=self.index, columns=self.features)

    def subset(self, mask) -> "ShapValues":
        mask = np.asarray(mask, dtype=bool)
        error = float(np.max(np.abs(self.values[mask].sum(axis=1) + self.base[mask] - self.margin[mask]), initial=0.0))
        return ShapValues(self.values[mask], self.base[mask], self.margin[mask], self.features, self.index[mask], error)


def shap_values(booster: xgb.Booster, X: pd.DataFrame, features: list[str], categories: dict[str, list[str]],
                best_iteration: int, *, tolerance: float = ADDITIVITY_TOLERANCE) -> ShapValues:
    """Exact TreeSHAP contributions of ``X`` (raw feature values; extra columns ignored).

    Raises :class:`AdditivityError` when any row's contributions plus bias differ from the
    margin by more than ``tolerance``.
    """
    if len(X) == 0:
        raise ValueError("shap_values: X has no rows; pass at least one instance to explain")
    dm = xgb.DMatrix(model_frame(X, features, categories), enable_categorical=True)
    rng = (0, best_iteration + 1)
    contribs = booster.predict(dm, pred_contribs=True, iteration_range=rng).astype(np.float64)
    margin = booster.predict(dm, output_margin=True, iteration_range=rng).astype(np.float64)
    values, base = contribs[:, :-1], contribs[:, -1]
    errors = np.abs(values.sum(axis=1) + base - margin)
    worst = int(np.argmax(errors))
    if errors[worst] > tolerance:
        raise AdditivityError(
            f"SHAP contributions do not add up to the margin: row {X.index[worst]!r} is off by "
            f"{errors[worst]:.3g} (tolerance {tolerance:g}; {int((errors > tolerance).sum())} of {len(errors)} rows "
            f"exceed it). Check that best_iteration ({best_iteration}) and the categories match the booster"
        )
    return ShapValues(values, base, margin, list(features), X.index, float(errors[worst]))


def mean_abs_importance(sv: ShapValues) -> pd.Series:
    """Mean |SHAP| per feature, largest first (ties keep feature order)."""
    imp = pd.Series(np.abs(sv.values).mean(axis=0), index=sv.features, name="mean_abs_shap")
    return imp.sort_values(ascending=False, kind="stable")


def importance_stability(train: ShapValues, test: ShapValues, top: int = 20) -> pd.DataFrame:
    """Mean |SHAP| and rank on train and out-of-time; the union of both top-``top`` lists.

    ``rank_change`` is train rank minus test rank: positive means the feature matters
    more out of time.
    """
    a, b = mean_abs_importance(train), mean_abs_importance(test)
    out = pd.DataFrame({"train": a, "test": b.reindex(a.index)})
    out["train_rank"] = a.rank(ascending=False, method="first").astype(int)
    out["test_rank"] = b.rank(ascending=False, method="first").reindex(a.index).astype(int)
    out["rank_change"] = out.train_rank - out.test_rank
    keep = (out.train_rank <= top) | (out.test_rank <= top)
    return out[keep].sort_values("train_rank")


def monotonicity(X: pd.DataFrame, sv: ShapValues, declared: dict[str, int]) -> pd.DataFrame:
    """Sign of Spearman(feature value, SHAP value) against each declared direction.

    ``declared`` maps feature name -> +1 (risk rises with the feature) or -1. Status is
    ``ok``, ``violated`` or ``not measurable`` (constant, too few values, or not numeric).
    """
    rows = []
    position = {f: j for j, f in enumerate(sv.features)}
    for name, direction in declared.items():
        row = {"feature": name, "declared": int(direction), "spearman": np.nan, "n": 0, "status": "not measurable"}
        if name in position and name in X.columns:
            x = pd.to_numeric(X[name], errors="coerce").to_numpy(dtype=float)
            s = sv.values[:, position[name]]
            ok = np.isfinite(x)
            row["n"] = int(ok.sum())
            if ok.sum() >= MIN_MONOTONICITY_ROWS and np.ptp(x[ok]) > 0 and np.ptp(s[ok]) > 0:
                rho = float(spearmanr(x[ok], s[ok]).statistic)
                row["spearman"] = rho
                row["status"] = "ok" if np.sign(rho) in (0, np.sign(direction)) else "violated"
        rows.append(row)
    return pd.DataFrame(rows, columns=["feature", "declared", "spearman", "n", "status"])


