"""As-of-cutoff aggregates the generating process conditions on.

These are the quantities a feature pipeline can compute from the written tables
using only rows (and late-known values) known at the cutoff; the true probabilities
are functions of them (plus a small noise term).
"""

from __future__ import annotations

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def ranges(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the integer ranges [starts[i], ends[i]): (query index, position)."""
    lens = np.maximum(ends - starts, 0)
    q = np.repeat(np.arange(len(starts)), lens)
    off = np.r_[0, np.cumsum(lens)[:-1]]
    pos = starts[q] + (np.arange(lens.sum()) - off[q])
    return q, pos


def installment_history(st, c_start, c_end, qc, qt) -> dict:
    """Customer installment history as of qt: visible rows are due_at <= qt; paid
    amount and days late are known only when paid_at <= qt."""
    nq = len(qc)
    q, s = ranges(c_start[qc], c_end[qc])
    t = qt[q]
    vis = st["valid"][s] & (st["due"][s] <= t)
    q, s, t = q[vis], s[vis], t[vis]
    paid = st["paid"][s]
    known = paid <= t
    late = known & (st["late"][s] > 0)
    partial = known & (st["apaid"][s] < st["amt"][s] - 0.005)
    recent = known & (st["due"][s] > t - 180)
    overdue = ~known & (st["due"][s] < t)

    def cnt(m):
        return np.bincount(q[m], minlength=nq).astype(float)

    n_known = cnt(known)
    n_late = cnt(late)
    max_late = np.zeros(nq)
    np.maximum.at(max_late, q[known], np.minimum(st["late"][s][known], 90))
    last_late = np.full(nq, -np.inf)
    np.maximum.at(last_late, q[late], paid[late])
    share = np.divide(n_late, n_known, out=np.zeros(nq), where=n_known > 0)
    n_rec = cnt(recent)
    rec_share = np.divide(cnt(recent & late), n_rec, out=share.copy(), where=n_rec > 0)
    return dict(
        n_known=n_known, share_late=share, max_late=max_late,
        partial=np.divide(cnt(partial), n_known, out=np.zeros(nq), where=n_known > 0),
        trend=rec_share - share, overdue=cnt(overdue),
        recency=np.exp(-(qt - last_late) / 180.0),
    )


def count_before(keys_sorted: np.ndarray, group: np.ndarray, t: np.ndarray, side: str = "right",
                 cum: np.ndarray | None = None) -> np.ndarray:
    """Events keyed group*1e5+time (sorted): count (or sum of ``cum`` weights) of the
    group's events with time <= t (side='right') or < t (side='left')."""
    lo = np.searchsorted(keys_sorted, group * 1e5 - 1e4, "left")
    hi = np.searchsorted(keys_sorted, group * 1e5 + t, side)
    if cum is None:
        return (hi - lo).astype(float)
    c = np.r_[0.0, np.cumsum(cum)]
    return c[hi] - c[lo]
