"""Candidate feature definitions: featuretools DFS driven by :class:`FeatureSettings`."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import featuretools as ft
import pandas as pd

from creditml.config import FeatureSettings
from creditml.features.primitives import credit_primitives

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")
# DFS warns when a primitive found no column to apply to; with a candidate cap that is expected
warnings.filterwarnings("ignore", message="Some specified primitives were not used")


def add_interesting_values(es: ft.EntitySet, target: str, max_values: int, until: pd.Timestamp | None) -> None:
    """Most frequent categories of each non-target table, counted on rows known by ``until``.

    Interesting values become where-clauses (``COUNT(actions WHERE outcome = refused)``).
    Counting only rows dated up to the last training cutoff keeps future data out of the
    definitions themselves.
    """
    if max_values <= 0:
        return
    for df in es.dataframes:
        if df.ww.name == target:
            continue
        frame = df
        if until is not None and df.ww.time_index:
            frame = df[df[df.ww.time_index] <= until]
        values = {}
        for col in df.ww.select("category", return_schema=True).columns:
            if col == df.ww.index or "foreign_key" in df.ww.semantic_tags.get(col, set()):
                continue
            counts = frame[col].value_counts(dropna=True)
            counts = counts[counts > 0]
            top = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))[:max_values]
            if top:
                values[col] = [v for v, _ in top]
        if values:
            es.add_interesting_values(dataframe_name=df.ww.name, values=values)


def build_candidates(es: ft.EntitySet, target: str, settings: FeatureSettings,
                     interesting_until: pd.Timestamp | None = None) -> list:
    """DFS feature definitions for ``target``; ``max_depth: 0`` gives its own columns only."""
    add_interesting_values(es, target, settings.max_interesting_values, interesting_until)
    agg = list(settings.agg_primitives)
    if settings.credit_primitives and settings.max_depth > 0:
        agg += credit_primitives(settings.recent_windows_days)
    features = ft.dfs(
        entityset=es,
        target_dataframe_name=target,
        agg_primitives=agg if settings.max_depth > 0 else [],
        trans_primitives=settings.trans_primitives if settings.max_depth > 0 else [],
        where_primitives=settings.where_primitives if settings.max_depth > 0 else [],
        max_depth=max(settings.max_depth, 1) if settings.max_depth > 0 else 1,
        features_only=True,
        max_features=settings.max_candidates,
    )
    if settings.max_depth == 0:  # the baseline: the target table's own columns only
        features = [f for f in features if isinstance(f, ft.IdentityFeature)]
    return features


def save_candidates(features: list, path: Path) -> None:
    ft.save_features(features, str(path))


def load_candidates(path: Path) -> list:
    return ft.load_features(str(path))


def describe(features: list) -> dict[str, str]:
    """Plain-language sentence for each feature (``ft.describe_feature``)."""
    return {f.get_name(): ft.describe_feature(f) for f in features}


def definitions_json(features: list) -> str:
    return json.dumps(json.loads(ft.save_features(features)), indent=1)
