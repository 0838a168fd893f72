"""Vectorised statistics behind feature selection: ranks, bins, IV/WoE, PSI, AUC.

PSI, the AUC formulas and the smoothing of bin shares are :mod:`creditml.stats`, shared
with metrics and monitoring; this module bins the candidates and adds what only
selection needs (IV/WoE, fingerprints, rank correlation). ``column_stats`` gathers
them for every candidate. Numeric columns are handled in
blocks (rows x columns arrays) so that 3,000 candidates cost a handful of numpy
passes, not 3,000 pandas round trips.

Binning conventions, shared by IV, PSI and the categorical AUC:

- numerics: ``bins`` quantile bins of the non-null values, taken from average ranks
  so that tied values always share a bin; missing values get a bin of their own
  (code ``bins``);
- categoricals: one bin per category, categories rarer than ``RARE_CATEGORY_SHARE``
  grouped into one "other" bin, missing values in a bin of their own.

Empty bins are ignored; every non-empty bin gets ``creditml.stats.SMOOTHING``
pseudo-counts so that a bin with no events (or no non-events) yields a finite WoE.
Unlike :func:`creditml.stats.psi`, which bins by the reference's quantiles, the PSI
between the early and late halves uses these bins, taken from both halves together: the
same bins as IV.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype, is_bool_dtype, is_complex_dtype, is_numeric_dtype, is_string_dtype

from creditml.stats import auc_from_counts, auc_from_ranks, psi_from_counts, smoothed_shares

RARE_CATEGORY_SHARE = 0.01
MAX_CORRELATION_ROWS = 20_000  # a fixed-seed row sample bounds the cost of the correlation matrix
BLOCK_CELLS = 4_000_000  # numeric columns are processed in blocks of about this many cells
_DATETIME_LIKE = {"datetime", "datetime64", "date", "time", "timedelta", "timedelta64", "period", "interval"}


def average_ranks(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1..m) of the non-null values of each column; NaN stays NaN.

    Returns the ranks and the number of distinct non-null values per column.
    """
    n = block.shape[0]
    order = np.argsort(block, axis=0, kind="stable")  # NaN sorts last
    ordered = np.take_along_axis(block, order, axis=0)
    present = ~np.isnan(ordered)
    starts = np.ones_like(present)
    starts[1:] = ordered[1:] != ordered[:-1]
    starts &= present
    ends = np.ones_like(present)
    ends[:-1] = starts[1:] | ~present[1:]
    position = np.arange(n, dtype=np.float64)[:, None]
    first = np.maximum.accumulate(np.where(starts, position, 0.0), axis=0)
    last = np.minimum.accumulate(np.where(ends, position, n)[::-1], axis=0)[::-1]
    ranks_ordered = np.where(present, (first + last) / 2.0 + 1.0, np.nan)
    ranks = np.empty_like(ranks_ordered)
    np.put_along_axis(ranks, order, ranks_ordered, axis=0)
    return ranks, starts.sum(axis=0)


def quantile_codes(ranks: np.ndarray, bins: int) -> np.ndarray:
    """Bin codes 0..bins-1 from average ranks; NaN ranks get code ``bins``."""
    n_present = np.sum(~np.isnan(ranks), axis=0)
    scaled = (ranks - 0.5) * bins / np.maximum(n_present, 1)
    codes = np.minimum(np.floor(np.nan_to_num(scaled, nan=bins)), bins - 1)
    return np.where(np.isnan(ranks), bins, codes).astype(np.int64)


