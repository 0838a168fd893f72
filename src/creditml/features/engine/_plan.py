"""Walk feature definitions into a plan: which features are needed on which relationship path.

A path is a tuple of hops from the target dataframe; a hop is
``(forward, parent, parent_column, child, child_column)``. Every feature is evaluated
on the rows of its dataframe reachable along a path and visible at each instance's
cutoff, so ``customers.COUNT(loans)`` and ``COUNT(loans)`` of a shared parent are
computed per instance, exactly as featuretools does once per cutoff time.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass, field

import featuretools as ft
from featuretools.feature_base.feature_base import GroupByTransformFeature

from creditml.features.engine import _aggregations, _transforms
from creditml.features.engine._frames import Table
from creditml.features.engine._meta import ColumnMeta, kind_of

Hop = tuple[bool, str, str, str, str]
Path = tuple[Hop, ...]


class Unsupported(Exception):
    """A feature (or one of its dependencies) the engine does not compute."""


def hops(relationship_path) -> Path:
    return tuple(
        (forward, r._parent_dataframe_name, r._parent_column_name, r._child_dataframe_name, r._child_column_name)
        for forward, r in relationship_path
    )


def table_at(path: Path, target: str) -> str:
    if not path:
        return target
    forward, parent, _, child, _ = path[-1]
    return parent if forward else child


def column_of(feature) -> str:
    if type(feature) is ft.IdentityFeature:
        return feature.column_name
    return "§" + feature.unique_name()


@dataclass
class Plan:
    target: str
    paths: dict[Path, list] = field(default_factory=lambda: defaultdict(list))  # features, dependencies first
    metas: dict[tuple[Path, str], ColumnMeta] = field(default_factory=dict)
    raw: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # table -> columns read


class Planner:
    """Adds features to a plan; a feature it cannot compute raises ``Unsupported``."""

    def __init__(self, tables: dict[str, Table], target: str):
        self.tables = tables
        self.plan = Plan(target=target)
        self._paths_done: set[Path] = set()
        self._add_path(())

    def try_add(self, feature) -> bool:
        """Add ``feature`` (all-or-nothing); False when the engine cannot compute it."""
        self._journal: list = []
        lengths = {p: len(fs) for p, fs in self.plan.paths.items()}
        try:
            self._add(feature, ())
            return True
        except Unsupported:
            for key in self._journal:
                self.plan.metas.pop(key, None)
            for path in list(self.plan.paths):
                if path in lengths:
                    del self.plan.paths[path][lengths[path]:]
                else:
                    del self.plan.paths[path]
                    self._paths_done.discard(path)
            return False  # extra raw columns or paths read are harmless

    def _add(self, f, path: Path) -> ColumnMeta:
        key = (path, column_of(f))
        if key in self.plan.metas:
            return self.plan.metas[key]
        if f.number_output_features != 1:
            raise Unsupported(f.get_name())
        kind = type(f)
        if kind is ft.IdentityFeature:
            meta = self._identity(f, path)
        elif kind is ft.DirectFeature:
            sub = path + hops(f.relationship_path)
            if len(f.relationship_path) != 1 or not all(h[0] for h in sub[len(path):]):
                raise Unsupported(f.get_name())
            self._add_path(sub)
            meta = dataclasses.replace(self._add(f.base_features[0], sub), sorted_time=False)
        elif kind is ft.TransformFeature and not isinstance(f, GroupByTransformFeature):
            metas = [self._add(b, path) for b in f.base_features]
            if not _transforms.supports(f.primitive, metas):
                raise Unsupported(f.get_name())
            meta = _transforms.meta_of_output(f.primitive, metas)
        elif kind is ft.AggregationFeature:
            sub = path + hops(f.relationship_path)
            if f.use_previous is not None or any(h[0] for h in sub[len(path):]):
                raise Unsupported(f.get_name())
            self._add_path(sub)
            metas = [self._add(b, sub) for b in f.base_features]
            if f.where is not None:
                self._add(f.where, sub)
            if not _aggregations.supports(f.primitive, metas):
                raise Unsupported(f.get_name())
            meta = _aggregations.output_meta(f.primitive, metas)
        else:
            raise Unsupported(f.get_name())
        self.plan.metas[key] = meta
        self._journal.append(key)
        self.plan.paths[path].append(f)
        return meta

    def _identity(self, f, path: Path) -> ColumnMeta:
        name = table_at(path, self.plan.target)
        table = self.tables[name]
        col = f.column_name
        self.plan.raw[name].add(col)
        if col in table.categories:
            return ColumnMeta(kind="category", categories=table.categories[col])
        return ColumnMeta(kind=kind_of(table.frame.schema[col]), nullable=col in table.nullable_compare,
                          sorted_time=col == table.time_index and table.time_sorted)

    def _add_path(self, path: Path) -> None:
        if path in self._paths_done:
            return
        self._paths_done.add(path)
        for i in range(len(path) + 1):
            prefix = path[:i]
            self.plan.paths.setdefault(prefix, [])
            name = table_at(prefix, self.plan.target)
            table = self.tables[name]
            self.plan.raw[name].update({table.index, *([table.time_index] if table.time_index else [])})
            self.plan.raw[name].update(table.secondary)
            if i < len(path):
                forward, _, _, child, child_col = path[i]
                self.plan.raw[child].add(child_col)
