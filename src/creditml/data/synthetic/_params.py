"""Scales, calendar and the coefficients of the generating process.

Times inside the generator are float days since ``START`` (2019-01-01 00:00); the
writer turns them into naive ``datetime64[ns]`` timestamps rounded to the second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

START = np.datetime64("2019-01-01T00:00:00", "ns")
AS_OF = "2024-12-31"
END_DAY = float((np.datetime64(AS_OF) - np.datetime64("2019-01-01")).astype(int))  # 2191
MONTH = 30.4375
WINDOW_DAYS = 21.0  # event batches of the sequential credit/collection simulation
FRAUD_MATURITY_DAYS = 180.0
CURE_WINDOW_DAYS = 30.0
DEFAULT_WINDOW_DAYS = 365.0
DPD_DEFAULT = 90.0
CASE_COOLDOWN_DAYS = 90.0

TASKS = ("credit_default", "intermediary_fraud", "collection_cure")


@dataclass(frozen=True)
class Scale:
    name: str
    n_applications: int
    n_intermediaries: int
    chunk_customers: int  # customers simulated and written per chunk (row group)
    bureau_accounts_mean: float = 3.0
    long_terms: bool = False  # also 48- and 60-month loans (more installments per loan)


SCALES: dict[str, Scale] = {
    "small": Scale("small", 3_000, 43, 1_000_000_000),
    "medium": Scale("medium", 50_000, 715, 1_000_000_000, bureau_accounts_mean=5.0),
    "large": Scale("large", 500_000, 7_150, 40_000, bureau_accounts_mean=10.0, long_terms=True),
}

# --- population -------------------------------------------------------------------
P_INTERMEDIARY = 0.40      # share of (regular) applications that come through an intermediary
RING_INTERMEDIARY_FRAC = 0.07  # share of intermediaries that are fraud rings
RING_APP_SHARE = 0.065     # share of intermediary applications that come from rings
APPS_PER_CUSTOMER_MEAN = 1.5  # extra applications (Poisson) after the first one
P_THIN_FILE = 0.12         # regular customers with no bureau file
P_INCOME_MISSING = 0.15
P_INCOME_MISSING_MULE = 0.35

# --- fraud: logit of P(fraud confirmed) ---------------------------------------------
FRAUD = dict(
    intercept=-6.0, shared_strong=1.3, shared_weak=0.25, burst=0.30, round_income=1.0,
    inflation=1.4, income_missing=0.4, interm_confirmed_share=4.0, shared_confirmed=0.45, noise=0.15,
)
FRAUD_LAG_MIN, FRAUD_LAG_MAX = 14.0, 170.0

# --- credit: logit of P(90+ DPD within 12 months) ------------------------------------
CREDIT = dict(
    intercept=-4.0, bureau_dpd=0.85, bureau_late=0.14, bureau_util=2.4, thin_file=0.6,
    has_history=-0.5, share_late=4.0, max_late=0.9, partial=1.0, trend=2.0, overdue=0.9, recency=0.8,
    income=-0.6, income_missing=0.2, amount=0.3, recent_apps=0.3, fraud=2.5, noise=0.15,
)

# --- collection: logit of P(cured within 30 days) ------------------------------------
CURE = dict(
    intercept=1.5, dpd=-0.06, balance=-0.5, reach=4.5, kept=4.5, share_late=-2.8, income=0.35,
    prior_cases=-0.25, noise=0.15,
)

# rows per application measured on generated worlds (medium, seed 0); bureau rows per
# application per unit of bureau_accounts_mean; installments with long_terms measured on large
PLANNED_PER_APPLICATION = dict(
    customers=0.468, intermediaries=0.0143, applications=1.0, bureau_accounts=0.40, loans=0.628,
    installments=10.65, collection_cases=0.235, collection_actions=1.048, application_identifiers=6.0,
)
PLANNED_LONG_TERMS = dict(loans=0.556, installments=11.84, collection_cases=0.255, collection_actions=1.136)
