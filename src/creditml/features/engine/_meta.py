"""What the engine knows about a column it carries: how pandas would treat it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import polars as pl


@dataclass(frozen=True)
class ColumnMeta:
    kind: str  # "int", "float", "bool", "datetime", "str", "category", "other"
    categories: pd.CategoricalDtype | None = None  # set when the Polars column holds category codes
    nullable: bool = False  # pandas extension dtype: comparisons with a missing value give NA
    sorted_time: bool = False  # a time index whose entityset frame is in time order
    aggregated: bool = False  # categories come from an aggregation (Mode) rather than a column


def kind_of(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if dtype == pl.Boolean:
        return "bool"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.String:
        return "str"
    return "other"
