"""Undated tables must say what they are: static, or a snapshot known from a date on.

A snapshot's features are missing for cutoffs before ``snapshot_at`` and present
after; changing its rows cannot change a feature of an earlier cutoff.
"""

from __future__ import annotations

import pandas as pd
import pytest

from creditml.config import FeatureSettings, dump_dataset_config, load_dataset_config
from creditml.data import load_dataset
from creditml.errors import ConfigError
from creditml.features.compute import compute_matrix
from creditml.features.dfs import build_candidates
from creditml.features.entityset import build_entityset
from tests.data.test_validation import _config, _tables, write_world
from tests.leakage import perturb_after

SNAPSHOT_AT = pd.Timestamp("2023-06-15")
LOANS = pd.DataFrame({
    "loan_id": range(10, 22),
    "customer_id": [1, 2, 3] * 4,
    "disbursed_at": pd.date_range("2023-03-01", periods=12, freq="MS").strftime("%Y-%m-%d"),
    "principal": [500 + 50 * i for i in range(12)],
    "bad": [0, 1] * 6,
    "days_before": [-10] * 12,
})


def _values(frame: pd.DataFrame) -> pd.DataFrame:
    """Values, not dtypes: a category first seen in the changed rows widens a category set, not a value."""
    return frame.astype(object).where(frame.notna(), None)


def _world(tmp_path, **scores_spec):
    config = _config()
    config["tables"]["scores"] = {
        "file": "scores.csv", "primary_key": "score_id",
        "columns": {"score_id": "id", "customer_id": "id", "score": "numeric", "segment": "categorical"},
        "foreign_keys": [{"column": "customer_id", "references": "customers"}], **scores_spec}
    tables = _tables()
    tables["loans"] = LOANS
    tables["scores"] = pd.DataFrame({"score_id": [1, 2, 3, 4, 5], "customer_id": [1, 1, 2, 3, 3],
                                     "score": [610.0, 640.0, 580.0, 700.0, 720.0],
                                     "segment": ["a", "b", "a", "c", "c"]})
    return write_world(tmp_path, config=config, tables=tables)


def test_an_undated_table_must_say_what_it_is(tmp_path):
    with pytest.raises(ConfigError, match=(
            r"tables\.scores has no time_index, so creditml cannot tell when its rows became known\. Declare which "
            r"it is: static: true \(the rows never change: they were the same at every cutoff\), or snapshot_at: "
            r"YYYY-MM-DD \(an export known from that date only: its features are missing for earlier cutoffs\)")):
        load_dataset_config(_world(tmp_path))


def test_declarations_that_contradict_each_other(tmp_path):
    with pytest.raises(ConfigError, match=r"tables\.scores: static: true and snapshot_at contradict each other"):
        load_dataset_config(_world(tmp_path, static=True, snapshot_at="2023-06-15"))
    with pytest.raises(ConfigError, match=r"tables\.scores\.snapshot_at: 'mid-June' is not a date"):
        load_dataset_config(_world(tmp_path, snapshot_at="mid-June"))


def test_static_table_stays_undated(tmp_path):
    ds = load_dataset(_world(tmp_path, static=True))
    assert ds.config.tables["scores"].time_index is None
    assert build_entityset(ds)["scores"].ww.time_index is None


def test_snapshot_gets_a_created_time_index(tmp_path):
    path = _world(tmp_path, snapshot_at="2023-06-15")
    ds = load_dataset(path)
    spec = ds.config.tables["scores"]
    assert spec.time_index == "_snapshot_at"
    assert (ds.table("scores")["_snapshot_at"] == SNAPSHOT_AT).all()
    dump_dataset_config(ds.config, tmp_path / "again.yaml")  # a written config reads back the same
    assert load_dataset_config(tmp_path / "again.yaml").tables["scores"] == spec


