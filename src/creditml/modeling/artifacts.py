"""The records a training run writes and every reader reads back, as typed models.

Writer (``registry.logging_run``) and readers (``registry.reports``, promotion) share
these classes: a renamed, missing or unknown field fails where the record is read,
naming the artifact and the field, instead of turning into a silent default.
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from creditml.errors import CreditmlError


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArtifactError(CreditmlError):
    """A logged artifact does not have the shape this creditml version reads."""


class TuningSummary(_Record):
    """``tuning/summary.json``: how the Optuna search ran and what it chose."""

    study: str
    storage: str
    objective: str
    best_params: dict[str, float | int | str | bool]
    best_auc: float  # mean CV AUC with folds, validation AUC without
    cv_folds: int  # 0: the search scored trials on the validation split
    folds: list[dict[str, Any]]  # each fold's rows and time block
    best_iteration: int
    final_fit: str
    param_importance: dict[str, float]
    resumed_trials: int
    sampler_seed: int
    monotone_constraints: dict[str, int]


class GateCheck(_Record):
    name: str
    passed: bool
    value: float
    threshold: float
    reason: str


class GateRecord(_Record):
    """``gates/gates.json``: the automated gates' decision with every check."""

    passed: bool
    checks: tuple[GateCheck, ...]

    @property
    def failed(self) -> int:
        return sum(not c.passed for c in self.checks)


class LeakageFlags(_Record):
    """``features/leakage_flags.json``."""

    leakage_flags: list[str]


class SelectionRow(_Record):
    """One row of ``features/selection.csv``: a candidate, kept or dropped, with its reason."""

    feature: str
    kept: bool
    reason: str
    statistic: float | None
    detail: str | None
    iv: float | None
    psi: float | None


SELECTION_COLUMNS = list(SelectionRow.model_fields)
Kind = Literal["tuning/summary.json", "gates/gates.json", "features/leakage_flags.json"]


def read_record(model: type[_Record], text: str, artifact: str):
    """Parse ``text`` as ``model``; a wrong shape is an :class:`ArtifactError` naming the artifact and fields."""
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise ArtifactError(f"artifact {artifact!r} does not match {model.__name__} ({problems}); "
                            "it was written by another creditml version: retrain, or read it with that version") from None


def check_selection_table(frame: pd.DataFrame, artifact: str = "features/selection.csv") -> pd.DataFrame:
    """The selection table with exactly the columns of :class:`SelectionRow`, or an :class:`ArtifactError`."""
    missing = [c for c in SELECTION_COLUMNS if c not in frame.columns]
    unknown = [c for c in frame.columns if c not in SELECTION_COLUMNS]
    if missing or unknown:
        raise ArtifactError(f"artifact {artifact!r}: expected the columns {', '.join(SELECTION_COLUMNS)}; "
                            f"missing {missing or 'none'}, unknown {unknown or 'none'}; retrain with this creditml version")
    return frame[SELECTION_COLUMNS]
