"""The primitives as numpy code over one instance's rows, for :mod:`._instance`.

Same values as the Polars builders in ``_aggregations`` and ``_transforms`` (the
differential suite runs both). Values travel as numpy arrays: float64 with NaN for
numbers, booleans and category codes; int64 for integers without missing values;
datetime64[ns] with NaT; object with None for the rest. An aggregation kernel takes
the group's input arrays in entityset row order and the instance cutoff and returns a
scalar, ``None`` when missing; a transform kernel takes the arrays of the path's rows,
their metas and the instance cutoff. Stock featuretools primitives are in ``KERNELS``
and ``TRANSFORMS``; a creditml primitive brings its own kernel (:class:`EnginePrimitive`).
"""

from __future__ import annotations

from typing import Callable

import featuretools.primitives as fp
import numpy as np
import pandas as pd

from creditml.features.engine._aggregations import _UNIT_SECONDS
from creditml.features.engine._primitive import EnginePrimitive

Kernel = Callable[[object, list[np.ndarray], np.datetime64], object]

def isnull(values: np.ndarray) -> np.ndarray:
    kind = values.dtype.kind
    if kind == "f":
        return np.isnan(values)
    if kind == "M":
        return np.isnat(values)
    if kind == "O":
        return pd.isna(values)
    return np.zeros(len(values), dtype=bool)


def known(values: np.ndarray) -> np.ndarray:
    kind = values.dtype.kind
    if kind == "f":
        return values[~np.isnan(values)]
    if kind == "M":
        return values[~np.isnat(values)]
    if kind == "O":
        return values[~pd.isna(values)]
    return values


def _seconds(delta: np.timedelta64) -> float:
    return float(delta.astype("int64")) / 1e9


def _sum(p, x, cutoff):
    return float(known(x[0]).sum())


def _mean(p, x, cutoff):
    v = known(x[0])
    return float(v.sum()) / len(v) if len(v) else None


def _edge(reduce):
    def kernel(p, x, cutoff):
        v = known(x[0])
        return reduce(v) if len(v) else None
    return kernel


def _std(p, x, cutoff):
    v = known(x[0]).astype("float64")
    if len(v) < 2:
        return None
    return 0.0 if v.min() == v.max() else float(v.std(ddof=1))


def _skew(p, x, cutoff):
    v = known(x[0]).astype("float64")
    n = float(len(v))
    if n < 3:
        return None
    dev = v - v.sum() / n
    m2, m3 = float((dev ** 2).sum()), float((dev ** 2 * dev).sum())
    m2 = 0.0 if abs(m2) < 1e-14 else m2
    m3 = 0.0 if abs(m3) < 1e-14 else m3
    if m2 == 0:
        return 0.0
    return (n * (n - 1) ** 0.5 / (n - 2)) * (m3 / m2 ** 1.5)


def _num_unique(p, x, cutoff):
    v = known(x[0])
    return len(set(v.tolist())) if v.dtype.kind == "O" else len(np.unique(v))


def _mode(p, x, cutoff):
    v = known(x[0])
    if not len(v):
        return None
    if v.dtype.kind == "O":
        counts = pd.Series(v).value_counts()
        return min(counts.index[counts.to_numpy() == counts.max()])
    values, counts = np.unique(v, return_counts=True)  # ascending: ties go to the smallest
    return values[int(np.argmax(counts))]


def _percent_true(p, x, cutoff):
    v = x[0]
    return float(np.mean(v == 1)) if len(v) else None


def _trend(p, x, cutoff):
    y, t = x
    ok = ~isnull(y) & ~np.isnat(t)
    if ok.sum() <= 2:
        return None
    ns = t[ok].astype("int64").astype("float64")
    first_s = int(ns[0] * 1e-9)  # first in entityset order, as featuretools converts the times
    dividend = 86400.0 if first_s % 86400 == 0 else 3600.0 if first_s % 3600 == 0 else \
        60.0 if first_s % 60 == 0 else 1.0
    xs = ns * (1e-9 / dividend)
    ys = y[ok].astype("float64")
    if xs.max() == xs.min() or ys.max() == ys.min():  # a constant series' slope is exactly 0, in both engines
        return 0.0
    xc, yc = xs - xs.mean(), ys - ys.mean()
    return float((xc * yc).sum() / (xc * xc).sum())


