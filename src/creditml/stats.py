"""Statistics shared across creditml: population stability (PSI) and AUC from ranks or counts.

The lowest layer: numpy and pandas only, no other creditml module. Metrics
(``modeling.metrics``), feature selection (``features.selection``) and drift
monitoring (``serving.monitor``) all compute PSI and AUC here, so a promotion gate, a
selection rule and a monitoring verdict mean the same thing by "PSI 0.25".

PSI
---
``PSI = sum over bins (a - e) * ln(a / e)`` with ``e`` and ``a`` the reference
(expected) and current (actual) shares of each bin. Rule of thumb: < 0.1 stable,
0.1-0.25 worth watching, > 0.25 shifted.

Empty bins: every bin occupied in either sample gets ``SMOOTHING`` (0.5) pseudo-counts in
both, and the shares are renormalised; bins empty in both are dropped (they would add
0). So the shares stay probability distributions, a bin empty in one sample gives a
finite term that reflects the sample size (an empty bin among 40 rows is weak evidence,
among a million strong), identical samples give exactly 0, and for large samples the
value converges to the unsmoothed PSI. Before this module creditml had three PSIs that
differed here: ``modeling.metrics`` floored each share at 1e-6 (without
renormalising) and ``serving.monitor`` added 1e-4 to each share; both let an arbitrary
constant dominate the value whenever a bin was empty (one empty decile alone gave
about 0.1 * ln(0.1 / 1e-6) = 1.15). Selection's rule, kept here, was the only one without
that flaw, and keeping it leaves the selected features unchanged.

Bins for values (:func:`psi`): numeric values fall in bins between the distinct
interior quantiles of the reference (``bins`` equal-frequency bins, merged where the
reference has ties), missing values in a bin of their own, other values (strings,
categories, booleans) one bin per level. Quantiles equal to the reference minimum are
no edge: such an edge would open a bin below the reference minimum that the reference
can never occupy, so that a handful of current values below the minimum would weigh
like a whole new population (``modeling.metrics`` kept that edge, ``serving.monitor``
dropped it; the monitor also dropped a quantile equal to the reference maximum, which
costs a bin but is otherwise harmless: it is kept here).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SMOOTHING = 0.5  # pseudo-counts per occupied bin, for PSI and (in feature selection) WoE


def smoothed_shares(counts: np.ndarray, occupied: np.ndarray) -> np.ndarray:
    """Shares of each bin along the last axis after adding ``SMOOTHING`` to occupied bins.

    Bins not ``occupied`` get share 0.
    """
    smoothed = np.where(occupied, counts + SMOOTHING, 0.0)
    return smoothed / smoothed.sum(axis=-1, keepdims=True)


def psi_from_counts(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """PSI between two count tables with the bins on the last axis (one value per row).

    ``expected`` holds the reference counts, ``actual`` the current ones, over the same
    bins. See the module docstring for the treatment of empty bins.
    """
    expected, actual = np.asarray(expected, dtype=np.float64), np.asarray(actual, dtype=np.float64)
    if expected.shape != actual.shape:
        raise ValueError(
            f"psi_from_counts: expected and actual must count the same bins; found shapes {expected.shape} "
            f"and {actual.shape}"
        )
    occupied = (expected + actual) > 0
    e = smoothed_shares(expected, occupied)
    a = smoothed_shares(actual, occupied)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(occupied, (a - e) * np.log(a / e), 0.0)
    return terms.sum(axis=-1)


def psi(reference, current, bins: int = 10) -> float:
    """PSI of ``current`` values against ``reference`` values (see the module docstring).

    Numeric values (not booleans) are binned by ``bins`` quantiles of the reference;
    other values by level. Missing values (NaN, None, NA) are a bin of their own; when
    the reference is numeric, current values that are not numbers count as missing.
    """
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise ValueError(f"psi: bins must be >= 2; got {bins!r} (10 gives deciles of the reference)")
    ref, cur = _as_series(reference, "reference"), _as_series(current, "current")
    if _is_numeric(ref):
        ref_codes, cur_codes = _quantile_codes(ref, cur, bins)
    else:
        ref_codes, cur_codes = _level_codes(ref, cur)
    n_codes = int(max(ref_codes.max(), cur_codes.max())) + 1
    counts = [np.bincount(codes, minlength=n_codes) for codes in (ref_codes, cur_codes)]
    return float(psi_from_counts(*counts))


def reference_edges(reference: np.ndarray, bins: int) -> np.ndarray:
    """Inner bin edges: the distinct interior ``bins``-quantiles of the (non-missing)
    reference values above their minimum. Bin ``i`` is ``[edge[i-1], edge[i])``."""
    if reference.size == 0:
        return np.empty(0)
    inner = np.unique(np.quantile(reference, np.linspace(0.0, 1.0, bins + 1))[1:-1])
    return inner[inner > reference.min()]


def _as_series(values, name: str) -> pd.Series:
    if not isinstance(values, pd.Series):
        if np.ndim(values) != 1:
            raise ValueError(f"psi: {name} must be one-dimensional; got shape {np.shape(values)}")
        values = pd.Series(values)
    if len(values) == 0:
        raise ValueError(f"psi: {name} holds no values; PSI compares two non-empty samples")
    return values.reset_index(drop=True)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _quantile_codes(ref: pd.Series, cur: pd.Series, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Bin codes 0..len(edges) by the reference quantiles; missing values get the next code."""
    ref_num = pd.to_numeric(ref, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    cur_num = pd.to_numeric(cur, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    edges = reference_edges(ref_num[~np.isnan(ref_num)], bins)
    missing = len(edges) + 1
    return tuple(np.where(np.isnan(x), missing, np.searchsorted(edges, x, side="right"))
                 for x in (ref_num, cur_num))


def _level_codes(ref: pd.Series, cur: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """One code per level seen in either sample (compared as text); missing values are a level."""
    as_text = [s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v))
               for s in (ref, cur)]
    codes, _ = pd.factorize(pd.concat(as_text, ignore_index=True), use_na_sentinel=False)
    return codes[:len(ref)], codes[len(ref):]


def auc_from_ranks(ranks: np.ndarray, y: np.ndarray) -> np.ndarray | float:
    """AUC by the Mann–Whitney rank formula: ``(sum of positives' ranks - P (P + 1) / 2) / (P N)``.

    ``ranks`` are average ranks (1..n, ties share their mean rank, so a tie counts one
    half) of shape ``(n,)`` or ``(n, columns)``; ``y`` holds n labels 0/1 with both
    classes present. Returns one AUC, or one per column.
    """
    y = np.asarray(y, dtype=np.float64)
    n_pos = float(y.sum())
    n_neg = len(y) - n_pos
    return (y @ ranks - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def auc_from_counts(positives: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """AUC from positive and negative counts per score group, groups in ascending score
    order on the last axis (ties within a group count one half).

    Rows without a positive or a negative give NaN (or inf), without a warning; callers
    that can meet them filter them out.
    """
    negatives_below = np.cumsum(negatives, axis=-1) - negatives
    u = (positives * (negatives_below + 0.5 * negatives)).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return u / (positives.sum(axis=-1) * negatives.sum(axis=-1))
