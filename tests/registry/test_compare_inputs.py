"""The champion lookup and the training-overlap check of the comparison's loading edge."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from creditml.registry.compare_inputs import _note_training_overlap, champion_version


class StubRegistry:
    """Only what these functions call: an alias and one run artifact."""

    def __init__(self, predictions: pd.DataFrame | None = None, champion: str | None = "1"):
        self.predictions, self.champion = predictions, champion

    def alias_version(self, name: str, alias: str) -> str | None:
        return self.champion if alias == "champion" else None

    def download_artifacts(self, run_id: str, path: str, dst: Path | None = None) -> Path:
        if self.predictions is None:
            raise OSError(f"no artifact {path} in run {run_id}")
        out = Path(dst) / "predictions.parquet"
        self.predictions.to_parquet(out)
        return out


def test_the_champion_is_the_alias_for_now():
    assert champion_version(StubRegistry(champion="4"), "m") == "4"
    assert champion_version(StubRegistry(champion=None), "m") is None


def test_instances_the_champion_trained_on_are_counted_in_a_note():
    theirs = pd.DataFrame({"instance_id": [1, 2, 3, 4], "split": ["train", "validation", "test", "test"]})
    notes: list[str] = []
    _note_training_overlap(StubRegistry(theirs), "run1", "1", pd.Index([2, 3, 4]), notes)
    assert notes == ["1 of the 3 out-of-time instances were in the champion's (version 1) training or validation "
                     "data: its figures on them are optimistic, so the comparison favours the champion."]
    notes.clear()
    _note_training_overlap(StubRegistry(theirs), "run1", "1", pd.Index([3, 4]), notes)
    assert notes == []


def test_a_champion_without_logged_predictions_says_the_check_was_not_made():
    notes: list[str] = []
    _note_training_overlap(StubRegistry(None), "run1", "1", pd.Index([3, 4]), notes)
    assert notes == ["The champion's (version 1) predictions were not logged; whether it trained on any of these "
                     "out-of-time instances could not be checked."]
