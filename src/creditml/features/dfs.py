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
    """Most frequent categories of each table, counted on rows known by ``until``.

    Interesting values become where-clauses (``COUNT(actions WHERE outcome = refused)``).
    Counting only rows dated up to the last training cutoff keeps future data out of the
    definitions themselves.
    """
    if max_values <= 0:
        return
    for df in es.dataframes:
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


def key_columns(es: ft.EntitySet) -> dict[str, list[str]]:
    """Foreign keys per table: they link tables, they are never features (ids are not numbers)."""
    out = {}
    for df in es.dataframes:
        keys = [c for c, tags in df.ww.semantic_tags.items() if "foreign_key" in tags]
        if keys:
            out[df.ww.name] = keys
    return out


def down_paths(es: ft.EntitySet, start: str, max_hops: int) -> list[tuple[str, ...]]:
    """Paths from ``start`` down to its children and grandchildren (``max_hops`` deep)."""
    children: dict[str, list[str]] = {}
    for rel in es.relationships:
        children.setdefault(rel._parent_dataframe_name, []).append(rel._child_dataframe_name)
    out: list[tuple[str, ...]] = []

    def walk(path: tuple[str, ...]) -> None:
        out.append(path)
        if len(path) <= max_hops:
            for child in children.get(path[-1], []):
                if child not in path:
                    walk(path + (child,))

    walk((start,))
    return out


def _dfs_down(es: ft.EntitySet, target: str, depth: int, settings: FeatureSettings) -> list:
    """DFS features of ``target`` from its own columns and its descendants only."""
    agg = list(settings.agg_primitives)
    if settings.credit_primitives:
        agg += credit_primitives(settings.recent_windows_days)
    return ft.dfs(
        entityset=es, target_dataframe_name=target, features_only=True,
        agg_primitives=agg if depth > 0 else [], where_primitives=settings.where_primitives if depth > 0 else [],
        trans_primitives=settings.trans_primitives if depth > 0 else [],
        max_depth=max(depth, 1), allowed_paths=down_paths(es, target, max(depth, 1)),
        ignore_columns=key_columns(es),
    ) if depth > 0 else [f for f in ft.dfs(entityset=es, target_dataframe_name=target, features_only=True,
                                            agg_primitives=[], trans_primitives=[], max_depth=1,
                                            allowed_paths=[(target,)], ignore_columns=key_columns(es))
                         if isinstance(f, ft.IdentityFeature)]


def _candidate_groups(es: ft.EntitySet, target: str, depth: int, settings: FeatureSettings,
                      seen: frozenset, hops_up: int) -> list[list]:
    """Feature groups: the target's own DFS, then each parent's candidates as direct features.

    featuretools' DFS builds each table's features once, on its first visit, so a parent
    first reached down-then-up (applications -> loans -> customers) gets no depth left and
    ``customers.MEAN(installments.days_late)`` is never generated. Building each parent's
    features on their own, with the depth that remains, and looking them up through the
    relationship gives every path its full depth.

    ``max_depth`` counts stacked aggregations (and transforms); a lookup on a parent is
    free, up to ``max_depth`` hops: an application's customer's history is the
    application's history, so ``customers.MEAN(loans.MAX(installments.days_late))`` is a
    depth-2 feature here (featuretools would call it depth 3).
    """
    groups = [_dfs_down(es, target, depth, settings)]
    if depth < 1 or hops_up < 1:
        return groups
    for rel in es.relationships:
        parent = rel._parent_dataframe_name
        if rel._child_dataframe_name != target or parent in seen:
            continue
        for group in _candidate_groups(es, parent, depth, settings, seen | {target}, hops_up - 1):
            groups.append([ft.DirectFeature(f, target, relationship=rel) for f in group])
    return groups


def _round_robin(groups: list[list], cap: int) -> list:
    """At most ``cap`` features, taken in turn from each group so no path is starved."""
    out, seen = [], set()
    iters = [iter(g) for g in groups]
    while iters and len(out) < cap:
        alive = []
        for it in iters:
            f = next(it, None)
            if f is None:
                continue
            alive.append(it)
            if f.unique_name() not in seen:
                seen.add(f.unique_name())
                out.append(f)
                if len(out) >= cap:
                    break
        iters = alive
    return out


def build_candidates(es: ft.EntitySet, target: str, settings: FeatureSettings,
                     interesting_until: pd.Timestamp | None = None) -> list:
    """DFS feature definitions for ``target``; ``max_depth: 0`` gives its own columns only."""
    add_interesting_values(es, target, settings.max_interesting_values, interesting_until)
    groups = _candidate_groups(es, target, settings.max_depth, settings, frozenset(), settings.max_depth)
    return _round_robin(groups, settings.max_candidates)


def save_candidates(features: list, path: Path) -> None:
    ft.save_features(features, str(path))


def load_candidates(path: Path) -> list:
    return ft.load_features(str(path))


def describe(features: list) -> dict[str, str]:
    """Plain-language sentence for each feature (``ft.describe_feature``)."""
    return {f.get_name(): ft.describe_feature(f) for f in features}


def definitions_json(features: list) -> str:
    return json.dumps(json.loads(ft.save_features(features)), indent=1)
