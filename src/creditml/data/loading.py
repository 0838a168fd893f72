"""Read declared tables from disk and give every column the type its config declares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from creditml.config import DatasetConfig, TableSpec, load_dataset_config
from creditml.errors import DataContractError

TRUE_VALUES = {"1", "true", "t", "yes", "y", "1.0"}
FALSE_VALUES = {"0", "false", "f", "no", "n", "0.0"}


@dataclass
class Dataset:
    """Validated, typed tables of one declared dataset."""

    config: DatasetConfig
    tables: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)  # what loading did (orphans dropped, ...)

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def read_raw(cfg: DatasetConfig, name: str) -> pd.DataFrame:
    """Read one table file as it is on disk (CSV with or without a UTF-8 BOM, or Parquet)."""
    spec = cfg.tables[name]
    if spec.unpivot is not None:  # a child table made of the wide table's columns
        from creditml.data.reshape import unpivot

        return unpivot(read_raw(cfg, spec.unpivot.table), cfg, name)
    path = cfg.path_of(name)
    if spec.resolved_format == "csv":
        # utf-8-sig strips a byte-order mark when there is one; keys stay strings until typed
        return pd.read_csv(path, encoding="utf-8-sig", low_memory=False)
    return pd.read_parquet(path)


def anchor_timestamp(cfg: DatasetConfig) -> pd.Timestamp:
    return pd.Timestamp(cfg.time_anchor)


def coerce_column(series: pd.Series, ctype: str, offset_unit: str | None, anchor: pd.Timestamp | None) -> pd.Series:
    """Type one column. Values that do not parse become missing; validation counts them."""
    if offset_unit is not None:
        offsets = pd.to_numeric(series, errors="coerce")
        if offset_unit == "days":
            return anchor + pd.to_timedelta(offsets, unit="D")
        months = offsets.round()
        out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
        ok = months.notna()
        out[ok] = [anchor + pd.DateOffset(months=int(m)) for m in months[ok]]
        return out
    if ctype == "numeric":
        if pd.api.types.is_bool_dtype(series):
            return series.astype("float64")
        return pd.to_numeric(series, errors="coerce")
    if ctype == "boolean":
        if pd.api.types.is_bool_dtype(series):
            return series.astype("boolean")
        text = series.astype("string").str.strip().str.lower()
        out = pd.Series(pd.NA, index=series.index, dtype="boolean")
        out[text.isin(TRUE_VALUES)] = True
        out[text.isin(FALSE_VALUES)] = False
        return out
    if ctype == "datetime":
        if pd.api.types.is_datetime64_any_dtype(series):
            return series.dt.tz_localize(None) if series.dt.tz is not None else series
        return pd.to_datetime(series, errors="coerce", format="mixed")
    if ctype in {"categorical", "text"}:
        return series.astype("string").str.strip().replace("", pd.NA).astype(object).where(series.notna(), np.nan)
    return normalize_id(series)


def normalize_id(series: pd.Series) -> pd.Series:
    """Keys compare equal across tables and sources: integral numbers as int64, else strings.

    Integer keys with missing values (an optional foreign key) become nullable ``Int64``.
    """
    if pd.api.types.is_integer_dtype(series) and not isinstance(series.dtype, pd.Int64Dtype):
        return series.astype("int64")
    present = series.notna()
    if not pd.api.types.is_numeric_dtype(series):
        # only text that spells whole numbers is parsed (pandas' to_numeric can crash on hex strings)
        text = series[present].astype(str).str.strip()
        if not text.str.fullmatch(r"-?\d+(\.0*)?").all():
            return series.astype(object).where(present, None).map(lambda v: v if v is None else str(v))
    numbers = pd.to_numeric(series, errors="coerce")
    if present.any() and numbers[present].notna().all() and (numbers[present] % 1 == 0).all():
        ints = numbers.astype("Int64")
        return ints.astype("int64") if not ints.isna().any() else ints
    if not present.any():  # an empty or all-missing key column: numeric, like the keys it points at
        return numbers.astype("int64") if len(series) == 0 else numbers.astype("Int64")
    return series.astype(object).where(present, None).map(lambda v: v if v is None else str(v))


def type_table(spec: TableSpec, raw: pd.DataFrame, anchor: pd.Timestamp | None) -> pd.DataFrame:
    """Keep the declared columns (in declared order), typed; add generated key and anchor time."""
    out = pd.DataFrame(index=raw.index)
    if spec.generate_primary_key:
        out[spec.primary_key] = np.arange(len(raw), dtype="int64")
    if spec.anchor_column and spec.time_index:
        out[spec.time_index] = pd.Series(anchor, index=raw.index, dtype="datetime64[ns]")
    for name, col in spec.columns.items():
        if name in out.columns:
            continue
        out[name] = coerce_column(raw[name], col.type, col.offset_unit, anchor)
    return out


def load_dataset(config: DatasetConfig | str | Path) -> Dataset:
    """Validate and load a declared dataset; raise :class:`DataContractError` on any problem."""
    from creditml.data.validation import validate_dataset

    cfg = config if isinstance(config, DatasetConfig) else load_dataset_config(config)
    report = validate_dataset(cfg)
    if report.problems:
        raise DataContractError(report.problems, source=f"dataset {cfg.name!r}")
    return Dataset(cfg, report.tables, report.notes)
