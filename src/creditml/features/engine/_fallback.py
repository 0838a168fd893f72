"""featuretools itself, for the features the engine does not compute."""

from __future__ import annotations

import logging
import warnings

import featuretools as ft
import pandas as pd

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")

log = logging.getLogger("creditml.features.engine")


def compute(features: list, entityset, cutoff_time: pd.DataFrame) -> pd.DataFrame:
    names = [n for f in features for n in f.get_feature_names()]
    log.warning("feature engine: %d feature(s) computed by featuretools instead: %s", len(names), ", ".join(names))
    return ft.calculate_feature_matrix(features, entityset, cutoff_time=cutoff_time, verbose=False)
