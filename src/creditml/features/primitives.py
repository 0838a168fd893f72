"""Credit primitives: featuretools aggregation primitives for what stock ones miss.

They find their inputs by the domain role a dataset declares on a column (``role:`` in
the dataset YAML becomes a woodwork semantic tag), so no column name is assumed. Each
docstring is the exact definition; the feature engine reproduces it.

"Trend of lateness" needs no primitive of its own: the stock ``trend`` aggregation over
a ``days_past_due`` column is exactly the slope of lateness over time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from featuretools.primitives import AggregationPrimitive, TransformPrimitive
from woodwork.column_schema import ColumnSchema
from woodwork.logical_types import Datetime, Double, IntegerNullable

NUMERIC = ColumnSchema(semantic_tags={"numeric"})
DOUBLE = ColumnSchema(logical_type=Double, semantic_tags={"numeric"})
TIME_INDEX = ColumnSchema(logical_type=Datetime, semantic_tags={"time_index"})


def _role(role: str) -> ColumnSchema:
    return ColumnSchema(semantic_tags={"numeric", role})


class CountInLastDays(AggregationPrimitive):
    """Number of child rows whose time index lies in ``(cutoff - days, cutoff]``.

    Rows after the cutoff never reach a primitive, so this counts rows with
    ``cutoff - time < days`` (as timedeltas). No rows: 0.
    """

    name = "count_in_last_days"
    input_types = [TIME_INDEX]
    return_type = ColumnSchema(logical_type=IntegerNullable, semantic_tags={"numeric"})
    uses_calc_time = True
    stack_on_self = False
    default_value = 0

    def __init__(self, days: int = 30):
        self.days = days

    def get_function(self):
        window = pd.Timedelta(days=self.days)

        def count_in_last_days(times, time=None):
            return int(((time - pd.Series(times)) < window).sum())

        return count_in_last_days


class ShareOnTime(AggregationPrimitive):
    """Share of rows with a known days-past-due value that are ``<= 0`` (paid on time).

    Missing values are left out of numerator and denominator; none known: NaN.
    """

    name = "share_on_time"
    input_types = [_role("days_past_due")]
    return_type = DOUBLE
    stack_on_self = False

    def counts(self, dpd):
        """Which known values the share counts (pandas, numpy or a Polars expression)."""
        return dpd <= 0

    def get_function(self):
        def share_on_time(dpd):
            known = pd.Series(dpd, dtype="float64").dropna()
            return float(self.counts(known).mean()) if len(known) else np.nan

        return share_on_time


class ShareDaysPastDueOver(AggregationPrimitive):
    """Share of rows with a known days-past-due value strictly above ``threshold``.

    Missing values are left out; none known: NaN.
    """

    name = "share_days_past_due_over"
    input_types = [_role("days_past_due")]
    return_type = DOUBLE
    stack_on_self = False

    def __init__(self, threshold: int = 30):
        self.threshold = threshold

    def counts(self, dpd):
        """Which known values the share counts (pandas, numpy or a Polars expression)."""
        return dpd > self.threshold

    def get_function(self):
        def share_over(dpd):
            known = pd.Series(dpd, dtype="float64").dropna()
            return float(self.counts(known).mean()) if len(known) else np.nan

        return share_over


class PartialPaymentRatio(AggregationPrimitive):
    """``sum(amount_paid) / sum(amount_due)`` over rows with a known ``amount_due``.

    An amount paid that is missing counts as 0: as of the cutoff, an installment whose
    payment is not known yet has not been paid. ``sum(amount_due) <= 0`` or no rows: NaN.
    """

    name = "partial_payment_ratio"
    input_types = [_role("amount_paid"), _role("amount_due")]
    return_type = DOUBLE
    stack_on_self = False

    def get_function(self):
        def ratio(paid, due):
            paid = pd.Series(paid, dtype="float64").to_numpy()
            due = pd.Series(due, dtype="float64").to_numpy()
            known = ~np.isnan(due)
            total_due = due[known].sum()
            if not known.any() or total_due <= 0:
                return np.nan
            return float(np.nan_to_num(paid[known], nan=0.0).sum() / total_due)

        return ratio


class Utilisation(AggregationPrimitive):
    """``sum(balance) / sum(credit_limit)`` over rows where both are known and limit > 0.

    No such rows: NaN.
    """

    name = "utilisation"
    input_types = [_role("balance"), _role("credit_limit")]
    return_type = DOUBLE
    stack_on_self = False

    def get_function(self):
        def utilisation(balance, limit):
            balance = pd.Series(balance, dtype="float64").to_numpy()
            limit = pd.Series(limit, dtype="float64").to_numpy()
            ok = ~np.isnan(balance) & ~np.isnan(limit) & (limit > 0)
            if not ok.any():
                return np.nan
            return float(balance[ok].sum() / limit[ok].sum())

        return utilisation


class DaysSinceLastDelinquency(AggregationPrimitive):
    """Days (float, exact) from the latest row with days-past-due ``> 0`` to the cutoff.

    Rows with missing days past due are ignored; no delinquent row: NaN.
    """

    name = "days_since_last_delinquency"
    input_types = [_role("days_past_due"), TIME_INDEX]
    return_type = DOUBLE
    uses_calc_time = True
    stack_on_self = False

    def get_function(self):
        def days_since(dpd, times, time=None):
            dpd = pd.Series(dpd, dtype="float64").to_numpy()
            times = pd.to_datetime(pd.Series(times)).to_numpy()
            late = dpd > 0
            if not late.any():
                return np.nan
            return float((time - pd.Timestamp(times[late].max())) / pd.Timedelta(days=1))

        return days_since


class Roundness(TransformPrimitive):
    """The largest of 100, 500, 1,000, 5,000 and 10,000 that divides the value exactly.

    0 when none does (or the value is 0); missing stays missing. Coached applications
    declare round incomes and amounts; honest ones rarely do.
    """

    name = "roundness"
    input_types = [NUMERIC]
    return_type = DOUBLE
    STEPS = (100, 500, 1000, 5000, 10000)

    def get_function(self):
        def roundness(values):
            x = pd.Series(values, dtype="float64").to_numpy()
            out = np.zeros(len(x))
            for step in self.STEPS:
                out = np.where((np.fmod(x, step) == 0) & (x != 0), float(step), out)
            out[np.isnan(x)] = np.nan
            return out

        return roundness


def credit_primitives(windows_days: list[int]) -> list[AggregationPrimitive]:
    """The credit aggregation primitives DFS adds, with one window count per window."""
    prims: list[AggregationPrimitive] = [CountInLastDays(days=d) for d in windows_days]
    prims += [ShareOnTime(), ShareDaysPastDueOver(threshold=30), ShareDaysPastDueOver(threshold=90),
              PartialPaymentRatio(), Utilisation(), DaysSinceLastDelinquency()]
    return prims
