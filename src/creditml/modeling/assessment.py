"""The figures the gates judge, measured on a trained model (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xgboost as xgb

from creditml.config import GateSettings
from creditml.data import Dataset
from creditml.data.protected import protected_attributes
from creditml.modeling.fairness import approval_threshold, fairness_ratio, group_table
from creditml.model.frame import model_frame
from creditml.modeling.metrics import psi
from creditml.modeling.train import TrainedModel
from creditml.modeling.gates import GateInputs


@dataclass
class Assessment:
    gate_inputs: GateInputs
    fairness: dict[str, pd.DataFrame]  # protected attribute -> group table
    approval_threshold: float


def additivity_error(trained: TrainedModel, X: pd.DataFrame) -> float:
    """max |sum of SHAP contributions + bias - margin| over the rows of ``X``."""
    dm = xgb.DMatrix(model_frame(X, trained.features, trained.categories), enable_categorical=True)
    rng = (0, trained.best_iteration + 1)
    contribs = trained.booster.predict(dm, pred_contribs=True, iteration_range=rng)
    margin = trained.booster.predict(dm, output_margin=True, iteration_range=rng)
    return float(np.max(np.abs(contribs.sum(axis=1) - margin))) if len(X) else 0.0


def assess(trained: TrainedModel, matrix: pd.DataFrame, leakage_flags: list[str], dataset: Dataset, target: str,
           settings: GateSettings, label_is_good: bool = False) -> Assessment:
    """Gate figures; approval goes to the lowest risk (the highest chance of a good label)."""
    pred = trained.predictions
    train, test = pred[pred.split == "train"], pred[pred.split == "test"]
    sample = matrix.loc[test.index[:2000]]
    risk_train = 1 - train.probability.to_numpy() if label_is_good else train.probability.to_numpy()
    threshold = approval_threshold(risk_train, settings.approval_rate)
    groups = protected_attributes(dataset, target, test.index)
    fairness = {col: group_table(groups[col], test.label.to_numpy(), test.probability.to_numpy(), threshold,
                                 settings.min_group_size, label_is_good) for col in groups.columns}
    inputs = GateInputs(
        validation_auc=trained.metrics["validation"].auc, test_auc=trained.metrics["test"].auc,
        test_ks=trained.metrics["test"].ks, test_ece=trained.metrics["test"].ece,
        score_psi=psi(train.probability.to_numpy(), test.probability.to_numpy()),
        additivity_error=additivity_error(trained, sample), leakage_flags=tuple(leakage_flags),
        fairness_ratio=fairness_ratio(fairness),
    )
    return Assessment(inputs, fairness, threshold)
