"""Aggregation primitives as Polars expressions inside one ``group_by(...).agg([...])``.

Each builder mirrors the pandas code featuretools runs (``feature_set_calculator``):
numpy callables such as ``np.std`` reach pandas' cython groupby kernels, so Std has
``ddof=1``; ``Count`` counts rows; ``Sum`` of nothing is 0; Mode breaks ties by the
smallest value (category order for categoricals); TimeSince* use the instance cutoff
and the last/first row in entityset order; Trend is ``np.polyfit`` of the value on the
time in featuretools' units (days, hours, minutes or seconds, chosen from the group's
first timestamp). Missing outputs are nulls here; the default value is filled later.
"""

from __future__ import annotations

from typing import Callable

import featuretools.primitives as fp
import polars as pl

from creditml.features.engine._frames import CUTOFF, ROW
from creditml.features.engine._meta import ColumnMeta
from creditml.features.engine._primitive import EnginePrimitive

Builder = Callable[[object, list[str], "Ctx"], pl.Expr]

_UNIT_SECONDS = {"years": 31540000, "months": 2628000, "days": 86400, "hours": 3600, "minutes": 60,
                 "seconds": 1, "milliseconds": 0.001, "nanoseconds": 0.000000001}


def _seconds(delta: pl.Expr) -> pl.Expr:
    return delta.dt.total_nanoseconds().cast(pl.Float64) / 1e9


class Ctx:
    """What a builder may use besides its input columns: group keys and scratch names."""

    def __init__(self, group: list[str], prefix: str, metas: list[ColumnMeta]):
        self.group, self.prefix, self.metas = group, prefix, metas
        self.stages: list[list[pl.Expr]] = [[], []]  # row-level helper columns, computed before grouping

    def helper(self, name: str, expr: pl.Expr, stage: int = 0) -> pl.Expr:
        self.stages[stage].append(expr.alias(self.prefix + name))
        return pl.col(self.prefix + name)


def _std(p, c, ctx):
    x = pl.col(c[0])
    return (pl.when(x.count() < 2).then(None)
            .when(x.min() == x.max()).then(0.0)  # pandas' Welford kernel gives exactly 0 here
            .otherwise(x.cast(pl.Float64).std(ddof=1)))


def _skew(p, c, ctx):
    # pandas.core.nanops.nanskew, including its 1e-14 "floating point error" clamp
    x = pl.col(c[0]).cast(pl.Float64)
    dev = ctx.helper("dev", x - (x.sum() / x.count()).over(ctx.group))
    n = x.count().cast(pl.Float64)
    m2 = (dev ** 2).sum()
    m3 = (dev ** 2 * dev).sum()
    m2 = pl.when(m2.abs() < 1e-14).then(0.0).otherwise(m2)
    m3 = pl.when(m3.abs() < 1e-14).then(0.0).otherwise(m3)
    value = (n * (n - 1) ** 0.5 / (n - 2)) * (m3 / m2 ** 1.5)
    return pl.when(n < 3).then(None).when(m2 == 0).then(0.0).otherwise(value)


def _first_in_frame_order(values: pl.Expr, ctx, sorted_time: bool) -> pl.Expr:
    """The group's value on its first row in entityset order (per row, as a window)."""
    if sorted_time:  # the entityset frame is sorted by this time index: first row = earliest
        return values.min().over(ctx.group)
    first_row = pl.when(values.is_not_null()).then(pl.col(ROW)).min().over(ctx.group)
    return pl.when(pl.col(ROW) == first_row).then(values).max().over(ctx.group)


def _trend(p, c, ctx):
    y, t = pl.col(c[0]), pl.col(c[1])
    ok = y.is_not_null() & t.is_not_null()
    ns = pl.when(ok).then(t.dt.epoch("ns"))
    first_s = (_first_in_frame_order(ns, ctx, ctx.metas[1].sorted_time).cast(pl.Float64) * 1e-9).cast(pl.Int64)
    dividend = (pl.when(first_s % 86400 == 0).then(86400).when(first_s % 3600 == 0).then(3600)
                .when(first_s % 60 == 0).then(60).otherwise(1)).cast(pl.Float64)
    x = ctx.helper("x", ns.cast(pl.Float64) * (pl.lit(1e-9) / dividend))
    yv = ctx.helper("y", pl.when(ok).then(y.cast(pl.Float64)))
    xc = ctx.helper("xc", x - x.mean().over(ctx.group), stage=1)
    yc = ctx.helper("yc", yv - yv.mean().over(ctx.group), stage=1)
    slope = (xc * yc).sum() / (xc * xc).sum()
    # a constant series' slope is exactly 0: the centred values of its mean can leave 1e-28 behind, which
    # a tree split at 0 sends the other way (the served and offline engines must agree to the bit there)
    return (pl.when(x.count() <= 2).then(None).when((x.max() == x.min()) | (yv.max() == yv.min())).then(0.0)
            .otherwise(slope))


