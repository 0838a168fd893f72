"""Collection cases and actions.

A case opens when a loan reaches 30 days past due (at most one case per 90 days; a
loan that never gets back to 0 DPD opens no new case). At its opening the cure
probability is computed from what is known then (days past due, outstanding balance,
the customer's repayment history, earlier contact outcomes and kept promises); the
cure is drawn, and the case's installments and actions are written consistently with it.
"""

from __future__ import annotations

import numpy as np

from creditml.data.synthetic._history import count_before, installment_history, sigmoid
from creditml.data.synthetic._params import CURE, CURE_WINDOW_DAYS

CHANNELS = np.array(["sms", "robot_call", "call", "letter"])
CHANNEL_REACH = np.array([-1.0, -0.3, 0.3, -1.5])
OUTCOMES = np.array(["no_answer", "wrong_number", "reached", "promise_to_pay", "refused"])


class Collections:
    def __init__(self, sim):
        self.sim = sim
        self.p = None  # registered (future) cases: slot, app, due, terminal, open, u, done
        self.terminal_cured = np.zeros(len(sim.app_ix), np.int64)
        self.cases: list[dict] = []
        self.actions: list[dict] = []
        self._act_keys = None

    def register(self, slot, app, due, terminal) -> None:
        """Cases that will open when these installments reach 30 DPD (drawn at loan creation)."""
        rng = self.sim.rng
        new = dict(slot=slot, app=app, due=due, terminal=terminal,
                   open=due + 30 + rng.uniform(0.0, 8.0, len(due)), u=rng.random(len(due)),
                   done=np.zeros(len(due), bool))
        self.p = new if self.p is None else {k: np.concatenate([self.p[k], new[k]]) for k in new}

    def process_window(self, t0: float, t1: float) -> None:
        p = self.p
        if p is None:
            return
        sel = np.flatnonzero(~p["done"] & (p["open"] < t1))
        if len(sel) == 0:
            return
        lc = self.sim.lc[p["app"][sel]]
        sel = sel[np.lexsort((p["open"][sel], lc))]
        lc = self.sim.lc[p["app"][sel]]
        grp = np.r_[True, lc[1:] != lc[:-1]]
        idx = np.arange(len(sel))
        rank = idx - np.maximum.accumulate(np.where(grp, idx, 0))
        for r in range(int(rank.max()) + 1):
            self._resolve(sel[rank == r])
        p["done"][sel] = True

    def _history_keys(self):
        if not self.actions:
            return None
        if self._act_keys is None:
            a = {k: np.concatenate([x[k] for x in self.actions]) for k in self.actions[0]}
            o = np.argsort(a["cust"] * 1e5 + a["at"], kind="stable")
            prom = np.flatnonzero(a["outcome"] == 3)
            o2 = prom[np.argsort(a["cust"][prom] * 1e5 + a["checked"][prom], kind="stable")]
            c = {k: np.concatenate([x[k] for x in self.cases]) for k in ("cust", "open")}
            self._act_keys = dict(
                key=(a["cust"] * 1e5 + a["at"])[o], reached=(a["outcome"][o] >= 2).astype(float),
                pkey=(a["cust"] * 1e5 + a["checked"])[o2], kept=a["kept"][o2].astype(float),
                ckey=np.sort(c["cust"] * 1e5 + c["open"]),
            )
        return self._act_keys

    def _resolve(self, k: np.ndarray) -> None:
        sim, p, rng = self.sim, self.p, self.sim.rng
        st = sim.st
        n = len(k)
        slot, app, op = p["slot"][k], p["app"][k], p["open"][k]
        term_case = p["terminal"][k]
        lc = sim.lc[app]
        due_j = st["due"][slot]
        dpd = np.floor(op - due_j)
        # outstanding scheduled amount of the loan not paid by the opening
        q, s = _loan_slots(sim, app)
        unpaid = ~(st["paid"][s] <= op[q])
        bal = np.round(np.bincount(q, weights=st["amt"][s] * unpaid, minlength=n), 2)
        h = installment_history(st, sim.c_start, sim.c_end, lc, op)
        keys = self._history_keys()
        reach = kept = np.full(n, 0.5)
        n_prior = np.zeros(n)
        if keys is not None:
            g = sim.cids[lc].astype(float)
            n_act = count_before(keys["key"], g, op)
            n_reach = count_before(keys["key"], g, op, cum=keys["reached"])
            n_prom = count_before(keys["pkey"], g, op)
            n_kept = count_before(keys["pkey"], g, op, cum=keys["kept"])
            reach = (n_reach + 1) / (n_act + 2)
            kept = (n_kept + 1) / (n_prom + 2)
            n_prior = count_before(keys["ckey"], g, op, side="left")
        C = CURE
        logit = (C["intercept"] + C["dpd"] * (dpd - 30) + C["balance"] * np.log(np.maximum(bal, 100.0) / 10000) + C["reach"] * (reach - 0.5)
                 + C["kept"] * (kept - 0.5) + C["share_late"] * h["share_late"]
                 + C["income"] * np.log(sim.inc[app] / 30000) + C["prior_cases"] * np.minimum(n_prior, 5)
                 + C["noise"] * rng.normal(0, 1, n))
        prob = sigmoid(logit)
        cured = p["u"][k] < prob
        due_j2 = st["due"][slot + 2]
        t_cure = op + rng.uniform(0.05, 1.0, n) * (np.minimum(CURE_WINDOW_DAYS, due_j2 - 0.5 - op) - 0.05)
        late_span = np.maximum(due_j + 89.5 - op - CURE_WINDOW_DAYS, 0.2)
        t_late = op + CURE_WINDOW_DAYS + rng.uniform(0.05, 1.0, n) * late_span
        T = np.where(cured, t_cure, np.where(term_case, np.nan, t_late))
        self.terminal_cured[app[term_case & cured]] = 1
        for off in range(3):
            s2 = slot + off
            by_T = st["due"][s2] < T
            pay_now = by_T & ~np.isnan(T)
            st["paid"][s2] = np.where(pay_now, T, np.where(term_case, np.nan, st["ppaid"][s2]))
            st["apaid"][s2] = np.where(pay_now, st["amt"][s2], np.where(term_case, np.nan, st["papaid"][s2]))
            st["late"][s2] = np.where(pay_now, np.floor(T - st["due"][s2]), np.where(term_case, np.nan, st["plate"][s2]))
        known = np.where(cured, T, op + CURE_WINDOW_DAYS)
        cust = sim.cids[lc]
        self.cases.append(dict(slot=slot, app=app, cust=cust.astype(np.int64), open=op, balance=bal, dpd=dpd,
                               cured=cured.astype(np.int8), known=known, prob=prob))
        self._actions(slot, cust, op, T, cured, lc)
        self._act_keys = None

    def _actions(self, slot, cust, op, T, cured, lc) -> None:
        rng, sim = self.sim.rng, self.sim
        n = len(slot)
        m = np.minimum(1 + rng.poisson(3.5, n), 15)
        q = np.repeat(np.arange(n), m)
        span = np.where(cured, T - op, np.minimum(np.nan_to_num(T - op, nan=35.0), 35.0))
        at = op[q] + 0.02 + rng.random(len(q)) * (span[q] - 0.04)
        o = np.lexsort((at, q))
        q, at = q[o], at[o]
        k = np.arange(len(q)) - np.r_[0, np.cumsum(m)[:-1]][q]
        ch = rng.choice(4, len(q), p=[0.35, 0.3, 0.25, 0.1])
        resp = sim.resp[lc][q]
        c = cured[q].astype(float)
        reached = rng.random(len(q)) < sigmoid(CHANNEL_REACH[ch] + 1.2 * resp + 1.0 * c - 0.3)
        promise = reached & (rng.random(len(q)) < sigmoid(-0.4 + 1.3 * c + 0.5 * resp))
        refused = reached & ~promise & (rng.random(len(q)) < 0.4)
        wrong = ~reached & (rng.random(len(q)) < 0.05)
        outcome = np.where(promise, 3, np.where(refused, 4, np.where(reached, 2, np.where(wrong, 1, 0))))
        kept = promise & (rng.random(len(q)) < sigmoid(np.where(cured[q], 1.2, -1.8) + 0.5 * resp))
        case_id = _case_id(sim, slot)
        self.actions.append(dict(
            action_id=case_id[q] * 16 + k, case_id=case_id[q], cust=cust[q], at=at, channel=ch,
            outcome=outcome, kept=kept, checked=np.where(promise, at + 7.0, np.nan),
        ))


def _loan_slots(sim, app):
    from creditml.data.synthetic._history import ranges
    return ranges(sim.slot_start[app], sim.slot_start[app] + sim.term[app])


def _case_id(sim, slot) -> np.ndarray:
    app = sim.slot_app[slot]
    j = slot - sim.slot_start[app] + 1
    return sim.app_ix[app].astype(np.int64) * 64 + j