def test_snapshot_after_as_of_is_flagged(tmp_path):
    config_path = _world(tmp_path, snapshot_at="2025-01-01")
    text = config_path.read_text().replace("name: tiny", "name: tiny\nas_of: '2024-12-31'")
    config_path.write_text(text)
    with pytest.raises(Exception, match=r"table 'scores', column '_snapshot_at': 5 of 5 rows \(100\.0%\) are dated "
                                        r"after as_of 2024-12-31.*\(format, dayfirst, snapshot_at\)"):
        load_dataset(config_path)


@pytest.mark.parametrize("engine", ["featuretools", "fast"])
def test_snapshot_features_are_missing_before_snapshot_at_and_cannot_leak(tmp_path, engine):
    ds = load_dataset(_world(tmp_path, snapshot_at="2023-06-15"))
    es = build_entityset(ds)
    candidates = build_candidates(es, "loans", FeatureSettings(max_depth=2))
    on_scores = [f for f in candidates if "scores" in f.get_name()]
    assert len(on_scores) >= 5, [f.get_name() for f in candidates]
    cutoff = pd.DataFrame({"loan_id": LOANS["loan_id"], "time": pd.to_datetime(LOANS["disbursed_at"])})
    before = cutoff.loc[cutoff["time"] < SNAPSHOT_AT, "loan_id"].tolist()
    after = cutoff.loc[cutoff["time"] >= SNAPSHOT_AT, "loan_id"].tolist()
    assert len(before) == 4 and len(after) == 8

    matrix = compute_matrix(on_scores, es, cutoff, engine)
    counts = [c for c in matrix.columns if c.startswith("customers.COUNT(scores")]
    means = [c for c in matrix.columns if c.startswith(("customers.MEAN(scores.", "customers.MAX(scores."))]
    assert counts and means
    assert (matrix.loc[before, counts].fillna(0) == 0).all().all()
    assert matrix.loc[before, means].isna().all().all()
    assert (matrix.loc[after, "customers.COUNT(scores)"] > 0).all()
    assert matrix.loc[after, ["customers.MEAN(scores.score)", "customers.MAX(scores.score)"]].notna().all().all()

    # the snapshot's rows are dated after every earlier cutoff: change them all, add more
    changed = compute_matrix(on_scores, build_entityset(perturb_after(ds, SNAPSHOT_AT - pd.Timedelta(days=1))),
                             cutoff, engine)
    pd.testing.assert_frame_equal(_values(matrix.loc[before]), _values(changed.loc[before]), check_dtype=False)
    plain = ["customers.MEAN(scores.score)", "customers.MAX(scores.score)"]
    assert not matrix.loc[after, plain].equals(changed.loc[after, plain]), "the perturbation must be visible after"


@pytest.mark.parametrize("engine", ["featuretools", "fast"])
def test_a_snapshot_parent_is_not_looked_up_before_snapshot_at(tmp_path, engine):
    config = _config()
    customers = config["tables"]["customers"]
    del customers["time_index"]
    customers["snapshot_at"] = "2023-06-15"  # the customer table as exported at the end
    tables = _tables()
    tables["loans"] = LOANS
    ds = load_dataset(write_world(tmp_path, config=config, tables=tables))
    es = build_entityset(ds)
    income = [f for f in build_candidates(es, "loans", FeatureSettings(max_depth=1))
              if f.get_name() == "customers.income"]
    assert income
    cutoff = pd.DataFrame({"loan_id": LOANS["loan_id"], "time": pd.to_datetime(LOANS["disbursed_at"])})
    values = compute_matrix(income, es, cutoff, engine)["customers.income"]
    early = cutoff["time"].lt(SNAPSHOT_AT).values
    assert values[early].isna().all()
    assert values[~early & LOANS["customer_id"].ne(3).values].notna().all()  # customer 3 has no income


def test_cli_validate_refuses_an_undated_table_with_exit_2(tmp_path):
    from typer.testing import CliRunner

    from creditml.cli import app

    result = CliRunner().invoke(app, ["validate", str(_world(tmp_path))])
    assert result.exit_code == 2
    assert "tables.scores has no time_index" in result.output and "static: true" in result.output
