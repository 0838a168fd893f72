"""The selection rules, applied in order; each candidate keeps the first reason it gets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditml.config import SelectionSettings
from creditml.features.selection import _statistics as st

REPORT_COLUMNS = ["feature", "kept", "reason", "statistic", "detail", "iv", "psi"]


def psi_noise_limit(rows: int, bins: int, level: float = 0.999, second: int | None = None) -> float:
    """The PSI two halves of ``rows`` (or ``rows`` against ``second`` rows) reach by chance alone at
    ``level`` (PSI ~ chi2(bins-1) * (1/n1 + 1/n2)).

    On a small portfolio the halves of the training rows differ by sampling noise: 314 rows once
    had 224 candidates above 0.25 without any drift. Above a few thousand rows the limit is far
    below ``max_psi`` and changes nothing.
    """
    from scipy.stats import chi2

    n1, n2 = (rows / 2, rows / 2) if second is None else (rows, second)
    return float(chi2.ppf(level, bins - 1) * (1 / max(n1, 1.0) + 1 / max(n2, 1.0)))


class Decisions:
    """Applies the rules in order (``run``); ``report`` gives one row per candidate."""

    def __init__(self, X: pd.DataFrame, stats: st.ColumnStats, settings: SelectionSettings,
                 next_psi: np.ndarray | None = None, next_rows: int = 0):
        self.X, self.stats, self.s = X, stats, settings
        self.next_psi, self.next_rows = next_psi, next_rows  # PSI against the next period's rows
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
        stable_enough = len(self.X) >= s.min_stability_rows  # too few rows: PSI is reported, never acted on
        limit = max(s.max_psi, psi_noise_limit(len(self.X), s.bins))
        for j in np.flatnonzero(self.open & (st_.psi > limit) & stable_enough):
            self.drop(j, "unstable", st_.psi[j],
                      f"PSI {st_.psi[j]:.3f} > {limit:.3f} between the early and late halves of "
                      "the training rows by time")
        if self.next_psi is not None and stable_enough and self.next_rows >= s.min_stability_rows:
            limit = max(s.max_psi, psi_noise_limit(len(self.X), s.bins, second=self.next_rows))
            for j in np.flatnonzero(self.open & (self.next_psi > limit)):
                self.drop(j, "unstable", self.next_psi[j],
                          f"PSI {self.next_psi[j]:.3f} > {limit:.3f} between the training rows and the "
                          "validation period's rows")
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