def _since(which: str):
    def build(p, c, ctx):
        t = pl.col(c[0])
        if ctx.metas[0].sorted_time:
            edge = t.max() if which == "last" else t.min()
        else:
            edge = t.sort_by(pl.col(ROW)).last() if which == "last" else t.sort_by(pl.col(ROW)).first()
        return _seconds(pl.col(CUTOFF).first() - edge) / _UNIT_SECONDS[p.unit]
    return build


def _avg_time_between(p, c, ctx):
    t = pl.col(c[0])
    n = t.count()
    span = (t.max() - t.min()).dt.total_nanoseconds().cast(pl.Float64)
    return pl.when(n < 2).then(None).otherwise(span / (n - 1).cast(pl.Float64) * 1e-9 / _UNIT_SECONDS[p.unit])


# Aggregations of their one input's non-null values alone, so a where-clause can null out
# the values of other rows inside a group shared with other aggregations (a flat mask
# keeps Polars' fast grouped kernels). A group no row of which matches gives what the
# missing group would: 0 for Count and Sum (their defaults), else null.
OF_VALUES: dict[type, Callable[[pl.Expr], pl.Expr]] = {
    fp.Count: pl.Expr.count,
    fp.Sum: pl.Expr.sum,
    fp.Mean: pl.Expr.mean,
    fp.Max: pl.Expr.max,
    fp.Min: pl.Expr.min,
}


def of_matching(primitive, column: str, where: str) -> pl.Expr:
    """``primitive`` (one of ``OF_VALUES``) of ``column`` on the group's rows where ``where`` holds."""
    return OF_VALUES[type(primitive)](pl.when(pl.col(where)).then(pl.col(column)))


AGGREGATIONS: dict[type, Builder] = {
    **{kind: (lambda p, c, ctx: OF_VALUES[type(p)](pl.col(c[0]))) for kind in OF_VALUES},
    fp.Std: _std,
    fp.Skew: _skew,
    fp.NumUnique: lambda p, c, ctx: pl.col(c[0]).drop_nulls().n_unique(),
    fp.Mode: lambda p, c, ctx: pl.col(c[0]).drop_nulls().mode().min(),
    fp.PercentTrue: lambda p, c, ctx: pl.col(c[0]).fill_null(False).cast(pl.Float64).mean(),
    fp.Trend: _trend,
    fp.TimeSinceLast: _since("last"),
    fp.TimeSinceFirst: _since("first"),
    fp.AvgTimeBetween: _avg_time_between,
}


def builder(primitive) -> Builder | None:
    """The Polars expression builder of ``primitive``: its class's own, else the stock table's."""
    kind = type(primitive)
    if isinstance(primitive, EnginePrimitive):
        return kind.polars_expr
    return AGGREGATIONS.get(kind)


def supports(primitive, metas: list[ColumnMeta]) -> bool:
    kind = type(primitive)
    if builder(primitive) is None or primitive.number_output_features != 1:
        return False
    if isinstance(primitive, EnginePrimitive):
        return primitive.engine_supports(metas)
    if kind is fp.Mean and not primitive.skipna:
        return False
    if kind in (fp.TimeSinceLast, fp.TimeSinceFirst, fp.AvgTimeBetween) and primitive.unit not in _UNIT_SECONDS:
        return False
    if kind in (fp.Sum, fp.Mean, fp.Max, fp.Min, fp.Std, fp.Skew, fp.Trend):
        return metas[0].kind in ("int", "float")
    if kind in (fp.TimeSinceLast, fp.TimeSinceFirst, fp.AvgTimeBetween):
        return metas[0].kind == "datetime"
    if kind is fp.PercentTrue:
        return metas[0].kind == "bool"
    if kind in (fp.Mode, fp.NumUnique):
        return metas[0].categories is not None or metas[0].kind in ("int", "str", "bool")
    return True


def output_meta(primitive, metas: list[ColumnMeta]) -> ColumnMeta:
    if isinstance(primitive, fp.Mode):
        return ColumnMeta(kind=metas[0].kind, categories=metas[0].categories, aggregated=True)
    if isinstance(primitive, EnginePrimitive):
        return ColumnMeta(kind=primitive.engine_kind)
    if isinstance(primitive, (fp.Count, fp.NumUnique)):
        return ColumnMeta(kind="int")
    return ColumnMeta(kind="float")
