"""Vectorised counting on integer-coded arrays, shared by the graph feature families."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def unique(keys: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an int64 array.

    ``np.unique`` would do, but its hash-based path (numpy 2.3+) is orders of magnitude
    slower than sorting on these arrays.
    """
    keys = np.sort(keys.astype(np.int64, copy=False))
    if len(keys) == 0:
        return keys
    first = np.empty(len(keys), dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    return keys[first]


def distinct_per_group(group: np.ndarray, item: np.ndarray, n_groups: int) -> np.ndarray:
    """Number of distinct ``item`` per ``group`` (both non-negative int arrays)."""
    if len(group) == 0:
        return np.zeros(n_groups, dtype=np.int64)
    span = int(item.max()) + 1
    return np.bincount(unique(group.astype(np.int64) * span + item) // span, minlength=n_groups)


def count_customers(group: np.ndarray, customer: np.ndarray, own: np.ndarray, n_groups: int,
                    span: int) -> np.ndarray:
    """Distinct known customers per group, the group's own customer excluded."""
    ok = (customer >= 0) & (customer != own)
    keys = unique(group[ok].astype(np.int64) * span + customer[ok])
    return np.bincount(keys // span, minlength=n_groups)


def group_max(group: np.ndarray, values: np.ndarray, n_groups: int, fill: float) -> np.ndarray:
    """Largest value per group; ``fill`` for a group without values."""
    out = np.full(n_groups, -np.inf)
    np.maximum.at(out, group, values)
    out[np.isneginf(out)] = fill
    return out


def group_min(group: np.ndarray, values: np.ndarray, n_groups: int, fill: float) -> np.ndarray:
    """Smallest value per group; ``fill`` for a group without values."""
    out = np.full(n_groups, np.inf)
    np.minimum.at(out, group, values)
    out[np.isposinf(out)] = fill
    return out


def chunks(rows: np.ndarray, lengths: np.ndarray, budget: int) -> Iterator[tuple[int, int]]:
    """Split the (row-sorted) pair ranges into [a, b) chunks of whole rows, ~budget pairs each."""
    n = len(rows)
    if n == 0:
        return
    cum = np.cumsum(lengths)
    a = 0
    while a < n:
        base = cum[a - 1] if a else 0
        b = int(np.searchsorted(cum, base + budget, side="right"))
        b = max(b, a + 1)
        # extend to the end of the current instance row so each row is in one chunk
        if b < n:
            b = int(np.searchsorted(rows, rows[b - 1], side="right"))
        yield a, b
        a = b
