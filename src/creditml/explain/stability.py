"""Stability of the out-of-time figures over months and declared segments.

Pure: labels, probabilities, cutoff times and segment values in, frozen tables out.

For every group (a calendar month of the cutoff time, or one value of a segment
column) the AUC and the label rate (the bad rate of a default model) are shown with
95% intervals: the AUC's is the seeded bootstrap percentile interval of
``modeling.metrics.bootstrap_auc``; the rate's is the Wilson score interval. (A
percentile bootstrap of a proportion collapses to [0, 0] for a group without a
positive, which would read as certainty; Wilson's interval does not, and it is the
same for the same counts wherever they appear.)

**When a group is flagged.** Let F be the figure on all out-of-time instances with its
95% interval [L, H], and f, [l, h] the group's figure and interval. The group is
flagged ``below`` when ``f < L`` and ``h < F``, ``above`` when ``f > H`` and ``l > F``:
its figure falls outside the overall interval *and* its own interval excludes the
overall figure, so a small group whose figure is merely noisy is not flagged. Groups
with fewer than ``min_group`` instances, or (for the AUC) fewer than ``min_class``
positives or negatives, are shown as too small and never flagged. Segment values
smaller than ``min_group`` are pooled into one ``other`` row (shown, never flagged).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scipy.stats import norm

from creditml.modeling.metrics import bootstrap_auc, roc_auc

MIN_GROUP = 50
MIN_CLASS = 5
MISSING = "(missing)"
Z95 = float(norm.ppf(0.975))


@dataclass(frozen=True)
class Figure:
    value: float
    low: float
    high: float
    flag: str = ""  # "", "above", "below" or "too small"


@dataclass(frozen=True)
class GroupRow:
    group: str
    n: int
    positives: int
    rate: Figure
    auc: Figure
    pooled: int = 0  # > 0: an "other" row pooling this many small values

    @property
    def flagged(self) -> bool:
        return self.rate.flag in ("above", "below") or self.auc.flag in ("above", "below")


@dataclass(frozen=True)
class GroupTable:
    by: str  # "month" or a segment column (table.column)
    rows: list[GroupRow]

    @property
    def flagged(self) -> int:
        return sum(r.flagged for r in self.rows)


@dataclass(frozen=True)
class Stability:
    overall: GroupRow
    tables: list[GroupTable]  # the months first, then each segment column
    min_group: int
    min_class: int
    n_bootstrap: int


def stability(y_true, p, cutoff_times, segments: pd.DataFrame | None = None, *, n_bootstrap: int = 200,
              seed: int = 0, min_group: int = MIN_GROUP, min_class: int = MIN_CLASS) -> Stability:
    """AUC and label rate overall, by month of ``cutoff_times`` and by each column of ``segments``.

    ``y_true``, ``p``, ``cutoff_times`` and ``segments`` rows are the same instances in
    the same order.
    """
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(p, dtype=float)
    times = pd.to_datetime(pd.Series(np.asarray(cutoff_times)))
    if not (len(y) == len(p) == len(times)) or (segments is not None and len(segments) != len(y)):
        raise ValueError(f"stability: labels ({len(y)}), probabilities ({len(p)}), cutoff times ({len(times)})"
                         + (f" and segments ({len(segments)})" if segments is not None else "")
                         + " must describe the same instances; pass one row per out-of-time instance")
    if n_bootstrap < 1:
        raise ValueError(f"stability: n_bootstrap must be >= 1 (the AUC intervals are bootstrap intervals); "
                         f"got {n_bootstrap}")
    overall = _row("all out-of-time", y, p, None, n_bootstrap, seed, min_group, min_class)
    months = times.dt.strftime("%Y-%m").to_numpy()
    tables = [GroupTable("month", [_row(m, y[months == m], p[months == m], overall, n_bootstrap, seed,
                                        min_group, min_class) for m in sorted(set(months))])]
    for column in ([] if segments is None else segments.columns):
        values = segments[column].astype("string").fillna(MISSING).to_numpy()
        counts = pd.Series(values).value_counts(sort=True)
        rows = [_row(str(v), y[values == v], p[values == v], overall, n_bootstrap, seed, min_group, min_class)
                for v, c in counts.items() if c >= min_group]
        small = counts[counts < min_group]
        if len(small):
            mask = np.isin(values, small.index.to_numpy())
            row = _row(f"other ({len(small)} smaller values)", y[mask], p[mask], None, n_bootstrap, seed,
                       min_group, min_class)
            rows.append(GroupRow(row.group, row.n, row.positives, row.rate, row.auc, pooled=len(small)))
        tables.append(GroupTable(str(column), rows))
    return Stability(overall, tables, min_group, min_class, n_bootstrap)


def flag(value: float, low: float, high: float, overall: Figure) -> str:
    """``below``/``above`` when ``value`` is outside the overall interval and [low, high] excludes the overall
    figure; otherwise ``""``."""
    if value < overall.low and high < overall.value:
        return "below"
    if value > overall.high and low > overall.value:
        return "above"
    return ""


def wilson_interval(positives: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``positives / n``."""
    if n == 0:
        return math.nan, math.nan
    rate = positives / n
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _row(name: str, y: np.ndarray, p: np.ndarray, overall: GroupRow | None, n_bootstrap: int, seed: int,
         min_group: int, min_class: int) -> GroupRow:
    n, positives = len(y), int(y.sum())
    rate = positives / n if n else math.nan
    r_low, r_high = wilson_interval(positives, n)
    too_small = n < min_group
    rate_fig = Figure(rate, r_low, r_high, "too small" if too_small else
                      flag(rate, r_low, r_high, overall.rate) if overall else "")
    if min(positives, n - positives) < min_class:
        auc = roc_auc(y, p) if 0 < positives < n else math.nan
        auc_fig = Figure(auc, math.nan, math.nan, "too small")
    else:
        auc = roc_auc(y, p)
        a_low, a_high = bootstrap_auc(y, p, n_bootstrap, seed)
        auc_fig = Figure(auc, a_low, a_high, "too small" if too_small else
                         flag(auc, a_low, a_high, overall.auc) if overall else "")
    return GroupRow(name, n, positives, rate_fig, auc_fig)
