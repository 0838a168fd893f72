"""Evaluate a plan for one chunk of instances: joins per path, one group_by per (path, where).

``ctx[path]`` holds, for every instance ``Q`` of the chunk, the rows of the path's
dataframe that instance may see (with its ``CUTOFF``), plus ``__a{i}``: the key of the
ancestor at depth ``i`` for rows reached by walking down from it. Contexts are built
from the target outwards, then features are computed from the deepest path back.
"""

from __future__ import annotations

from collections import defaultdict

import featuretools as ft
import pandas as pd
import polars as pl

from creditml.features.engine import _aggregations, _transforms
from creditml.features.engine._frames import CUTOFF, Q, ROW, Table, visible
from creditml.features.engine._plan import Path, Plan, column_of, hops, table_at

ID = "__id"


def _anc(depth: int) -> str:
    return f"__a{depth}"


class ChunkEvaluator:
    def __init__(self, plan: Plan, tables: dict[str, Table]):
        self.plan = plan
        self.tables = tables
        self.fed: set[str] = set()  # aggregations that saw at least one child row in some chunk
        self.frames = {  # only the columns the plan reads
            name: t.frame.select([ROW, *sorted(plan.raw[name])]) for name, t in tables.items() if name in plan.raw
        }

    def run(self, instances: pl.DataFrame, outputs: list) -> pl.DataFrame:
        """``instances`` has ``Q``, ``CUTOFF`` and ``ID``; returns ``Q``, ``__seen`` and one column per output."""
        ctx: dict[Path, pl.DataFrame] = {}
        for path in sorted(self.plan.paths, key=len):
            ctx[path] = self._rows(path, ctx, instances)
        for path in sorted(self.plan.paths, key=len, reverse=True):
            ctx[path] = self._features(path, ctx)
        cols = [column_of(f) for f in outputs]
        root = ctx[()].select([Q, pl.lit(True).alias("__seen"),
                               *[pl.col(c).alias(f"out{i}") for i, c in enumerate(cols)]])
        out = instances.select(Q).join(root, on=Q, how="left").sort(Q)
        # an instance its own dataframe does not show at the cutoff gets each feature's
        # default value (FeatureSetCalculator.generate_default_df): 0 for counts, else missing
        defaults = [pl.when(pl.col("__seen").is_null()).then(pl.lit(f.default_value)).otherwise(pl.col(f"out{i}"))
                    .alias(f"out{i}") for i, f in enumerate(outputs) if not pd.isna(f.default_value)]
        return out.with_columns(defaults) if defaults else out

    # -- rows visible along each path ------------------------------------------------
    def _rows(self, path: Path, ctx, instances: pl.DataFrame) -> pl.DataFrame:
        name = table_at(path, self.plan.target)
        table, frame = self.tables[name], self.frames[name]
        if not path:
            ids = instances.select(Q, CUTOFF, pl.col(ID).cast(frame.schema[table.index]).alias(table.index))
            return visible(ids.join(frame, on=table.index, how="inner"), table)
        prev = ctx[path[:-1]]
        forward, parent, parent_col, child, child_col = path[-1]
        if forward:
            keys = (prev.select(Q, CUTOFF, pl.col(child_col).cast(frame.schema[parent_col]).alias(parent_col))
                    .drop_nulls(parent_col).unique([Q, parent_col]))
            return visible(keys.join(frame, on=parent_col, how="inner"), table)
        parent_index = self.tables[parent].index
        ancestors = [c for c in prev.columns if c.startswith("__a")]
        keys = prev.select(Q, CUTOFF, *ancestors, pl.col(parent_index).alias(_anc(len(path) - 1)),
                           pl.col(parent_index).cast(frame.schema[child_col]).alias(child_col))
        return visible(keys.join(frame, on=child_col, how="inner"), table)

    # -- features of one path ----------------------------------------------------------
    def _features(self, path: Path, ctx) -> pl.DataFrame:
        frame = ctx[path]
        index = self.tables[table_at(path, self.plan.target)].index
        aggs, directs, transforms = defaultdict(list), defaultdict(list), []
        for f in self.plan.paths[path]:
            if type(f) is ft.AggregationFeature:
                where = column_of(f.where) if f.where is not None else None
                aggs[(path + hops(f.relationship_path), where)].append(f)
            elif type(f) is ft.DirectFeature:
                directs[path + hops(f.relationship_path)].append(f)
            elif type(f) is not ft.IdentityFeature:
                transforms.append(f)
        for (sub, where), feats in aggs.items():
            frame = self._aggregate(frame, index, len(path), ctx[sub], where, feats)
        for sub, feats in directs.items():
            frame = self._lookup(frame, sub, ctx[sub], feats)
        for f in transforms:
            metas = [self.plan.metas[(path, column_of(b))] for b in f.base_features]
            inputs = [pl.col(column_of(b)) for b in f.base_features]
            frame = frame.with_columns(_transforms.TRANSFORMS[type(f.primitive)](f.primitive, inputs, metas)
                                       .alias(column_of(f)))
        return frame

    def _aggregate(self, frame, index, depth, child, where, feats) -> pl.DataFrame:
        if where is not None:
            child = child.filter(pl.col(where).fill_null(False))
        key = _anc(depth)
        if child.height:
            self.fed.update(column_of(f) for f in feats)
        exprs = []
        for f in feats:
            build = _aggregations.builder(f.primitive)
            exprs.append(build(f.primitive, [column_of(b) for b in f.base_features]).alias(column_of(f)))
        grouped = child.group_by([Q, key]).agg(exprs).rename({key: index})
        grouped = grouped.with_columns(pl.col(index).cast(frame.schema[index]))
        frame = frame.join(grouped, on=[Q, index], how="left")
        defaults = []
        for f in feats:
            default = f.default_value
            if default is not None and not pd.isna(default):
                defaults.append(pl.col(column_of(f)).fill_null(default))
        return frame.with_columns(defaults) if defaults else frame

    def _lookup(self, frame, sub, parent, feats) -> pl.DataFrame:
        forward, _, parent_col, _, child_col = sub[-1]
        right = parent.select(Q, pl.col(parent_col).alias("__key"),
                              *[pl.col(column_of(f.base_features[0])).alias(column_of(f)) for f in feats])
        right = right.with_columns(pl.col("__key").cast(frame.schema[child_col]))
        return frame.join(right, left_on=[Q, child_col], right_on=[Q, "__key"], how="left")
