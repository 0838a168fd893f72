"""Feature selection for credit models: drop what is empty, redundant, leaking, weak or unstable.

``FeatureSelector`` learns on training rows only and explains every decision: each
candidate gets one row in ``report_`` with the first rule it failed, the value that
decided it and a sentence naming any partner column. The rules run in this order::

    unsupported_type, mostly_null, constant, duplicate, suspected_leakage,
    low_iv, unstable, correlated, over_limit

Columns dropped as ``suspected_leakage`` are also listed in ``leakage_flags_`` so that
a promotion gate can refuse a model trained next to them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import ValidationError
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from creditml.config import SelectionSettings
from creditml.features import _selection_stats as st

REPORT_COLUMNS = ["feature", "kept", "reason", "statistic", "detail", "iv", "psi"]


class FeatureSelector(BaseEstimator, TransformerMixin):
    """Select credit features on training data; see the module docstring for the rules.

    Parameters mirror :class:`creditml.config.SelectionSettings` and are validated
    against it in ``fit``. Learned: ``selected_`` (kept columns in X's order),
    ``report_``, ``leakage_flags_`` and the per-feature ``null_share_``, ``iv_``,
    ``psi_`` and ``auc_`` (Series indexed by feature).
    """

    def __init__(self, max_null_share=0.95, max_correlation=0.95, min_iv=0.005, max_psi=0.25,
                 leakage_auc=0.98, max_selected=300, bins=10):
        self.max_null_share = max_null_share
        self.max_correlation = max_correlation
        self.min_iv = min_iv
        self.max_psi = max_psi
        self.leakage_auc = leakage_auc
        self.max_selected = max_selected
        self.bins = bins

    @classmethod
    def from_settings(cls, settings: SelectionSettings) -> "FeatureSelector":
        return cls(**settings.model_dump())

    def fit(self, X: pd.DataFrame, y: pd.Series, time: pd.Series) -> "FeatureSelector":
        s = self._settings()
        y_values, early = _check_inputs(X, y, time)
        stats = st.column_stats(X, y_values, early, s.bins)
        decisions = _Decisions(X, stats, s)
        decisions.run()
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.report_ = decisions.report()
        self.selected_ = self.report_.loc[self.report_["kept"], "feature"].tolist()
        self.leakage_flags_ = self.report_.loc[self.report_["reason"] == "suspected_leakage", "feature"].tolist()
        for name in ("null_share", "iv", "psi", "auc"):
            setattr(self, f"{name}_", pd.Series(getattr(stats, name), index=X.columns, name=name))
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


class _Decisions:
    """Applies the rules in order; each candidate keeps the first reason it gets."""

    def __init__(self, X: pd.DataFrame, stats: st.ColumnStats, settings: SelectionSettings):
        self.X, self.stats, self.s = X, stats, settings
        p = X.shape[1]
        self.names = list(X.columns)
        self.reason = np.full(p, "kept", dtype=object)
        self.statistic = np.full(p, np.nan)
        self.detail = np.full(p, "", dtype=object)
        self.open = np.ones(p, dtype=bool)

    def drop(self, j: int, reason: str, statistic: float, detail: str) -> None:
        self.reason[j], self.statistic[j], self.detail[j] = reason, statistic, detail
        self.open[j] = False

    def run(self) -> None:
        st_, s = self.stats, self.s
        for j in np.flatnonzero(st_.kind == "unsupported"):
            self.drop(j, "unsupported_type", np.nan,
                      f"dtype {self.X.dtypes.iloc[j]} is neither numeric nor categorical")
        for j in np.flatnonzero(self.open & ((st_.null_share > s.max_null_share) | (st_.n_distinct == 0))):
            share = st_.null_share[j]
            text = "all values are missing" if share == 1 else f"{share:.1%} of values are missing"
            self.drop(j, "mostly_null", share, f"{text} (limit {s.max_null_share:.1%})")
        for j in np.flatnonzero(self.open & (st_.n_distinct <= 1)):
            self.drop(j, "constant", st_.n_distinct[j], "a single distinct non-null value")
        self._duplicates()
        for j in np.flatnonzero(self.open & (st_.auc >= s.leakage_auc)):
            self.drop(j, "suspected_leakage", st_.auc[j],
                      f"univariate AUC {st_.auc[j]:.3f} >= {s.leakage_auc}: the column may encode "
                      "the label; check that it is known at the cutoff time")
        for j in np.flatnonzero(self.open & (st_.iv < s.min_iv)):
            self.drop(j, "low_iv", st_.iv[j], f"information value {st_.iv[j]:.4f} < {s.min_iv}")
        for j in np.flatnonzero(self.open & (st_.psi > s.max_psi)):
            self.drop(j, "unstable", st_.psi[j],
                      f"PSI {st_.psi[j]:.3f} > {s.max_psi} between the early and late halves of "
                      "the training rows by time")
        self._correlated()
        ranked = self._by_iv(np.flatnonzero(self.open))
        for rank, j in enumerate(ranked[s.max_selected:], start=s.max_selected + 1):
            self.drop(j, "over_limit", st_.iv[j],
                      f"rank {rank} by IV ({st_.iv[j]:.4f}); only the top {s.max_selected} are kept")
        for j in np.flatnonzero(self.open):
            self.statistic[j] = st_.iv[j]
            self.detail[j] = f"IV {st_.iv[j]:.4f}, PSI {st_.psi[j]:.3f}"

    def _by_iv(self, positions: np.ndarray) -> np.ndarray:
        """Positions by descending IV; ties keep X's column order."""
        return positions[np.lexsort((positions, -self.stats.iv[positions]))]

    def _duplicates(self) -> None:
        first_seen: dict[tuple, list[int]] = {}
        for j in np.flatnonzero(self.open):
            key = (self.stats.kind[j], self.stats.fingerprint[j])
            candidates = first_seen.setdefault(key, [])
            partner = next((k for k in candidates if self._same_values(k, j)), None)
            if partner is None:
                candidates.append(j)
            else:
                self.drop(j, "duplicate", 1.0, f"identical values to {self.names[partner]!r}")

    def _same_values(self, a: int, b: int) -> bool:
        """Confirms a hash match, so a collision can never drop a column."""
        left, right = self.X.iloc[:, a], self.X.iloc[:, b]
        if self.stats.kind[a] == "numeric":
            as_float = dict(dtype=np.float64, na_value=np.nan)
            return np.array_equal(left.to_numpy(**as_float), right.to_numpy(**as_float), equal_nan=True)
        left, right = left.astype(object).to_numpy(), right.astype(object).to_numpy()
        missing = pd.isna(left)
        return bool(np.array_equal(missing, pd.isna(right)) and (left[~missing] == right[~missing]).all())

    def _correlated(self) -> None:
        candidates = self._by_iv(np.flatnonzero(self.open & (self.stats.kind == "numeric")))
        if len(candidates) < 2:
            return
        corr = st.rank_correlation(np.column_stack([self.stats.sample_ranks[j] for j in candidates]))
        kept = np.zeros(len(candidates), dtype=bool)
        for i, j in enumerate(candidates):
            strength = np.where(kept, np.abs(corr[i]), -1.0)
            best = int(np.argmax(strength))
            if strength[best] <= self.s.max_correlation:
                kept[i] = True
                continue
            partner = candidates[best]
            iv_self, iv_partner = self.stats.iv[j], self.stats.iv[partner]
            which = "which has higher IV" if iv_partner > iv_self else "which has the same IV and comes first"
            self.drop(j, "correlated", float(strength[best]),
                      f"correlation {corr[i, best]:.3f} with {self.names[partner]!r}, {which} "
                      f"({iv_partner:.4f} vs {iv_self:.4f})")

    def report(self) -> pd.DataFrame:
        return pd.DataFrame({
            "feature": self.names,
            "kept": self.reason == "kept",
            "reason": self.reason.astype(str),
            "statistic": self.statistic,
            "detail": self.detail.astype(str),
            "iv": self.stats.iv,
            "psi": self.stats.psi,
        }, columns=REPORT_COLUMNS)
