"""The input tables of the graph features, checked and turned into integer-coded arrays.

Applications, instances and times become numpy arrays once, here; every feature family
works on codes (application ``i`` is row ``i`` of ``applications``) and int64
nanoseconds. Errors name the table and column, what was expected and what was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditml.config import GraphSettings
from creditml.errors import CreditmlError

NS_PER_DAY = 86_400 * 1_000_000_000
NAT = np.iinfo(np.int64).min  # a missing time, as int64 nanoseconds
NEVER = np.iinfo(np.int64).max  # a time that no cutoff reaches


class GraphInputError(CreditmlError, ValueError):
    """An input table of the graph features lacks a column or holds unusable values."""


_COLUMN_SOURCE = {
    "links": "the link table's columns are named by GraphSettings (instance_column, value_column, kind_column, "
             "time_column)",
    "instances": "instances need instance_id and cutoff",
    "applications": "applications need instance_id, time and, with GraphSettings.customer_column, customer",
    "confirmations": "confirmations need instance_id and known_at",
}


def require(df: pd.DataFrame, table: str, columns: Sequence[str]) -> None:
    if not isinstance(df, pd.DataFrame):
        raise GraphInputError(f"graph features: table '{table}' must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise GraphInputError(
            f"graph features: table '{table}' lacks column(s) {missing}; found columns {list(df.columns)}; "
            f"{_COLUMN_SOURCE.get(table, 'rename the columns')}"
        )


def to_ns(series: pd.Series, table: str, column: str) -> np.ndarray:
    """Times as int64 nanoseconds (UTC for aware times); NaT becomes :data:`NAT`."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_datetime64_any_dtype(series):
        if len(series) and not series.isna().all():
            raise GraphInputError(
                f"graph features: column '{column}' of table '{table}' must hold datetimes, found dtype {series.dtype}; "
                "convert it with pandas.to_datetime"
            )
    try:
        times = pd.to_datetime(series)
    except (ValueError, TypeError) as exc:
        raise GraphInputError(
            f"graph features: column '{column}' of table '{table}' cannot be read as datetimes ({exc})"
        ) from None
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return times.to_numpy(dtype="datetime64[ns]").view("int64")


def check_tables(links: pd.DataFrame, instances: pd.DataFrame, applications: pd.DataFrame,
                 confirmations: pd.DataFrame | None, settings: GraphSettings,
                 max_neighbours_per_identifier: int) -> None:
    """Every table has the columns :func:`graph_features` reads; the cap is positive."""
    s = settings
    link_cols = [s.instance_column, s.value_column, s.time_column] + ([s.kind_column] if s.kind_column else [])
    require(links, "links", link_cols)
    require(instances, "instances", ["instance_id", "cutoff"])
    require(applications, "applications", ["instance_id", "time"] + (["customer"] if s.customer_column else []))
    if confirmations is not None:
        require(confirmations, "confirmations", ["instance_id", "known_at"])
    if max_neighbours_per_identifier < 1:
        raise GraphInputError(
            f"graph features: max_neighbours_per_identifier must be at least 1; got {max_neighbours_per_identifier}"
        )


@dataclass(frozen=True)
class Applications:
    """Every application the platform knows, coded by its row."""

    index: pd.Index  # instance_id -> application code
    time: np.ndarray  # int64 ns, NAT when missing
    customer: np.ndarray  # customer code per application, -1 unknown (always -1 without customers)
    customers: pd.Index  # customer code -> customer value

    @property
    def n(self) -> int:
        return len(self.index)


def read_applications(applications: pd.DataFrame, with_customers: bool) -> Applications:
    index = pd.Index(applications["instance_id"])
    if not index.is_unique:
        dup = index[index.duplicated()].unique()[:5].tolist()
        raise GraphInputError(
            f"graph features: table 'applications' repeats instance_id values, e.g. {dup}; "
            "give each application one row"
        )
    time = to_ns(applications["time"], "applications", "time")
    if with_customers:
        codes, uniques = pd.factorize(applications["customer"])
        customer = codes.astype(np.int64)
        customers = pd.Index(uniques)
    else:
        customers = pd.Index([])
        customer = np.full(len(index), -1, dtype=np.int64)
    return Applications(index, time, customer, customers)


@dataclass(frozen=True)
class Instances:
    """The rows to compute: an application each, as of its own cutoff."""

    app: np.ndarray  # application code per instance
    cutoff: np.ndarray  # int64 ns
    customer: np.ndarray  # the instance's own customer code, -1 unknown

    @property
    def n(self) -> int:
        return len(self.app)


def read_instances(instances: pd.DataFrame, apps: Applications, with_customers: bool) -> Instances:
    app = apps.index.get_indexer(instances["instance_id"])
    if (app < 0).any():
        bad = instances["instance_id"][app < 0].unique()[:5].tolist()
        raise GraphInputError(
            f"graph features: {int((app < 0).sum())} instance(s) of table 'instances' are not in table "
            f"'applications' (e.g. {bad}); every instance must be an application of that table"
        )
    cutoff = to_ns(instances["cutoff"], "instances", "cutoff")
    if (cutoff == NAT).any():
        raise GraphInputError(
            f"graph features: table 'instances' has {int((cutoff == NAT).sum())} missing 'cutoff' value(s); "
            "every instance needs the time it is scored at"
        )
    if with_customers and "customer" in instances.columns:
        own = apps.customers.get_indexer(instances["customer"])  # -1: not a known customer
        customer = np.where(instances["customer"].isna().to_numpy(), -1, own).astype(np.int64)
        # a customer unknown to `applications` is still "own": it matches nobody, so no exclusion needed
    else:
        customer = apps.customer[app]
    return Instances(app, cutoff, customer)