def _since(which: int):
    def kernel(p, x, cutoff):
        t = x[0]
        if not len(t) or np.isnat(t[which]):
            return None
        return _seconds(cutoff - t[which]) / _UNIT_SECONDS[p.unit]
    return kernel


def _avg_time_between(p, x, cutoff):
    t = known(x[0])
    if len(t) < 2:
        return None
    span = float((t.max() - t.min()).astype("int64"))
    return span / float(len(t) - 1) * 1e-9 / _UNIT_SECONDS[p.unit]


KERNELS: dict[type, Kernel] = {
    fp.Count: lambda p, x, cutoff: int((~isnull(x[0])).sum()),
    fp.Sum: _sum,
    fp.Mean: _mean,
    fp.Max: _edge(np.max),
    fp.Min: _edge(np.min),
    fp.Std: _std,
    fp.Skew: _skew,
    fp.NumUnique: _num_unique,
    fp.Mode: _mode,
    fp.PercentTrue: _percent_true,
    fp.Trend: _trend,
    fp.TimeSinceLast: _since(-1),
    fp.TimeSinceFirst: _since(0),
    fp.AvgTimeBetween: _avg_time_between,
}


# -- transforms: whole arrays (the rows of one path) ------------------------------------------

def _datetime_part(part: Callable[[np.ndarray], np.ndarray]):
    def transform(p, x, metas, cutoff):
        t = x[0]
        out = part(t).astype("float64")
        out[np.isnat(t)] = np.nan
        return out
    return transform


def _month(t):
    return t.astype("datetime64[M]").astype("int64") % 12 + 1


def _day(t):
    return (t - t.astype("datetime64[M]")).astype("timedelta64[D]").astype("int64") + 1


def _equal(negate: bool):
    def transform(p, x, metas, cutoff):
        v, meta, value = x[0], metas[0], p.value
        missing = isnull(v)
        if meta.categories is not None:
            cats = meta.categories.categories
            if value not in cats:
                return np.full(len(v), 1.0 if negate else 0.0)
            hit = v == float(cats.get_loc(value))
        elif v.dtype.kind == "O":
            hit = np.array([a == value for a in v], dtype=bool)
        else:
            hit = v == value
        out = (hit != negate).astype("float64")
        out[missing] = np.nan if meta.nullable and meta.categories is None else float(negate)
        return out
    return transform


def _time_since(p, x, metas, cutoff):
    t = x[0]
    out = (cutoff - t).astype("int64").astype("float64") / 1e9 / _UNIT_SECONDS[p.unit]
    out[np.isnat(t)] = np.nan
    return out


def _divide(p, x, metas, cutoff):
    with np.errstate(divide="ignore", invalid="ignore"):
        return x[0].astype("float64") / x[1].astype("float64")


TRANSFORMS: dict[type, Callable] = {
    fp.DivideNumeric: _divide,
    fp.TimeSince: _time_since,
    fp.Month: _datetime_part(_month),
    fp.Day: _datetime_part(_day),
    fp.Year: _datetime_part(lambda t: t.astype("datetime64[Y]").astype("int64") + 1970),
    fp.Hour: _datetime_part(lambda t: (t - t.astype("datetime64[D]")).astype("timedelta64[h]").astype("int64")),
    fp.Weekday: _datetime_part(lambda t: (t.astype("datetime64[D]").astype("int64") + 3) % 7),  # Monday = 0
    fp.IsNull: lambda p, x, metas, cutoff: isnull(x[0]).astype("float64"),
    fp.EqualScalar: _equal(negate=False),
    fp.NotEqualScalar: _equal(negate=True),
}


def aggregation(primitive) -> Kernel | None:
    """The numpy kernel of an aggregation primitive: its class's own, else the stock table's."""
    if isinstance(primitive, EnginePrimitive):
        return type(primitive).numpy_kernel
    return KERNELS.get(type(primitive))


def transform(primitive) -> Callable | None:
    """The numpy kernel of a transform primitive: its class's own, else the stock table's."""
    if isinstance(primitive, EnginePrimitive):
        return type(primitive).numpy_kernel
    return TRANSFORMS.get(type(primitive))
