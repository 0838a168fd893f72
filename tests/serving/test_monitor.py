"""Monitoring a scored file against the training reference of the champion."""

from __future__ import annotations

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from creditml.serving.batch import score_file, write_records
from creditml.serving.monitor import monitor, psi
from tests.serving.conftest import predictions, records_of


def test_psi_is_zero_for_the_same_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    ref = pd.Series(rng.normal(size=5000))
    assert psi(ref, ref) < 1e-9
    assert psi(ref, ref + 0.1) < psi(ref, ref + 1.0)
    assert psi(ref, ref + 1.0) > 0.25
    assert psi(pd.Series(list("aab") * 100), pd.Series(list("abb") * 100)) > 0.05


def test_monitor_writes_html_and_logs_a_tagged_run(serving_world, world_dataset, bundles, tmp_path):
    trained = serving_world.model("credit_default")
    preds = predictions(trained.run_id)
    ids = preds.index[preds.split == "test"][:40]
    src = write_records(records_of(world_dataset, bundles["credit_default"], ids), tmp_path / "in.jsonl")
    scored = tmp_path / "scored.parquet"
    score_file(f"models:/{trained.name}@champion", src, scored, show_progress=False)

    result = monitor(trained.name, scored, tmp_path / "monitor.html")
    items = result.table.set_index("item")
    assert "probability" in items.index and (items["kind"] == "feature").sum() >= 1
    assert items["psi"].ge(0).all()
    page = result.html_path.read_text()
    assert "<table>" in page and "probability" in page and "<script" not in page
    run = MlflowClient().get_run(result.run_id)
    assert run.data.tags["creditml.monitoring"] == "true"
    assert run.data.metrics["psi.probability"] == items.at["probability", "psi"]
