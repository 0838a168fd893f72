"""Transform primitives as Polars expressions (same values as featuretools' pandas code)."""

from __future__ import annotations

from typing import Callable

import featuretools.primitives as fp
import polars as pl

from creditml.features.engine._meta import ColumnMeta
from creditml.features.primitives import Roundness

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


def _roundness(primitive, inputs, metas) -> pl.Expr:
    value = inputs[0].cast(pl.Float64)
    out = pl.lit(0.0)
    for step in primitive.STEPS:  # ascending: a larger step that divides the value wins
        out = pl.when((value % step == 0) & (value != 0)).then(pl.lit(float(step))).otherwise(out)
    return pl.when(value.is_null() | value.is_nan()).then(pl.lit(None, dtype=pl.Float64)).otherwise(out)


def _divide(primitive, inputs, metas) -> pl.Expr:
    # IEEE division as numpy: x / 0 is +-inf, 0 / 0 is NaN; a missing side gives missing
    return inputs[0].cast(pl.Float64) / inputs[1].cast(pl.Float64)


TRANSFORMS: dict[type, Builder] = {
    Roundness: _roundness,
    fp.DivideNumeric: _divide,
    fp.Month: lambda p, x, m: x[0].dt.month().cast(pl.Int64),
    fp.Day: lambda p, x, m: x[0].dt.day().cast(pl.Int64),
    fp.Year: lambda p, x, m: x[0].dt.year().cast(pl.Int64),
    fp.Hour: lambda p, x, m: x[0].dt.hour().cast(pl.Int64),
    fp.Weekday: lambda p, x, m: (x[0].dt.weekday() - 1).cast(pl.Int64),  # pandas: Monday = 0
    fp.IsNull: lambda p, x, m: x[0].is_null(),
    fp.EqualScalar: _equal,
    fp.NotEqualScalar: _not_equal,
}


def supports(primitive, metas: list[ColumnMeta]) -> bool:
    builder = type(primitive)
    if builder not in TRANSFORMS:
        return False
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
    if isinstance(primitive, (Roundness, fp.DivideNumeric)):
        return ColumnMeta(kind="float")
    return ColumnMeta(kind="int")
