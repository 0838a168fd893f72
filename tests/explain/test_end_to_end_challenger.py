"""Two real versions through the real pipeline; the second's report compares it with the first as champion."""

from __future__ import annotations

import dataclasses
import re
from html import unescape

import numpy as np
import pytest

from creditml.config import load_pipeline_config
from creditml.explain.report import build_report
from creditml.registry import open_registry
from creditml.registry.compare_inputs import champion_version, load_champion
from creditml.registry.loading import load_bundle
from creditml.registry.reports import load_report_inputs
from tests.conftest import PIPELINES
from tests.explain.test_report import section


@pytest.fixture(scope="module")
def two_versions(small_world, tmp_path_factory):
    """(model name, tmp) with versions 1 and 2 of credit_default (different searches) in a fresh MLflow store."""
    from creditml.runner import run_pipeline

    tmp = tmp_path_factory.mktemp("e2e-challenger")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
        mp.chdir(tmp)
        versions = []
        for trials, candidates in ((2, 200), (3, 300)):
            cfg = load_pipeline_config(
                PIPELINES / "credit_default.yaml", dataset=small_world,
                overrides=[f"tuning.n_trials={trials}", f"features.max_candidates={candidates}",
                           "selection.max_selected=40", "training.min_positives=5",
                           f"tuning.storage=sqlite:///{tmp / 'optuna.db'}"])
            versions.append(run_pipeline(cfg).version)
        assert versions == ["1", "2"]
        yield cfg.registry.model_name, tmp


@pytest.fixture()
def store(two_versions, monkeypatch):
    name, tmp = two_versions
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
    monkeypatch.chdir(tmp)
    return name


def test_before_a_champion_the_report_says_there_is_none(store):
    registry = open_registry()
    registry.set_alias(store, "champion", None)
    inputs = load_report_inputs(store, "2")
    assert inputs.champion is None
    assert inputs.champion_note == (f"No champion to compare with: model {store!r} has no version with the alias "
                                    "'champion'.")
    assert "No champion to compare with" in section(build_report(inputs), "challenger")


def test_the_second_version_is_compared_with_the_champion_on_the_same_instances(store):
    registry = open_registry()
    registry.set_alias(store, "champion", "1")
    assert champion_version(registry, store) == "1"
    inputs = load_report_inputs(store, "2")
    assert inputs.champion is not None and inputs.champion.version == "1", inputs.champion_note
    assert not inputs.notes  # same dataset, same split: the champion never saw these instances
    # the champion rescored from the dataset equals what its own run logged on the same (shared) window
    champion_logged = load_report_inputs(store, "1").predictions
    test_ids = inputs.predictions.index[inputs.predictions.split == "test"]
    assert inputs.champion.probabilities.index.equals(test_ids)
    np.testing.assert_allclose(inputs.champion.probabilities.to_numpy(),
                               champion_logged.loc[test_ids, "probability"].to_numpy(), rtol=0, atol=1e-9)

    html = build_report(inputs)
    part = " ".join(unescape(section(html, "challenger")).split())
    assert "champion (version 1)" in part and "candidate (version 2)" in part
    assert re.search(r"AUC difference \(candidate − champion\): <strong>[+-]\d\.\d{4}</strong> "
                     r"\[[+-]\d\.\d{4}, [+-]\d\.\d{4}\] \(DeLong 95%", part)
    assert "paired bootstrap 95% [" in part
    swap_in = re.search(r"swap-ins \(candidate approves, champion declines\)</td><td class=\"n\">(\d+)</td>", part)
    swap_out = re.search(r"swap-outs \(champion approves, candidate declines\)</td><td class=\"n\">(\d+)</td>", part)
    assert swap_in and swap_out and swap_in.group(1) == swap_out.group(1)
    over = " ".join(section(html, "over-time").split())
    for by in ("By month", "By applications.channel", "By applications.purpose", "By intermediaries.kind"):
        assert by in over


def test_the_champion_itself_and_a_missing_dataset_are_said_plainly(store):
    registry = open_registry()
    registry.set_alias(store, "champion", "1")
    assert load_report_inputs(store, "1").champion_note == ("No champion to compare with: this version (1) is "
                                                            "the champion.")
    inputs = load_report_inputs(store, "2")
    bundle = load_bundle(f"models:/{store}/2")
    champion, note = load_champion(registry, store, "2", bundle, inputs.predictions, None,
                                   "the run's dataset config '/gone/dataset.yaml' is not available on this machine.",
                                   [])
    assert champion is None
    assert note == ("The champion (version 1) could not be compared on this version's out-of-time instances: "
                    "the run's dataset config '/gone/dataset.yaml' is not available on this machine.")
    html = build_report(dataclasses.replace(inputs, champion=None, champion_note=note))
    assert note in unescape(section(html, "challenger"))
