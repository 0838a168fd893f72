"""Customers, intermediaries and the application skeleton (who applies when, through whom).

Regular customers apply a few times over the years, some through honest
intermediaries. Fraud rings are intermediaries whose applications come in bursts from
fresh "mule" customers with coached (inflated, rounded) incomes and similar amounts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditml.data.synthetic._params import (
    APPS_PER_CUSTOMER_MEAN, END_DAY, P_INCOME_MISSING, P_INCOME_MISSING_MULE, P_INTERMEDIARY,
    RING_APP_SHARE, RING_INTERMEDIARY_FRAC, Scale,
)

REGIONS = np.array(["north", "south", "east", "west", "capital", "central", "coast", "mountains"])
EMPLOYMENT = np.array(["Salaried", "salaried ", "SALARIED", "self-employed", "Self Employed",
                       "civil servant", "Civil Servant", "retired", "student", "unemployed"])
EMPLOYMENT_P = np.array([0.32, 0.06, 0.05, 0.10, 0.06, 0.09, 0.04, 0.12, 0.06, 0.10])
EMPLOYMENT_RISK = np.array([0, 0, 0, 0.3, 0.3, -0.3, -0.3, -0.1, 0.2, 0.6])
PURPOSES = np.array(["consumer_goods", "car", "home_improvement", "debt_consolidation", "travel",
                     "education", "medical", "other"])
KINDS = np.array(["broker", "merchant", "online_partner"])
KIND_CHANNEL = np.array(["broker", "point_of_sale", "partner_web"])
DIRECT_CHANNELS = np.array(["web", "mobile_app", "branch"])
TERMS = np.array([12, 18, 24, 36, 48, 60])
TERM_P = np.array([0.3, 0.25, 0.3, 0.15, 0.0, 0.0])
TERM_P_LONG = np.array([0.2, 0.15, 0.2, 0.2, 0.15, 0.1])
FIRST = np.array(["Anna", "Jan", "Petra", "Tomas", "Eva", "Martin", "Lucie", "Pavel", "Jana", "Karel",
                  "Marie", "David", "Tereza", "Jakub", "Hana", "Lukas", "Klara", "Ondrej", "Zuzana", "Filip"])
LAST = np.array(["Novak", "Svoboda", "Dvorak", "Cerny", "Prochazka", "Kucera", "Vesely", "Horak",
                 "Nemec", "Marek", "Pospisil", "Hajek", "Jelinek", "Kral", "Ruzicka", "Benes"])


def _round_to(x: np.ndarray, step: np.ndarray | float) -> np.ndarray:
    return np.maximum(np.round(x / step), 1) * step


def _group_cumcount(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within runs of equal consecutive keys (keys must be grouped)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.r_[True, keys[1:] != keys[:-1]]
    idx = np.arange(n)
    return idx - np.maximum.accumulate(np.where(start, idx, 0))


def build_skeleton(scale: Scale, rng: np.random.Generator) -> dict:
    A = scale.n_applications
    n_int = scale.n_intermediaries
    n_ring = max(2, int(round(n_int * RING_INTERMEDIARY_FRAC)))
    n_honest = n_int - n_ring
    R = int(round(A * P_INTERMEDIARY * RING_APP_SHARE))
    A_reg = A - R

    # ---- regular customers and their application times
    n_pool = int(A_reg / 1.5) + 50
    created = rng.uniform(0, END_DAY - 20, n_pool)
    napp = 1 + rng.poisson(APPS_PER_CUSTOMER_MEAN, n_pool)
    cust = np.repeat(np.arange(n_pool), napp)
    k = _group_cumcount(cust)
    short = rng.random(len(cust)) < 0.3
    gap = np.where(short, rng.uniform(3, 60, len(cust)), rng.exponential(330, len(cust)) + 20)
    gap = np.where(k == 0, rng.uniform(0.01, 20, len(cust)), gap)
    cs = np.cumsum(gap)
    first_pos = np.r_[0, np.cumsum(napp)[:-1]]
    t = created[cust] + cs - (cs[first_pos] - gap[first_pos])[cust]
    keep = t < END_DAY - 0.01
    cust, t = cust[keep], t[keep]
    # keep customers (in random order) until the regular application budget is spent
    per_c = np.bincount(cust, minlength=n_pool)
    order = rng.permutation(n_pool)
    chosen = order[np.cumsum(per_c[order]) <= A_reg]
    sel = np.zeros(n_pool, bool)
    sel[chosen] = True
    m = sel[cust]
    reg_cust, reg_t = cust[m], t[m]
    reg_ids = np.flatnonzero(sel)
    remap = np.full(n_pool, -1)
    remap[reg_ids] = np.arange(len(reg_ids))
    reg_cust = remap[reg_cust]
    reg_created = created[reg_ids]
    n_reg_c = len(reg_ids)

    # ---- intermediaries
    kind = np.concatenate([rng.choice(3, n_honest, p=[0.4, 0.45, 0.15]), rng.choice(3, n_ring, p=[0.6, 0.1, 0.3])])
    is_ring_int = np.r_[np.zeros(n_honest, bool), np.ones(n_ring, bool)]
    w = rng.lognormal(0, 1.0, n_honest)
    big = rng.random(n_honest) < 0.04
    w = np.where(big, w * 10, w)
    n_ra = len(reg_t)
    via = rng.random(n_ra) < P_INTERMEDIARY
    reg_int = np.where(via, rng.choice(n_honest, n_ra, p=w / w.sum()), -1)

    # ---- rings: bursts of applications from fresh mule customers
    ring_w = rng.lognormal(0, 0.6, n_ring)
    ring_of = rng.choice(n_ring, R, p=ring_w / ring_w.sum())
    ring_size = np.bincount(ring_of, minlength=n_ring)
    n_bursts = np.maximum(1, np.ceil(ring_size / rng.uniform(8, 30, n_ring))).astype(int)
    burst_start = rng.uniform(90, END_DAY - 12, (n_ring, int(n_bursts.max())))
    b = (rng.random(R) * n_bursts[ring_of]).astype(int)
    ring_t = np.minimum(burst_start[ring_of, b] + np.minimum(rng.exponential(2.5, R), 10), END_DAY - 0.01)
    mule_created = np.maximum(ring_t - rng.uniform(0.01, 3, R), 0)

    # ---- all customers, ordered by creation time -> customer_id
    c_created = np.r_[reg_created, mule_created]
    c_mule = np.r_[np.zeros(n_reg_c, bool), np.ones(R, bool)]
    c_order = np.argsort(c_created, kind="stable")
    c_rank = np.empty_like(c_order)
    c_rank[c_order] = np.arange(len(c_order))
    n_c = len(c_created)
    customers = _customers(rng, c_created[c_order], c_mule[c_order])

    # ---- all applications, ordered by time -> application_id
    a_t = np.r_[reg_t, ring_t]
    a_cust = c_rank[np.r_[reg_cust, n_reg_c + np.arange(R)]]
    a_int = np.r_[reg_int, n_honest + ring_of]
    a_ring = np.r_[np.full(n_ra, -1), ring_of]
    a_order = np.lexsort((np.arange(len(a_t)), a_t))
    a_t, a_cust, a_int, a_ring = a_t[a_order], a_cust[a_order], a_int[a_order], a_ring[a_order]
    apps = _applications(rng, a_t, a_cust, a_int, a_ring, customers, kind, n_ring,
                         TERM_P_LONG if scale.long_terms else TERM_P)

    # registered before the first application through them
    first_app = np.full(n_int, END_DAY - 30)
    has = a_int >= 0
    np.minimum.at(first_app, a_int[has], a_t[has])
    planned = np.where(is_ring_int, first_app - rng.uniform(5, 60, n_int), rng.uniform(-400, END_DAY - 200, n_int))
    registered = np.minimum(planned, first_app - rng.uniform(0.5, 30, n_int))
    intermediaries = dict(
        registered=registered, kind=kind, is_ring=is_ring_int,
        region=rng.choice(len(REGIONS), n_int),
        commission_rate=np.round(np.where(is_ring_int, rng.uniform(0.03, 0.07, n_int), rng.uniform(0.01, 0.06, n_int)), 4),
    )
    assert n_c == len(customers["created"])
    return dict(customers=customers, intermediaries=intermediaries, apps=apps, n_ring=n_ring)


def _customers(rng: np.random.Generator, created: np.ndarray, mule: np.ndarray) -> dict:
    n = len(created)
    emp = rng.choice(len(EMPLOYMENT), n, p=EMPLOYMENT_P)
    risk = rng.normal(0, 1, n) + EMPLOYMENT_RISK[emp] + np.where(mule, 0.8, 0.0)
    resp = -0.5 * risk + np.sqrt(0.75) * rng.normal(0, 1, n)
    income = np.exp(np.where(mule, rng.normal(9.9, 0.4, n), rng.normal(10.3, 0.45, n) - 0.15 * risk))
    observed = np.round(income * np.exp(rng.normal(0, 0.05, n)), -1)
    missing = rng.random(n) < np.where(mule, P_INCOME_MISSING_MULE, P_INCOME_MISSING)
    observed[missing] = np.nan
    return dict(
        created=created, mule=mule, risk=risk, resp=resp, income=income, monthly_income=observed,
        employment=emp, birth_year=rng.integers(1950, 2004, n), gender=rng.choice(2, n, p=[0.52, 0.48]),
        region=rng.choice(len(REGIONS), n), first=rng.choice(len(FIRST), n), last=rng.choice(len(LAST), n),
        thin=rng.random(n) < np.where(mule, 0.6, 0.12),
    )


def _applications(rng, t, cust, inter, ring, customers, kind, n_ring, term_p) -> dict:
    n = len(t)
    is_ring = ring >= 0
    income = customers["income"][cust]
    ring_amount = rng.uniform(120_000, 300_000, n_ring)
    ring_term = rng.choice(TERMS[:4], n_ring, p=[0.2, 0.2, 0.4, 0.2])
    amount = np.where(is_ring, _round_to(ring_amount[np.maximum(ring, 0)] * rng.uniform(0.95, 1.05, n), 1000.0),
                      np.clip(_round_to(income * rng.uniform(0.8, 8, n), 100.0), 1000, 500_000))
    term = np.where(is_ring & (rng.random(n) < 0.8), ring_term[np.maximum(ring, 0)], rng.choice(TERMS, n, p=term_p))
    u = rng.random(n)
    honest_step = np.where(u < 0.15, 5000.0, np.where(u < 0.4, 1000.0, 10.0))
    declared = np.where(is_ring, _round_to(income * rng.uniform(1.6, 2.6, n), np.where(u < 0.85, 5000.0, 1000.0)),
                        _round_to(income * rng.uniform(0.97, 1.12, n), honest_step))
    purpose = np.where(is_ring, rng.choice([0, 3], n, p=[0.6, 0.4]), rng.choice(len(PURPOSES), n))
    channel = np.where(inter >= 0, KIND_CHANNEL[kind[np.maximum(inter, 0)]], DIRECT_CHANNELS[rng.choice(3, n, p=[0.45, 0.4, 0.15])])
    return dict(t=t, cust=cust, inter=inter, ring=ring, amount=amount, term=term.astype(np.int64),
                declared=declared, purpose=purpose, channel=channel)


def customers_frame(c: dict, ids: np.ndarray) -> pd.DataFrame:
    """The customers table for the customers ``ids`` (positions = customer_id)."""
    first, last = FIRST[c["first"][ids]], LAST[c["last"][ids]]
    name = pd.Series(first, dtype=object) + " " + pd.Series(last, dtype=object)
    phone = pd.Series((600_000_000 + (ids * 7919 + 12345) % 399_999_999).astype(str), dtype=object)
    email = (pd.Series(np.char.lower(first), dtype=object) + "." + pd.Series(np.char.lower(last), dtype=object)
             + pd.Series(ids.astype(str), dtype=object) + "@example.com")
    return pd.DataFrame({
        "customer_id": ids.astype(np.int64),
        "created_at": c["created"][ids],
        "birth_year": c["birth_year"][ids].astype(np.int64),
        "gender": np.array(["F", "M"])[c["gender"][ids]],
        "region": REGIONS[c["region"][ids]],
        "employment_type": EMPLOYMENT[c["employment"][ids]],
        "monthly_income": c["monthly_income"][ids],
        "full_name": name.to_numpy(),
        "phone_number": ("+420 " + phone).to_numpy(),
        "email": email.to_numpy(),
    })
