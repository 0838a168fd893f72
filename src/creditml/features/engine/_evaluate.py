"""Evaluate a plan for one chunk of instances: joins per path, one group_by per child path.

``ctx[path]`` holds, for every instance ``Q`` of the chunk, the rows of the path's
dataframe that instance may see (with its ``CUTOFF``), plus ``__a{i}``: the key of the
ancestor at depth ``i`` for rows reached by walking down from it. Contexts are built
from the target outwards, then features are computed from the deepest path back.

Polars' cost per operation, not per row, dominates small chunks (a served request), so
the aggregations over a child path share one group_by and one join: a where-clause
masks the values of Count, Sum, Mean, Max and Min inside it. Any other primitive with
a where-clause gets its own group_by of the matching rows.
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
        self._programs: dict[Path, list] = {}
        self.frames = {  # only the columns the plan reads
            name: tables[name].frame.select([ROW, *sorted(cols)]) for name, cols in plan.raw.items()
        }

    def run(self, instances: pl.DataFrame, outputs: list, fed: set) -> pl.DataFrame:
        """``instances`` has ``Q``, ``CUTOFF`` and ``ID``; returns ``Q``, ``__seen`` and one column per output.

        Adds to ``fed`` the aggregations that saw at least one child row.
        """
        ctx: dict[Path, pl.DataFrame] = {}
        for path in sorted(self.plan.paths, key=len):
            ctx[path] = self._rows(path, ctx, instances)
        for path in sorted(self.plan.paths, key=len, reverse=True):
            ctx[path] = self._features(path, ctx, fed)
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

    # -- features of one path: compiled once into steps of prebuilt expressions ------------
    def _compile(self, path: Path) -> list:
        if path in self._programs:
            return self._programs[path]
        name = table_at(path, self.plan.target)
        index, dtypes = self.tables[name].index, self.frames[name].schema
        aggs, directs, transforms = defaultdict(list), defaultdict(list), []
        for f in self.plan.paths[path]:
            if type(f) is ft.AggregationFeature:
                masked = f.where is None or type(f.primitive) in _aggregations.OF_VALUES
                aggs[(path + hops(f.relationship_path), None if masked else column_of(f.where))].append(f)
            elif type(f) is ft.DirectFeature:
                directs[path + hops(f.relationship_path)].append(f)
            elif type(f) is not ft.IdentityFeature:
                transforms.append(f)
        steps = [self._compile_aggregation(path, pl.col(_anc(len(path))).cast(dtypes[index]).alias(index), sub,
                                           where, feats) for (sub, where), feats in aggs.items()]
        for sub, feats in directs.items():
            _, _, parent_col, _, child_col = sub[-1]
            cols = [pl.col(column_of(f.base_features[0])).alias(column_of(f)) for f in feats]
            steps.append(("lookup", sub, pl.col(parent_col).cast(dtypes[child_col]).alias("__key"), child_col, cols))
        # a missing parent (a null or unknown key) or no child rows give the feature's default: 0 for counts
        defaults = [pl.col(column_of(f)).fill_null(f.default_value) for feats in [*aggs.values(), *directs.values()]
                    for f in feats if f.default_value is not None and not pd.isna(f.default_value)]
        if defaults:
            steps.append(("transform", defaults))
        levels: dict[str, int] = {}
        batches = defaultdict(list)
        for f in transforms:  # dependencies first, so one with_columns per level
            level = 1 + max((levels.get(column_of(b), 0) for b in f.base_features), default=0)
            levels[column_of(f)] = level
            metas = [self.plan.metas[(path, column_of(b))] for b in f.base_features]
            inputs = [pl.col(column_of(b)) for b in f.base_features]
            batches[level].append(_transforms.builder(f.primitive)(f.primitive, inputs, metas)
                                  .alias(column_of(f)))
        steps += [("transform", batches[level]) for level in sorted(batches)]
        self._programs[path] = steps
        return steps

    def _compile_aggregation(self, path, group_key: pl.Expr, sub, where, feats) -> tuple:
        """Rows of ``sub`` (those matching ``where`` if given) grouped once for all of ``feats``."""
        key = _anc(len(path))
        exprs, stages = [], [[], []]
        names_by_mask: dict[str | None, list[str]] = defaultdict(list)  # which rows feed which aggregation
        for j, f in enumerate(feats):
            inputs = [column_of(b) for b in f.base_features]
            mask = column_of(f.where) if f.where is not None and where is None else None
            names_by_mask[mask].append(column_of(f))
            if mask is not None:
                exprs.append(_aggregations.of_matching(f.primitive, inputs[0], mask).alias(column_of(f)))
                continue
            metas = [self.plan.metas[(sub, c)] for c in inputs]
            scratch = _aggregations.Ctx([Q, key], f"__s{j}_", metas)
            build = _aggregations.builder(f.primitive)
            exprs.append(build(f.primitive, inputs, scratch).alias(column_of(f)))
            stages[0] += scratch.stages[0]
            stages[1] += scratch.stages[1]
        return ("aggregate", sub, where, group_key, [s for s in stages if s], exprs, dict(names_by_mask))

    def _features(self, path: Path, ctx, fed: set) -> pl.DataFrame:
        frame = ctx[path]
        for step in self._compile(path):
            if step[0] == "aggregate":
                frame = self._aggregate(frame, ctx, fed, *step[1:])
            elif step[0] == "lookup":
                frame = self._lookup(frame, ctx, *step[1:])
            else:
                frame = frame.with_columns(step[1])
        return frame

    def _aggregate(self, frame, ctx, fed, sub, where, group_key, stages, exprs, names_by_mask) -> pl.DataFrame:
        child = ctx[sub]
        if where is not None:
            child = child.filter(pl.col(where).fill_null(False))
        for mask, names in names_by_mask.items():
            if child.height and (mask is None or child.get_column(mask).any()):
                fed.update(names)
        for stage in stages:
            child = child.with_columns(stage)
        grouped = child.group_by([Q, group_key]).agg(exprs)
        return frame.join(grouped, on=[Q, group_key.meta.output_name()], how="left")

    def _lookup(self, frame, ctx, sub, key, child_col, cols) -> pl.DataFrame:
        right = ctx[sub].select(Q, key, *cols)
        return frame.join(right, left_on=[Q, child_col], right_on=[Q, "__key"], how="left")
