"""Bureau files, loans and their monthly installments for one chunk of customers.

The simulation runs forward in 21-day windows so that every probability is computed
from what was known at its cutoff: collection cases opening in the window are
resolved first (see ``_collections``), then the window's applications are scored,
decided, and approved ones become loans whose repayment path is drawn given the
default label.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditml.data.synthetic._collections import Collections
from creditml.data.synthetic._history import installment_history, sigmoid
from creditml.data.synthetic._params import CREDIT, DEFAULT_WINDOW_DAYS, DPD_DEFAULT, END_DAY, MONTH, WINDOW_DAYS

CREDIT_TYPES = np.array(["credit_card", "consumer_loan", "mortgage", "auto_loan", "overdraft"])
LIMIT_LOG_MEAN = np.array([10.3, 11.3, 14.3, 12.8, 9.8])


def bureau(cids: np.ndarray, customers: dict, mean_accounts: float, rng) -> tuple[pd.DataFrame, dict]:
    """Bureau accounts reported when the customer was created (before any application)."""
    risk = customers["risk"][cids]
    n = np.where(customers["thin"][cids], 0, np.minimum(1 + rng.poisson(mean_accounts - 1, len(cids)), 60))
    q = np.repeat(np.arange(len(cids)), n)
    k = np.arange(len(q)) - np.r_[0, np.cumsum(n)[:-1]][q]
    m = len(q)
    r = risk[q]
    ctype = rng.choice(len(CREDIT_TYPES), m, p=[0.35, 0.3, 0.1, 0.1, 0.15])
    limit = np.round(np.exp(LIMIT_LOG_MEAN[ctype] + rng.normal(0, 0.5, m)), -2)
    closed = rng.random(m) < 0.25
    util = np.where(closed, 0.0, np.clip(sigmoid(-0.8 + 0.9 * r + rng.normal(0, 0.8, m)) * 1.1, 0, 1.2))
    balance = np.round(limit * util, 0)
    z = 0.9 * r + rng.normal(0, 0.8, m)
    bucket = np.searchsorted([1.0, 1.5, 2.0, 2.5], z)
    lo, hi = np.array([0, 1, 30, 60, 90]), np.array([0, 29, 59, 89, 180])
    dpd = (lo[bucket] + rng.random(m) * (hi[bucket] - lo[bucket] + 1) // 1).astype(float)
    dpd = np.minimum(dpd, hi[bucket])
    late = rng.poisson(np.exp(-1.3 + 0.9 * r)).astype(float)
    dpd[rng.random(m) < 0.06] = np.nan
    balance[rng.random(m) < 0.04] = np.nan
    created = customers["created"][cids][q]
    frame = pd.DataFrame({
        "bureau_account_id": (cids[q].astype(np.int64) * 64 + k),
        "customer_id": cids[q].astype(np.int64),
        "reported_at": created,
        "opened_at": created - rng.exponential(900, m) - 1,
        "credit_type": CREDIT_TYPES[ctype],
        "credit_limit": limit,
        "balance": balance,
        "max_dpd_24m": dpd,
        "n_late_payments": late,
        "closed": closed,
    })
    nc = len(cids)
    maxdpd = np.full(nc, -1.0)
    ok = ~np.isnan(dpd)
    np.maximum.at(maxdpd, q[ok], dpd[ok])
    ratio = balance / limit
    okr = ~np.isnan(ratio)
    nr = np.bincount(q[okr], minlength=nc)
    util_mean = np.divide(np.bincount(q[okr], weights=ratio[okr], minlength=nc), nr, out=np.full(nc, 0.4), where=nr > 0)
    agg = dict(
        dpd_bucket=np.searchsorted([0.5, 29.5, 59.5, 89.5], maxdpd).astype(float) * (maxdpd >= 0),
        late=np.minimum(np.bincount(q, weights=late, minlength=nc), 20),
        util=util_mean - 0.4, thin=(n == 0).astype(float),
    )
    return frame, agg


class ChunkSim:
    """Forward simulation of one chunk of customers (local customer index = position in cids)."""

    def __init__(self, cids, app_ix, sk, fraud, bureau_agg, rng):
        c, a = sk["customers"], sk["apps"]
        self.rng = rng
        self.cids = cids
        self.app_ix = app_ix  # global application ids of the chunk, sorted by (customer, time)
        self.lc = np.searchsorted(cids, a["cust"][app_ix])  # local customer of each chunk app
        self.t = a["t"][app_ix]
        self.amount, self.term = a["amount"][app_ix], a["term"][app_ix]
        self.declared = a["declared"][app_ix]
        self.p_fraud = np.where(a["inter"][app_ix] >= 0, fraud["p"][app_ix], 0.0)
        self.risk, self.resp = c["risk"][cids], c["resp"][cids]
        mi = c["monthly_income"][cids][self.lc]
        self.inc_missing = np.isnan(mi)
        self.inc = np.where(self.inc_missing, self.declared, mi)
        self.bur = bureau_agg
        n = len(app_ix)
        self.slot_start = np.r_[0, np.cumsum(self.term)[:-1]]
        S = int(self.term.sum())
        first = np.r_[True, self.lc[1:] != self.lc[:-1]]
        cs = np.zeros(len(cids), np.int64)
        ce = np.zeros(len(cids), np.int64)
        cs[self.lc[first]] = self.slot_start[first]
        last = np.r_[self.lc[1:] != self.lc[:-1], True]
        ce[self.lc[last]] = self.slot_start[last] + self.term[last]
        self.c_start, self.c_end = cs, ce
        self.st = {k: np.full(S, np.nan) for k in ("due", "amt", "paid", "apaid", "late", "ppaid", "papaid", "plate")}
        self.st["valid"] = np.zeros(S, bool)
        self.slot_app = np.repeat(np.arange(n), self.term)
        key = self.lc * 1e5 + self.t
        self.n_apps_90 = np.arange(n) - np.searchsorted(key, key - 90, "left")
        # outputs per application
        self.p_default = np.full(n, np.nan)
        self.approved = np.zeros(n, bool)
        self.default = np.zeros(n, np.int8)
        self.disb = np.full(n, np.nan)
        self.principal = np.full(n, np.nan)
        self.rate = np.full(n, np.nan)
        self.payment = np.full(n, np.nan)
        self.stop_j = np.zeros(n, np.int64)  # 1-based terminal installment of defaulting loans
        self.coll = Collections(self)

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        order_t = np.argsort(self.t, kind="stable")
        n_w = int(np.ceil(END_DAY / WINDOW_DAYS)) + 1
        wb = np.searchsorted(self.t[order_t], np.arange(n_w + 1) * WINDOW_DAYS)
        for w in range(n_w):
            self.coll.process_window(w * WINDOW_DAYS, (w + 1) * WINDOW_DAYS)
            idx = order_t[wb[w]:wb[w + 1]]
            if len(idx) == 0:
                continue
            idx = idx[np.lexsort((self.t[idx], self.lc[idx]))]
            rank = np.r_[0, np.cumsum(self.lc[idx][1:] == self.lc[idx][:-1])]
            rank = rank - np.maximum.accumulate(np.where(np.r_[True, self.lc[idx][1:] != self.lc[idx][:-1]], rank, 0))
            for r in range(int(rank.max()) + 1):
                self._applications(idx[rank == r])

    def _applications(self, q: np.ndarray) -> None:
        rng = self.rng
        lc, t = self.lc[q], self.t[q]
        h = installment_history(self.st, self.c_start, self.c_end, lc, t)
        b = {k: v[lc] for k, v in self.bur.items()}
        has = (h["n_known"] > 0).astype(float)
        C = CREDIT
        lin = (C["intercept"] + C["bureau_dpd"] * b["dpd_bucket"] + C["bureau_late"] * b["late"]
               + C["bureau_util"] * b["util"] + C["thin_file"] * b["thin"] + C["has_history"] * has
               + has * (C["share_late"] * h["share_late"] + C["max_late"] * h["max_late"] / 30
                        + C["partial"] * h["partial"] + C["trend"] * h["trend"]
                        + C["overdue"] * np.minimum(h["overdue"], 3) + C["recency"] * h["recency"])
               + C["income"] * np.log(self.inc[q] / 30000) + C["income_missing"] * self.inc_missing[q]
               + C["amount"] * np.log(self.amount[q] / 30000) + C["recent_apps"] * np.minimum(self.n_apps_90[q], 5)
               + C["fraud"] * self.p_fraud[q])
        approve = rng.random(len(q)) < sigmoid(1.0 - 1.1 * (lin + 2.6))
        p = sigmoid(lin + C["noise"] * rng.normal(0, 1, len(q)))
        q, p, lin = q[approve], p[approve], lin[approve]
        self.approved[q] = True
        self.p_default[q] = p
        d = rng.random(len(q)) < p
        self.default[q] = d
        self._loans(q, d, lin)

    def _loans(self, q, d, lin) -> None:
        rng = self.rng
        n = len(q)
        if n == 0:
            return
        disb = self.t[q] + rng.uniform(0.05, 4, n)
        principal = np.where(rng.random(n) < 0.8, self.amount[q], np.round(self.amount[q] * rng.uniform(0.5, 0.9, n), -2))
        rate = np.round(np.clip(0.07 + 0.9 * sigmoid(lin) + rng.normal(0, 0.01, n), 0.05, 0.6), 4)
        term = self.term[q]
        i = rate / 12
        pay = np.round(principal * i / (1 - (1 + i) ** -term), 2)
        self.disb[q], self.principal[q], self.rate[q], self.payment[q] = disb, principal, rate, pay
        stop = np.where(d, 1 + rng.choice(7, n, p=np.array([1, 1.2, 1.3, 1.3, 1.2, 1.1, 1]) / 8.1), 0)
        self.stop_j[q] = stop
        # rows
        L = np.repeat(np.arange(n), term)
        j = np.arange(len(L)) - np.r_[0, np.cumsum(term)[:-1]][L] + 1
        s = self.slot_start[q][L] + j - 1
        r = self.risk[self.lc[q]][L]
        tau_loan = rng.normal(0, 0.7, n)
        tau = tau_loan[L]
        due = np.floor(disb)[L] + np.round(MONTH * j)
        amt = pay[L]
        pre = (stop[L] > 0) & (j >= stop[L] - 2) & (j < stop[L])
        late = rng.random(len(L)) < np.where(pre, 0.6, sigmoid(-2.4 + 1.1 * r + tau * j / 12))
        days = np.where(late, np.minimum(rng.geometric(0.15, len(L)), 29), 0).astype(float)
        paid = due + days + rng.uniform(0, 0.9, len(L))
        partial = rng.random(len(L)) < sigmoid(-3.2 + 0.9 * r)
        apaid = np.where(partial, np.round(amt * rng.uniform(0.4, 0.95, len(L)), 2), amt)
        st = self.st
        st["valid"][s] = True
        st["due"][s], st["amt"][s] = due, amt
        st["ppaid"][s], st["papaid"][s], st["plate"][s] = paid, apaid, days
        # severe episodes (>30 DPD): at most one per 6-month block, at block positions 1..3
        blk, pos = (j - 1) // 6, (j - 1) % 6
        nb = int(blk.max()) + 1
        sb = rng.random((n, nb)) < sigmoid(-2.1 + 1.1 * self.risk[self.lc[q]][:, None]
                                           + tau_loan[:, None] * np.arange(nb)[None, :] / 2)
        sp = rng.integers(0, 3, (n, nb))
        severe = sb[L, blk] & (pos == sp[L, blk]) & (j + 2 <= term[L]) & ((stop[L] == 0) | (j <= stop[L] - 4))
        terminal = j == stop[L]
        pending = np.zeros(len(L), bool)
        sev = np.flatnonzero(severe)
        for k in range(3):
            pending[sev + k] = True
        after = (stop[L] > 0) & (j >= stop[L])
        hide = pending | after
        st["paid"][s] = np.where(hide, np.nan, paid)
        st["apaid"][s] = np.where(hide, np.nan, apaid)
        st["late"][s] = np.where(hide, np.nan, days)
        cs = np.flatnonzero(severe | terminal)
        self.coll.register(s[cs], q[L[cs]], due[cs], terminal[cs])

    # ------------------------------------------------------------------ outputs
    def default_known_at(self) -> np.ndarray:
        """90 DPD date of the first never-paid installment for defaults (the stop
        installment, or two later when its collection case was cured); disbursed +
        12 months + 90 days otherwise."""
        known = self.disb + DEFAULT_WINDOW_DAYS + DPD_DEFAULT
        d = np.flatnonzero(self.default == 1)
        first_unpaid = np.full(len(d), -1)
        for off in (2, 1, 0):
            s = self.slot_start[d] + self.stop_j[d] - 1 + off
            first_unpaid = np.where(np.isnan(self.st["paid"][s]), s, first_unpaid)
        known[d] = self.st["due"][first_unpaid] + DPD_DEFAULT
        return known
