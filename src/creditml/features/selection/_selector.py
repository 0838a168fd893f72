"""``FeatureSelector``: the scikit-learn estimator; checks its inputs and parameters,
computes the column statistics and applies the rules (see the package docstring)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import ValidationError
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from creditml.config import SelectionSettings
from creditml.features.selection import _statistics as st
from creditml.features.selection._rules import Decisions


class FeatureSelector(BaseEstimator, TransformerMixin):
    """Select credit features on training data; see the module docstring for the rules.

    Parameters mirror :class:`creditml.config.SelectionSettings` and are validated
    against it in ``fit``. Learned: ``selected_`` (kept columns in X's order),
    ``report_``, ``leakage_flags_`` and the per-feature ``null_share_``, ``iv_``,
    ``psi_`` and ``auc_`` (Series indexed by feature); with ``psi_against_validation``
    also ``next_psi_``, the PSI between X and ``X_next``.
    """

    def __init__(self, max_null_share=0.95, max_correlation=0.95, min_iv=0.005, max_psi=0.25,
                 min_stability_rows=300, psi_against_validation=False, leakage_auc=0.98, max_selected=300,
                 bins=10):
        self.max_null_share = max_null_share
        self.max_correlation = max_correlation
        self.min_iv = min_iv
        self.max_psi = max_psi
        self.min_stability_rows = min_stability_rows
        self.psi_against_validation = psi_against_validation
        self.leakage_auc = leakage_auc
        self.max_selected = max_selected
        self.bins = bins

    @classmethod
    def from_settings(cls, settings: SelectionSettings) -> "FeatureSelector":
        return cls(**settings.model_dump())

    def fit(self, X: pd.DataFrame, y: pd.Series, time: pd.Series,
            X_next: pd.DataFrame | None = None) -> "FeatureSelector":
        """``X_next``: the same columns for the next period's rows (features only, no labels); with
        ``psi_against_validation`` a candidate that moved between X and X_next beyond max_psi is dropped."""
        s = self._settings()
        y_values, early = _check_inputs(X, y, time)
        stats = st.column_stats(X, y_values, early, s.bins)
        next_psi = None
        if s.psi_against_validation:
            if X_next is None or list(X_next.columns) != list(X.columns):
                raise ValueError("psi_against_validation needs X_next: the next period's rows with X's columns")
            next_psi = st.period_psi(X, X_next, s.bins)
        decisions = Decisions(X, stats, s, next_psi=next_psi, next_rows=0 if X_next is None else len(X_next))
        decisions.run()
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.report_ = decisions.report()
        self.selected_ = self.report_.loc[self.report_["kept"], "feature"].tolist()
        self.leakage_flags_ = self.report_.loc[self.report_["reason"] == "suspected_leakage", "feature"].tolist()
        for name in ("null_share", "iv", "psi", "auc"):
            setattr(self, f"{name}_", pd.Series(getattr(stats, name), index=X.columns, name=name))
        if next_psi is not None:  # psi_against_validation: each candidate's PSI against the next period
            self.next_psi_ = pd.Series(next_psi, index=X.columns, name="next_psi")
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "selected_")
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame; found {type(X).__name__}")
        missing = [c for c in self.selected_ if c not in X.columns]
        if missing:
            raise ValueError(
                f"X lacks {len(missing)} selected feature(s) seen in fit, e.g. {missing[:5]}; "
                "compute the same features as for training"
            )
        return X[self.selected_]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        check_is_fitted(self, "selected_")
        return np.asarray(self.selected_, dtype=object)

    def _settings(self) -> SelectionSettings:
        try:
            return SelectionSettings(**self.get_params())
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e['input']!r})" for e in exc.errors()
            )
            raise ValueError(f"FeatureSelector: invalid parameter(s): {problems}") from None


def _check_inputs(X, y, time) -> tuple[np.ndarray, np.ndarray]:
    """Validate X, y and time; return y as floats and a mask of the early half by time."""
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame; found {type(X).__name__}")
    repeated = X.columns[X.columns.duplicated()].unique().tolist()
    if repeated:
        raise ValueError(f"X column names must be unique; found repeated names {repeated[:5]}")
    y, time = pd.Series(y), pd.Series(time)
    if not len(X) == len(y) == len(time):
        raise ValueError(
            f"X, y and time must have the same number of rows; found {len(X)}, {len(y)} and {len(time)}"
        )
    if y.isna().any():
        raise ValueError(f"y must hold 0 and 1 only; found {int(y.isna().sum())} missing value(s)")
    found = pd.unique(y.to_numpy()).tolist()
    try:
        found.sort()
    except TypeError:  # mixed types, e.g. 0 and "1"
        found.sort(key=repr)
    bad = [v for v in found if v not in (0, 1)]
    if bad:
        raise ValueError(f"y must hold 0 and 1 only; found values {bad[:10]}")
    if len(found) < 2:
        raise ValueError(f"y must hold both classes 0 and 1; found only {found}")
    if time.isna().any():
        raise ValueError(
            f"time must give every row's cutoff time; found {int(time.isna().sum())} missing value(s)"
        )
    order = np.argsort(time.to_numpy(), kind="stable")
    early = np.zeros(len(time))
    early[order[: len(time) // 2]] = 1.0
    return y.to_numpy(dtype=np.float64), early
