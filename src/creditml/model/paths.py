"""Which related rows a set of feature definitions reads, as relationship paths.

A served model receives raw records; the rows it needs are exactly those reached by
walking the paths of its features from the instance. Graph features add the
identifier component of the instance (see ``creditml.model.records``).
"""

from __future__ import annotations

from typing import NamedTuple

import featuretools as ft


class Hop(NamedTuple):
    forward: bool  # True: child -> parent (a lookup); False: parent -> children (an aggregation)
    parent: str
    parent_column: str
    child: str
    child_column: str


def _hops(path) -> tuple[Hop, ...]:
    return tuple(Hop(fw, r._parent_dataframe_name, r._parent_column_name, r._child_dataframe_name,
                     r._child_column_name) for fw, r in path)


def feature_paths(features: list) -> set[tuple[Hop, ...]]:
    """Every path from the target that any feature (or a feature it is built on) walks."""
    out: set[tuple[Hop, ...]] = set()

    def walk(feature, prefix: tuple[Hop, ...]) -> None:
        path = prefix
        if isinstance(feature, (ft.DirectFeature, ft.AggregationFeature)):
            path = prefix + _hops(feature.relationship_path)
        out.add(path)
        for base in feature.base_features:
            walk(base, path)
        where = getattr(feature, "where", None)
        if where is not None:
            walk(where, path)

    for f in features:
        walk(f, ())
    return {p for p in out if p}
