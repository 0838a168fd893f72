"""Credit primitives: featuretools primitives for what stock ones miss.

They find their inputs by the domain role a dataset declares on a column (``role:`` in
the dataset YAML becomes a woodwork semantic tag), so no column name is assumed. Each
docstring is the exact definition. Each class is the whole primitive: featuretools'
``get_function`` (the reference), ``polars_expr`` (the feature engine's Polars
evaluator) and ``numpy_kernel`` (its numpy evaluator, for served requests); see
:class:`creditml.features.engine.EnginePrimitive`, which refuses a class missing one.

"Trend of lateness" needs no primitive of its own: the stock ``trend`` aggregation over
a ``days_past_due`` column is exactly the slope of lateness over time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
from featuretools.primitives import AggregationPrimitive, TransformPrimitive
from woodwork.column_schema import ColumnSchema
from woodwork.logical_types import Datetime, Double, IntegerNullable

from creditml.features.engine import CUTOFF, EnginePrimitive

NUMERIC = ColumnSchema(semantic_tags={"numeric"})
DOUBLE = ColumnSchema(logical_type=Double, semantic_tags={"numeric"})
DATETIME = ColumnSchema(logical_type=Datetime)
TIME_INDEX = ColumnSchema(logical_type=Datetime, semantic_tags={"time_index"})
DAY_NS = 86_400_000_000_000


def _role(role: str) -> ColumnSchema:
    return ColumnSchema(semantic_tags={"numeric", role})


def _floats(values: np.ndarray) -> np.ndarray:
    return values.astype("float64")


def _days(delta: pl.Expr) -> pl.Expr:
    """A Polars duration in days, as pandas computes ``total_seconds() / 86400``."""
    return delta.dt.total_nanoseconds().cast(pl.Float64) / 1e9 / 86400


def _days_np(delta: np.ndarray) -> np.ndarray:
    return delta.astype("int64").astype("float64") / 1e9 / 86400


class CountInLastDays(EnginePrimitive, AggregationPrimitive):
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
    engine_kind = "int"

    def __init__(self, days: int = 30):
        self.days = days

    def get_function(self):
        window = pd.Timedelta(days=self.days)

        def count_in_last_days(times, time=None):
            return int(((time - pd.Series(times)) < window).sum())

        return count_in_last_days

    def polars_expr(self, columns, ctx):
        return ((pl.col(CUTOFF) - pl.col(columns[0])) < pl.duration(days=self.days)).sum()

    def numpy_kernel(self, values, cutoff):
        window = np.timedelta64(int(round(self.days * DAY_NS)), "ns")
        t = values[0]
        return int(((cutoff - t[~np.isnat(t)]) < window).sum())


class _KnownShare(EnginePrimitive, AggregationPrimitive):
    """A share of the known days-past-due values; ``counts`` says which values count."""

    engine_abstract = True
    input_types = [_role("days_past_due")]
    return_type = DOUBLE
    stack_on_self = False

    def counts(self, dpd):
        """Which known values the share counts (pandas, numpy or a Polars expression)."""
        raise NotImplementedError

    def get_function(self):
        def share(dpd):
            known = pd.Series(dpd, dtype="float64").dropna()
            return float(self.counts(known).mean()) if len(known) else np.nan

        return share

    def polars_expr(self, columns, ctx):
        # nulls stay out of both counts; none known: null
        return self.counts(pl.col(columns[0]).cast(pl.Float64)).cast(pl.Float64).mean()

    def numpy_kernel(self, values, cutoff):
        v = _floats(values[0])
        v = v[~np.isnan(v)]
        return float(np.mean(self.counts(v))) if len(v) else None


class ShareOnTime(_KnownShare):
    """Share of rows with a known days-past-due value that are ``<= 0`` (paid on time).

    Missing values are left out of numerator and denominator; none known: NaN.
    """

    name = "share_on_time"

    def counts(self, dpd):
        return dpd <= 0


class ShareDaysPastDueOver(_KnownShare):
    """Share of rows with a known days-past-due value strictly above ``threshold``.

    Missing values are left out; none known: NaN.
    """

    name = "share_days_past_due_over"

    def __init__(self, threshold: int = 30):
        self.threshold = threshold

    def counts(self, dpd):
        return dpd > self.threshold


class PartialPaymentRatio(EnginePrimitive, AggregationPrimitive):
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

    def polars_expr(self, columns, ctx):
        paid, due = pl.col(columns[0]).cast(pl.Float64), pl.col(columns[1]).cast(pl.Float64)
        known = due.is_not_null()
        total = due.filter(known).sum()
        ratio = paid.fill_null(0.0).filter(known).sum() / total
        return pl.when((known.sum() == 0) | (total <= 0)).then(None).otherwise(ratio)

    def numpy_kernel(self, values, cutoff):
        paid, due = _floats(values[0]), _floats(values[1])
        ok = ~np.isnan(due)
        total = float(due[ok].sum())
        if not ok.any() or total <= 0:
            return None
        return float(np.nan_to_num(paid[ok], nan=0.0).sum()) / total


class Utilisation(EnginePrimitive, AggregationPrimitive):
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

    def polars_expr(self, columns, ctx):
        bal, lim = pl.col(columns[0]).cast(pl.Float64), pl.col(columns[1]).cast(pl.Float64)
        ok = (bal.is_not_null() & lim.is_not_null() & (lim > 0)).fill_null(False)
        return pl.when(ok.sum() == 0).then(None).otherwise(bal.filter(ok).sum() / lim.filter(ok).sum())

    def numpy_kernel(self, values, cutoff):
        bal, lim = _floats(values[0]), _floats(values[1])
        with np.errstate(invalid="ignore"):
            ok = ~np.isnan(bal) & ~np.isnan(lim) & (lim > 0)
        if not ok.any():
            return None
        return float(bal[ok].sum()) / float(lim[ok].sum())


class DaysSinceLastDelinquency(EnginePrimitive, AggregationPrimitive):
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

    def polars_expr(self, columns, ctx):
        late = (pl.col(columns[0]).cast(pl.Float64) > 0).fill_null(False)
        last = pl.col(columns[1]).filter(late).max()
        days = (pl.col(CUTOFF).first() - last).dt.total_nanoseconds().cast(pl.Float64) / DAY_NS
        return pl.when(late.sum() == 0).then(None).otherwise(days)

    def numpy_kernel(self, values, cutoff):
        late = np.nan_to_num(_floats(values[0]), nan=0.0) > 0
        t = values[1][late]
        t = t[~np.isnat(t)]
        if not late.any() or not len(t):
            return None
        return float((cutoff - t.max()).astype("int64")) / DAY_NS


class Roundness(EnginePrimitive, TransformPrimitive):
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

    def polars_expr(self, inputs, metas):
        value = inputs[0].cast(pl.Float64)
        out = pl.lit(0.0)
        for step in self.STEPS:  # ascending: a larger step that divides the value wins
            out = pl.when((value % step == 0) & (value != 0)).then(pl.lit(float(step))).otherwise(out)
        return pl.when(value.is_null() | value.is_nan()).then(pl.lit(None, dtype=pl.Float64)).otherwise(out)

    def numpy_kernel(self, values, metas, cutoff):
        v = _floats(values[0])
        out = np.zeros(len(v))
        with np.errstate(invalid="ignore"):
            for step in self.STEPS:
                out = np.where((v % step == 0) & (v != 0), float(step), out)
        out[np.isnan(v)] = np.nan
        return out


class DaysBetween(EnginePrimitive, TransformPrimitive):
    """Days from the first datetime of a row to the second: ``second - first``.

    ``unit="days"`` (the primitive's default, as older models were trained): exact, with
    fractions of a day. ``unit="calendar_days"``: whole calendar days between the two
    dates' days, as days past due are counted (a payment at 18:00 on the due date is 0 days
    late), so a date difference does not carry the time of day. Negative when the second
    is earlier; missing when either is (a late-known date is missing until it is known).
    ``DAYS_BETWEEN(due_at, paid_at)`` is days late. ``role`` tags the output like a
    dataset column's role (``days_past_due``), so the credit aggregations of that role
    stack on it (``SHARE_DAYS_PAST_DUE_OVER``).
    """

    name = "days_between"
    input_types = [DATETIME, DATETIME]
    return_type = DOUBLE
    description_template = "the number of days from {} to {}"

    def __init__(self, role: str | None = None, unit: str = "days"):
        if unit not in ("days", "calendar_days"):
            raise ValueError(f"DaysBetween unit: expected 'days' or 'calendar_days', found {unit!r}")
        self.role, self.unit = role, unit
        if role:
            self.return_type = ColumnSchema(logical_type=Double, semantic_tags={"numeric", role})

    def get_function(self):
        calendar = self.unit == "calendar_days"

        def days_between(first, second):
            first, second = pd.to_datetime(pd.Series(first)), pd.to_datetime(pd.Series(second))
            if calendar:
                first, second = first.dt.normalize(), second.dt.normalize()
            return (second - first).dt.total_seconds() / 86400

        return days_between

    def engine_supports(self, metas):
        return all(m.kind == "datetime" for m in metas)

    def polars_expr(self, inputs, metas):
        first, second = inputs
        if self.unit == "calendar_days":
            first, second = first.dt.truncate("1d"), second.dt.truncate("1d")
        return _days(second - first)

    def numpy_kernel(self, values, metas, cutoff):
        first, second = values
        if self.unit == "calendar_days":  # datetime64 to days floors, before 1970 too
            first, second = first.astype("datetime64[D]"), second.astype("datetime64[D]")
        out = _days_np((second - first).astype("timedelta64[ns]"))
        out[np.isnat(first) | np.isnat(second)] = np.nan
        return out


def credit_primitives(windows_days: list[int]) -> list[AggregationPrimitive]:
    """The credit aggregation primitives DFS adds, with one window count per window."""
    prims: list[AggregationPrimitive] = [CountInLastDays(days=d) for d in windows_days]
    prims += [ShareOnTime(), ShareDaysPastDueOver(threshold=30), ShareDaysPastDueOver(threshold=90),
              PartialPaymentRatio(), Utilisation(), DaysSinceLastDelinquency()]
    return prims
