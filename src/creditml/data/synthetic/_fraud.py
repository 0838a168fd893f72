"""The identifier graph and the intermediary-fraud labels.

Every application carries six identifiers (device, phone, ip, address, employer
phone, contact phone). Honest customers reuse their own values across their own
applications and share a few by chance (big employers, carrier NAT addresses,
households). Ring applications draw from small per-ring pools, so a ring is a dense
cluster. P(fraud) is a function of what the identifier graph, the intermediary's
history and the application show as of ``applied_at`` (see docs/synthetic-world.md).
"""

from __future__ import annotations

import numpy as np

from creditml.data.synthetic._params import FRAUD, FRAUD_LAG_MAX, FRAUD_LAG_MIN

ID_KINDS = np.array(["device", "phone", "ip", "address", "employer_phone", "contact_phone"])
STRONG = np.array([True, True, False, True, False, True])  # sharing these with strangers is suspicious
RING_POOL_USE = np.array([0.6, 0.45, 0.6, 0.4, 0.8, 0.7])
RING_POOL_DIV = np.array([12, 8, 15, 10, 40, 8])
_APP, _EMP, _NAT, _POOL = 1 << 30, 1 << 31, 1 << 32, 1 << 33


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def identifier_values(apps: dict, customers: dict, n_ring: int, rng: np.random.Generator) -> np.ndarray:
    """(n_apps, 6) int64 values; value = kind << 40 | local code."""
    n = len(apps["t"])
    n_c = len(customers["created"])
    cust = apps["cust"]
    app_ix = np.arange(n, dtype=np.int64)
    own = cust.astype(np.int64)
    # employers: Zipf sizes -> a few big employers share one phone among many customers
    n_emp = max(5, n_c // 6)
    zw = rng.lognormal(0, 1.3, n_emp)  # a few big employers share one phone among many customers
    employer = rng.choice(n_emp, n_c, p=zw / zw.sum())
    household = np.where(rng.random(n_c) < 0.04, rng.integers(0, n_c, n_c), np.arange(n_c))
    contact = np.where(rng.random(n_c) < 0.03, rng.integers(0, n_c, n_c), np.arange(n_c))
    vals = np.empty((n, 6), dtype=np.int64)
    vals[:, 0] = np.where(rng.random(n) < 0.85, own, _APP + app_ix)
    vals[:, 1] = own
    vals[:, 2] = np.where(rng.random(n) < 0.08, _NAT + rng.integers(0, max(10, n // 100), n), _APP + app_ix)
    vals[:, 3] = household[cust]
    vals[:, 4] = _EMP + employer[cust]
    vals[:, 5] = contact[cust]
    ring = apps["ring"]
    is_ring = ring >= 0
    if is_ring.any():
        size = np.bincount(ring[is_ring], minlength=n_ring)
        for k in range(6):
            pool = np.maximum(2, np.ceil(size / RING_POOL_DIV[k])).astype(np.int64)
            use = is_ring & (rng.random(n) < RING_POOL_USE[k])
            r = np.maximum(ring, 0)
            pick = (rng.random(n) * pool[r]).astype(np.int64)
            vals[:, k] = np.where(use, _POOL + r * 4096 + pick, vals[:, k])
    return vals + (np.arange(6, dtype=np.int64) << 40)[None, :]


def hash_values(values: np.ndarray) -> np.ndarray:
    """Deterministic hash (splitmix64) of int64 values as "0x" + 16 hex digits (str objects).

    The "0x" prefix keeps the strings from ever parsing as numbers (pandas 2.3.3
    ``to_numeric`` crashes on some all-digit/exponent-looking hex strings)."""
    z = values.astype(np.uint64) ^ np.uint64(0x5DEECE66D1234567)
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    shifts = np.arange(60, -4, -4, dtype=np.uint64)
    nib = ((z[:, None] >> shifts[None, :]) & np.uint64(15)).astype(np.intp)
    chars = digits[nib].copy().view("S16").ravel()
    return np.char.add("0x", chars.astype("U16")).astype(object)


def shared_counts(vals: np.ndarray, t: np.ndarray, cust: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per application: earlier applications of *other* customers sharing each identifier,
    summed over strong and weak kinds."""
    n = len(t)
    flat = vals.ravel()
    app = np.repeat(np.arange(n), 6)
    kind = np.tile(np.arange(6), n)
    c = cust[app]
    order = np.lexsort((app, flat))  # apps are numbered in time order
    fv = flat[order]
    idx = np.arange(len(order))
    new_v = np.r_[True, fv[1:] != fv[:-1]]
    before_v = idx - np.maximum.accumulate(np.where(new_v, idx, 0))
    order2 = np.lexsort((app, c, flat))
    fv2, fc2 = flat[order2], c[order2]
    new_vc = np.r_[True, (fv2[1:] != fv2[:-1]) | (fc2[1:] != fc2[:-1])]
    before_vc = np.empty(len(order), np.int64)
    before_vc[order2] = idx - np.maximum.accumulate(np.where(new_vc, idx, 0))
    other = np.empty(len(order), np.int64)
    other[order] = before_v
    other = other - before_vc
    strong = np.bincount(app, weights=other * STRONG[kind], minlength=n)
    weak = np.bincount(app, weights=other * ~STRONG[kind], minlength=n)
    return strong, weak


def fraud_labels(apps: dict, customers: dict, vals: np.ndarray, rng: np.random.Generator) -> dict:
    """Draw fraud_confirmed for intermediary applications, in weekly batches so that
    earlier confirmations (known before a cutoff) feed later probabilities."""
    n = len(apps["t"])
    t, inter, cust = apps["t"], apps["inter"], apps["cust"]
    strong, weak = shared_counts(vals, t, cust)
    via = inter >= 0
    # intermediary history: prior applications and 7-day bursts
    key = np.where(via, inter, -1).astype(np.float64) * 1e5 + t
    order = np.argsort(key, kind="stable")
    sk = key[order]
    prior = np.empty(n)
    prior[order] = np.arange(n) - np.searchsorted(sk, np.floor(sk / 1e5) * 1e5, "left")
    burst = np.empty(n)
    burst[order] = np.arange(n) - np.searchsorted(sk, sk - 7.0, "left")
    burst = np.minimum(burst, prior)
    mi = customers["monthly_income"][cust]
    infl = np.where(np.isnan(mi), 0.0, np.clip(np.log(apps["declared"] / np.where(np.isnan(mi), 1, mi)), 0, 1.5))
    round5k = (apps["declared"] % 5000 == 0).astype(float)
    base = (FRAUD["intercept"] + FRAUD["shared_strong"] * np.log1p(strong) + FRAUD["shared_weak"] * np.log1p(weak)
            + FRAUD["burst"] * np.log1p(burst) + FRAUD["round_income"] * round5k + FRAUD["inflation"] * infl
            + FRAUD["income_missing"] * np.isnan(mi) + FRAUD["noise"] * rng.normal(0, 1, n))
    dense = np.unique(vals.ravel(), return_inverse=True)[1].reshape(vals.shape)
    lag = np.clip(FRAUD_LAG_MIN + rng.gamma(2.0, 30.0, n), FRAUD_LAG_MIN, FRAUD_LAG_MAX)
    u = rng.random(n)
    p = np.zeros(n)
    label = np.zeros(n, dtype=np.int8)
    conf_at = np.full(n, np.nan)
    ev_int_key = np.zeros(0)
    ev_val_key = np.zeros(0)
    week = np.floor(t / 7.0).astype(np.int64)
    idx_via = np.flatnonzero(via)
    bounds = np.searchsorted(week[idx_via], np.arange(week.max() + 2))
    for w in range(len(bounds) - 1):
        q = idx_via[bounds[w]:bounds[w + 1]]
        if len(q) == 0:
            continue
        tq = t[q]
        ik = inter[q] * 1e5
        n_conf_int = np.searchsorted(ev_int_key, ik + tq, "right") - np.searchsorted(ev_int_key, ik, "left")
        vk = dense[q].astype(np.float64) * 1e5
        n_conf_val = (np.searchsorted(ev_val_key, vk + tq[:, None], "right")
                      - np.searchsorted(ev_val_key, vk, "left")).sum(axis=1)
        share = n_conf_int / (prior[q] + 2.0)
        logit = base[q] + FRAUD["interm_confirmed_share"] * share + FRAUD["shared_confirmed"] * np.log1p(n_conf_val)
        p[q] = _sigmoid(logit)
        hit = u[q] < p[q]
        label[q] = hit
        if hit.any():
            f = q[hit]
            conf_at[f] = t[f] + lag[f]
            ev_int_key = np.sort(np.r_[ev_int_key, inter[f] * 1e5 + conf_at[f]])
            ev_val_key = np.sort(np.r_[ev_val_key, (dense[f].astype(np.float64) * 1e5 + conf_at[f][:, None]).ravel()])
    return dict(p=p, label=label, confirmed_at=conf_at)