def category_codes(values: pd.Series) -> tuple[np.ndarray, int, int]:
    """Codes with rare categories grouped: kept categories, then "other", then missing.

    Returns the codes, the number of code levels and the number of distinct non-null
    values before grouping.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        raw = values.cat.codes.to_numpy(dtype=np.int64)
    else:
        raw = pd.factorize(values, use_na_sentinel=True)[0].astype(np.int64)
    present = raw >= 0
    counts = np.bincount(raw[present], minlength=1)
    n_distinct = int(np.count_nonzero(counts))
    common = counts >= RARE_CATEGORY_SHARE * len(raw)
    remap = np.cumsum(common) - 1
    n_common = int(common.sum())
    other, missing = n_common, n_common + 1
    codes = np.full(len(raw), missing, dtype=np.int64)
    codes[present] = np.where(common[raw[present]], remap[raw[present]], other)
    return codes, n_common + 2, n_distinct


def bin_counts(codes: np.ndarray, n_levels: int, *weights: np.ndarray) -> list[np.ndarray]:
    """Per weight vector, its sum per (column, code): arrays of shape (columns, n_levels)."""
    n_cols = codes.shape[1]
    flat = (codes + n_levels * np.arange(n_cols)[None, :]).ravel()
    size = n_cols * n_levels
    return [
        np.bincount(flat, weights=np.repeat(w, n_cols), minlength=size).reshape(n_cols, n_levels)
        for w in weights
    ]


def woe_and_iv(events: np.ndarray, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WoE per bin (ln of non-event share over event share) and IV per column.

    ``events`` and ``totals`` are (columns, bins) counts; empty bins get WoE NaN and
    add nothing to IV.
    """
    occupied = totals > 0
    event_share = smoothed_shares(events, occupied)
    non_event_share = smoothed_shares(totals - events, occupied)
    with np.errstate(divide="ignore", invalid="ignore"):
        woe = np.where(occupied, np.log(non_event_share / event_share), np.nan)
    iv = np.where(occupied, (non_event_share - event_share) * np.nan_to_num(woe), 0.0).sum(axis=1)
    return woe, iv


def ranked_auc(ranks: np.ndarray, y: np.ndarray) -> np.ndarray:
    """max(AUC, 1 - AUC) per column; missing values tie above every present value."""
    n = ranks.shape[0]
    n_present = np.sum(~np.isnan(ranks), axis=0)
    missing_rank = (n_present + 1 + n) / 2.0
    filled = np.where(np.isnan(ranks), missing_rank[None, :], ranks)
    auc = auc_from_ranks(filled, y)
    return np.maximum(auc, 1.0 - auc)


