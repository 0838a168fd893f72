"""Reason codes: which features pushed one instance's risk up, from its SHAP contributions."""

from __future__ import annotations

import numpy as np


def top_risk_contributors(values: np.ndarray, features: list[str], k: int) -> list[tuple[str, float]]:
    """The ``k`` features that pushed this row's risk up most (positive contributions only)."""
    order = np.argsort(-values, kind="stable")[:k]
    return [(features[j], float(values[j])) for j in order if values[j] > 0]
