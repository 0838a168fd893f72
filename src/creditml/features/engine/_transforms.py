"""Transform primitives as Polars expressions (same values as featuretools' pandas code).

Stock featuretools primitives are in ``TRANSFORMS``; a creditml primitive brings its own
expression (:class:`EnginePrimitive`). ``pl.col(CUTOFF)`` is each row's instance cutoff,
the ``time`` featuretools passes to primitives that use the cutoff (``TimeSince``).
"""

from __future__ import annotations

from typing import Callable

import featuretools.primitives as fp
import polars as pl

from creditml.features.engine._aggregations import _UNIT_SECONDS, _seconds
from creditml.features.engine._frames import CUTOFF
from creditml.features.engine._meta import ColumnMeta
from creditml.features.engine._primitive import EnginePrimitive

Builder = Callable[[object, list[pl.Expr], list[ColumnMeta]], pl.Expr]


def _equal(primitive, inputs, metas) -> pl.Expr:
    meta, value = metas[0], primitive.value
    if meta.categories is not None:  # compare codes; a value outside the categories matches nothing
        cats = meta.categories.categories
        if value not in cats:
            return pl.lit(False)
        return (inputs[0] == int(cats.get_loc(value))).fill_null(False)
    out = inputs[0] == pl.lit(value)
    return out if meta.nullable else out.fill_null(False)


def _not_equal(primitive, inputs, metas) -> pl.Expr:
    meta, value = metas[0], primitive.value
    if meta.categories is not None:
        cats = meta.categories.categories
        if value not in cats:
            return pl.lit(True)
        return (inputs[0] != int(cats.get_loc(value))).fill_null(True)
    out = inputs[0] != pl.lit(value)
    return out if meta.nullable else out.fill_null(True)


def _divide(primitive, inputs, metas) -> pl.Expr:
    # IEEE division as numpy: x / 0 is +-inf, 0 / 0 is NaN; a missing side gives missing
    return inputs[0].cast(pl.Float64) / inputs[1].cast(pl.Float64)


def _time_since(primitive, inputs, metas) -> pl.Expr:
    # featuretools: convert_time_units((time - values).dt.total_seconds(), unit)
    return _seconds(pl.col(CUTOFF) - inputs[0]) / _UNIT_SECONDS[primitive.unit]


TRANSFORMS: dict[type, Builder] = {
    fp.DivideNumeric: _divide,
    fp.TimeSince: _time_since,
    fp.Month: lambda p, x, m: x[0].dt.month().cast(pl.Int64),
    fp.Day: lambda p, x, m: x[0].dt.day().cast(pl.Int64),
    fp.Year: lambda p, x, m: x[0].dt.year().cast(pl.Int64),
    fp.Hour: lambda p, x, m: x[0].dt.hour().cast(pl.Int64),
    fp.Weekday: lambda p, x, m: (x[0].dt.weekday() - 1).cast(pl.Int64),  # pandas: Monday = 0
    fp.IsNull: lambda p, x, m: x[0].is_null(),
    fp.EqualScalar: _equal,
    fp.NotEqualScalar: _not_equal,
}


def builder(primitive) -> Builder | None:
    """The Polars expression builder of ``primitive``: its class's own, else the stock table's."""
    if isinstance(primitive, EnginePrimitive):
        return type(primitive).polars_expr
    return TRANSFORMS.get(type(primitive))


def supports(primitive, metas: list[ColumnMeta]) -> bool:
    if isinstance(primitive, EnginePrimitive):
        return primitive.engine_supports(metas)
    builder = type(primitive)
    if builder not in TRANSFORMS:
        return False
    if builder is fp.TimeSince:
        return metas[0].kind == "datetime" and primitive.unit in _UNIT_SECONDS
    if builder in (fp.EqualScalar, fp.NotEqualScalar):
        meta, value = metas[0], primitive.value
        if meta.categories is not None:
            return True
        kind = meta.kind
        if isinstance(value, bool):
            return kind == "bool"
        if isinstance(value, (int, float)):
            return kind in ("int", "float")
        return isinstance(value, str) and kind == "str"
    if builder in (fp.Month, fp.Day, fp.Year, fp.Hour, fp.Weekday):
        return metas[0].kind == "datetime"
    return True


def meta_of_output(primitive, metas: list[ColumnMeta]) -> ColumnMeta:
    if isinstance(primitive, fp.IsNull):
        return ColumnMeta(kind="bool")
    if isinstance(primitive, (fp.EqualScalar, fp.NotEqualScalar)):
        return ColumnMeta(kind="bool", nullable=metas[0].nullable and metas[0].categories is None)
    if isinstance(primitive, EnginePrimitive):
        return ColumnMeta(kind=primitive.engine_kind)
    if isinstance(primitive, (fp.DivideNumeric, fp.TimeSince)):
        return ColumnMeta(kind="float")
    return ColumnMeta(kind="int")