def binned_auc(events: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """max(AUC, 1 - AUC) of scoring each row by its bin's event rate."""
    non_events = totals - events
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(totals > 0, events / totals, -1.0)
    order = np.argsort(rate, axis=1, kind="stable")
    auc = auc_from_counts(np.take_along_axis(events, order, axis=1), np.take_along_axis(non_events, order, axis=1))
    return np.maximum(auc, 1.0 - auc)


def numeric_fingerprints(block: np.ndarray) -> list[bytes]:
    """A digest per column of its values; -0.0 and +0.0, and all NaNs, hash alike."""
    canonical = np.where(np.isnan(block), np.nan, block + 0.0)
    columns = np.asfortranarray(canonical)
    return [hashlib.blake2b(columns[:, j].tobytes(), digest_size=16).digest() for j in range(columns.shape[1])]


def category_fingerprint(values: pd.Series) -> bytes:
    """A digest of the values themselves (not the codes), so equal values hash alike."""
    row_hashes = pd.util.hash_pandas_object(values, index=False).to_numpy()
    return hashlib.blake2b(row_hashes.tobytes(), digest_size=16).digest()


def rank_correlation(ranks: np.ndarray) -> np.ndarray:
    """Pearson correlation of rank columns, missing ranks imputed by the column mean.

    Pearson on ranks is Spearman's rho; a column constant on these rows gets 0.
    """
    centred = ranks - np.nanmean(ranks, axis=0, keepdims=True)
    centred = np.nan_to_num(centred, nan=0.0).astype(np.float32)
    norms = np.linalg.norm(centred, axis=0)
    centred /= np.where(norms > 0, norms, 1.0)
    corr = centred.T @ centred
    return np.clip(corr, -1.0, 1.0)


@dataclass
class ColumnStats:
    """Per-candidate statistics, aligned with X's columns (NaN where not computed)."""

    kind: np.ndarray  # "numeric", "categorical" or "unsupported"
    null_share: np.ndarray
    n_distinct: np.ndarray
    iv: np.ndarray
    psi: np.ndarray
    auc: np.ndarray
    fingerprint: list
    sample_ranks: dict  # column position -> float32 ranks on the correlation row sample


def column_kind(column: pd.Series) -> str:
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if is_bool_dtype(dtype) or (is_numeric_dtype(dtype) and not is_complex_dtype(dtype)):
        return "numeric"
    if is_string_dtype(dtype) and infer_dtype(column, skipna=True) not in _DATETIME_LIKE:
        return "categorical"
    return "unsupported"


def column_stats(X: pd.DataFrame, y: np.ndarray, early: np.ndarray, bins: int) -> ColumnStats:
    """Every statistic the rules need, for every column, in one pass over X."""
    n, p = X.shape
    nan = np.full(p, np.nan)
    kinds = np.array([column_kind(X.iloc[:, j]) for j in range(p)], dtype=object)
    stats = ColumnStats(kinds, nan.copy(), nan.copy(), nan.copy(), nan.copy(), nan.copy(), [None] * p, {})
    sample = np.arange(n)
    if n > MAX_CORRELATION_ROWS:
        sample = np.sort(np.random.default_rng(0).choice(n, MAX_CORRELATION_ROWS, replace=False))

    numeric = np.flatnonzero(stats.kind == "numeric")
    width = max(1, BLOCK_CELLS // max(n, 1))
    for start in range(0, len(numeric), width):
        cols = numeric[start:start + width]
        block = np.empty((n, len(cols)))
        for k, j in enumerate(cols):
            block[:, k] = X.iloc[:, j].to_numpy(dtype=np.float64, na_value=np.nan)
        ranks, n_distinct = average_ranks(block)
        codes = quantile_codes(ranks, bins)
        _fill_binned(stats, cols, codes, bins + 1, y, early)
        stats.null_share[cols] = np.isnan(block).mean(axis=0)
        stats.n_distinct[cols] = n_distinct
        stats.auc[cols] = ranked_auc(ranks, y)
        for j, fp, r in zip(cols, numeric_fingerprints(block), ranks[sample].astype(np.float32).T):
            stats.fingerprint[j] = fp
            stats.sample_ranks[j] = r

    for j in np.flatnonzero(stats.kind == "categorical"):
        column = X.iloc[:, j]
        try:
            codes, n_levels, n_distinct = category_codes(column)
        except TypeError:  # unhashable objects (lists, dicts) are not categories
            stats.kind[j] = "unsupported"
            continue
        events, totals = _fill_binned(stats, [j], codes[:, None], n_levels, y, early)
        stats.null_share[j] = column.isna().mean()
        stats.n_distinct[j] = n_distinct
        stats.auc[j] = binned_auc(events, totals)[0]
        stats.fingerprint[j] = category_fingerprint(column)
    return stats


def _fill_binned(stats, cols, codes, n_levels, y, early) -> tuple[np.ndarray, np.ndarray]:
    """IV and PSI of the columns ``cols`` from their bin codes; returns events and totals."""
    events, totals, early_counts = bin_counts(codes, n_levels, y, np.ones_like(y), early)
    stats.iv[cols] = woe_and_iv(events, totals)[1]
    stats.psi[cols] = psi_from_counts(early_counts, totals - early_counts)
    return events, totals


def period_psi(X: pd.DataFrame, X_next: pd.DataFrame, bins: int) -> np.ndarray:
    """PSI of every column between the rows of X and those of X_next, on bins taken from both (as IV's)."""
    both = pd.concat([X, X_next], ignore_index=True)
    for j in range(X.shape[1]):  # a category seen in one period only is still a category of the column
        if isinstance(X.dtypes.iloc[j], pd.CategoricalDtype) or isinstance(X_next.dtypes.iloc[j], pd.CategoricalDtype):
            both[both.columns[j]] = pd.concat([X.iloc[:, j].astype(object), X_next.iloc[:, j].astype(object)],
                                              ignore_index=True).astype("category")
    first = np.r_[np.ones(len(X)), np.zeros(len(X_next))]
    return column_stats(both, first, first, bins).psi  # y: the period, so no statistic divides by zero
