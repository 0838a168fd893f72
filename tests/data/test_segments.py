"""Segment values of instances, read through foreign keys from the target table up."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from creditml.config import ReportSettings
from creditml.data import load_dataset
from creditml.data.segments import column_values
from creditml.errors import ConfigError


@pytest.fixture(scope="module")
def dataset(small_world):
    return load_dataset(small_world)


def test_values_come_from_the_target_and_its_parents(dataset):
    apps = dataset.tables["applications"]
    ids = pd.Index(apps["application_id"].iloc[[5, 0, 17]].to_numpy())
    out = column_values(dataset, "applications", ids, ["applications.channel", "intermediaries.kind",
                                                       "customers.region"])
    assert out.index.equals(ids)
    rows = apps.set_index("application_id").loc[ids]
    assert out["applications.channel"].tolist() == rows["channel"].tolist()
    kinds = dataset.tables["intermediaries"].set_index("intermediary_id")["kind"]
    expected = [kinds.get(i) if pd.notna(i) else None for i in rows["intermediary_id"]]
    assert [None if pd.isna(v) else v for v in out["intermediaries.kind"]] == [
        None if e is None or pd.isna(e) else e for e in expected]
    regions = dataset.tables["customers"].set_index("customer_id")["region"]
    assert out["customers.region"].tolist() == regions.loc[rows["customer_id"]].tolist()


def test_an_unreachable_column_says_what_is_reachable(dataset):
    ids = pd.Index(dataset.tables["applications"]["application_id"].iloc[:2].to_numpy())
    with pytest.raises(ConfigError, match=r"report.segments: 'loans.principal' is not a column of 'applications' or "
                                          r"of a table it reaches through foreign keys \(applications, customers, "
                                          r"intermediaries\); name an existing table.column"):
        column_values(dataset, "applications", ids, ["loans.principal"])


def test_report_settings_want_table_dot_column():
    assert ReportSettings(segments=["applications.channel"]).segments == ["applications.channel"]
    with pytest.raises(ValidationError, match=r"report.segments: expected table.column names \(e.g. "
                                              r"applications.channel\); got \['channel'\]"):
        ReportSettings(segments=["channel"])
