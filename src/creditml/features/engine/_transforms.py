"""Transform primitives as Polars expressions (same values as featuretools' pandas code)."""

from __future__ import annotations

from typing import Callable

import featuretools.primitives as fp
import polars as pl

from creditml.features.engine._meta import ColumnMeta

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


TRANSFORMS: dict[type, Builder] = {
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
    return ColumnMeta(kind="int")
