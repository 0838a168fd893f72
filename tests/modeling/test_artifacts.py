"""Typed run artifacts: what the writer logs is what the reader accepts, and nothing else."""

from __future__ import annotations

import pandas as pd
import pytest

from creditml.config import GateSettings
from creditml.modeling.artifacts import (ArtifactError, GateRecord, TuningSummary, check_selection_table,
                                        read_record)
from creditml.modeling.gates import GateInputs, evaluate_gates

SUMMARY = dict(study="s", storage="sqlite:///o.db", objective="AUC", best_params={"max_depth": 3}, best_auc=0.7,
               cv_folds=0, folds=[], best_iteration=10, final_fit="train", param_importance={}, resumed_trials=0,
               sampler_seed=1, monotone_constraints={})


def test_a_gate_decision_round_trips_through_its_record():
    decision = evaluate_gates(GateInputs(0.8, 0.7, 0.1, 0.01, 0.02, 1e-7, (), 0.9), GateSettings())
    text = decision.record().model_dump_json()
    back = read_record(GateRecord, text, "gates/gates.json")
    assert back.passed == decision.passed and [c.name for c in back.checks] == [c.name for c in decision.checks]
    assert back.failed == len(decision.reasons)


def test_a_renamed_field_is_an_error_naming_the_artifact_and_field():
    old = TuningSummary(**SUMMARY).model_dump()
    old["best_validation_auc"] = old.pop("best_auc")  # what an older run wrote
    text = pd.Series([old]).to_json(orient="records")[1:-1]
    with pytest.raises(ArtifactError, match=r"artifact 'tuning/summary.json' does not match TuningSummary "
                                            r"\(best_auc: Field required; best_validation_auc: Extra inputs"):
        read_record(TuningSummary, text, "tuning/summary.json")


def test_a_selection_table_must_have_exactly_its_columns():
    frame = pd.DataFrame({"feature": ["a"], "kept": [True], "reason": ["kept"], "statistic": [None],
                          "detail": [""], "iv": [0.1], "psi": [0.0]})
    assert list(check_selection_table(frame).columns) == list(frame.columns)
    with pytest.raises(ArtifactError, match=r"features/selection.csv.*missing \['psi'\], unknown \['PSI'\]"):
        check_selection_table(frame.rename(columns={"psi": "PSI"}))
