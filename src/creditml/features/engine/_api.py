"""``calculate_feature_matrix``: validate, plan, evaluate chunk by chunk, assemble."""

from __future__ import annotations

from contextlib import contextmanager

import featuretools as ft
import numpy as np
import pandas as pd
import polars as pl

from creditml.features.engine import _fallback, _frames, _output
from creditml.features.engine._evaluate import ID, ChunkEvaluator
from creditml.features.engine._instance import InstanceEvaluator
from creditml.features.engine._frames import CUTOFF, Q
from creditml.features.engine._plan import Planner, column_of

DEFAULT_CHUNK_SIZE = 10_000
FEW_INSTANCES = 16  # this many or fewer: numpy, instance by instance (a served request)


@contextmanager
def few_instances(limit: int):
    """Route calls of up to ``limit`` instances to the numpy evaluator meanwhile (0: none),
    so that tests and benchmarks can run either evaluator on the same input."""
    global FEW_INSTANCES
    saved, FEW_INSTANCES = FEW_INSTANCES, limit
    try:
        yield
    finally:
        FEW_INSTANCES = saved


def _instances(cutoff_time: pd.DataFrame, target_df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    if not isinstance(cutoff_time, pd.DataFrame):
        raise TypeError(f"cutoff_time: expected a DataFrame with columns '{target_df.ww.index}' (or 'instance_id') "
                        f"and 'time', got {type(cutoff_time).__name__}")
    index, time_index = target_df.ww.index, target_df.ww.time_index
    id_col = "instance_id" if "instance_id" in cutoff_time.columns else index
    time_col = "time" if "time" in cutoff_time.columns else time_index
    missing = [c for c in (id_col, time_col) if c not in cutoff_time.columns]
    if missing:
        raise ValueError(f"cutoff_time: expected columns '{index}' (or 'instance_id') and 'time', "
                         f"found {list(cutoff_time.columns)}")
    extra = [c for c in cutoff_time.columns if c not in (id_col, time_col)]
    if extra:
        raise NotImplementedError(f"cutoff_time: pass-through columns {extra} are not supported by the engine; "
                                  "drop them and join them to the result")
    return cutoff_time[id_col].reset_index(drop=True), pd.to_datetime(cutoff_time[time_col]).reset_index(drop=True)


def calculate_feature_matrix(features: list, entityset, cutoff_time: pd.DataFrame, chunk_size: int | None = None,
                             training_window=None) -> pd.DataFrame:
    """Feature values of each instance as of its cutoff, like ``ft.calculate_feature_matrix``.

    ``cutoff_time`` has the target index column (or ``instance_id``) and ``time``; rows
    come back in its order. ``chunk_size`` instances are computed at a time (memory).
    """
    if training_window is not None:
        raise NotImplementedError("training_window: not supported by the feature engine yet; "
                                  "use featuretools.calculate_feature_matrix")
    if not features:
        raise ValueError("features: expected at least one feature definition, got none")
    targets = {f.dataframe_name for f in features}
    if len(targets) != 1:
        raise ValueError(f"features: expected one target dataframe, got {sorted(targets)}")
    chunk_size = DEFAULT_CHUNK_SIZE if chunk_size is None else int(chunk_size)
    if chunk_size < 1:
        raise ValueError(f"chunk_size: expected a positive number of instances, got {chunk_size}")
    target = targets.pop()
    target_df = entityset[target]
    ids, times = _instances(cutoff_time, target_df)

    tables = _frames.tables(entityset)
    prepared = _prepare(features, tables, target)

    index = _output.instance_index(ids, target_df)
    frames = []
    if prepared.supported:
        frames.append(_engine(prepared, target_df, ids, times, chunk_size, entityset, index))
    if prepared.unsupported:
        ft_cutoff = pd.DataFrame({"instance_id": ids, "time": times})
        slow = _fallback.compute(prepared.unsupported, entityset, ft_cutoff)
        slow.index = index
        frames.append(slow)
    matrix = frames[0] if len(frames) == 1 else pd.concat(frames, axis=1)
    return matrix[prepared.names] if list(matrix.columns) != prepared.names else matrix


def _through_lookups(feature):
    while isinstance(feature, ft.DirectFeature):
        feature = feature.base_features[0]
    return feature


class _Prepared:
    """A feature list planned against an entityset's tables, and what every call reuses.

    The two evaluators are built when first needed: training needs the Polars one, a
    served request the numpy one.
    """

    def __init__(self, features: list, tables, target: str):
        planner = Planner(tables, target)
        self.supported = [f for f in features if planner.try_add(f)]
        self.unsupported = [f for f in features if not any(f is s for s in self.supported)]
        self.plan, self.tables = planner.plan, tables
        self.names = [n for f in features for n in f.get_feature_names()]
        self.metas = [self.plan.metas[((), column_of(f))] for f in self.supported]
        self.fed_columns = [column_of(_through_lookups(f)) for f in self.supported]  # see Assembler.frame
        self._chunks: ChunkEvaluator | None = None
        self._few: InstanceEvaluator | None = None

    @property
    def chunks(self) -> ChunkEvaluator:
        if self._chunks is None:
            self._chunks = ChunkEvaluator(self.plan, self.tables)
        return self._chunks

    @property
    def few(self) -> InstanceEvaluator:
        if self._few is None:
            self._few = InstanceEvaluator(self.plan, self.tables)
        return self._few


_PREPARED: dict[tuple, tuple] = {}


def _prepare(features: list, tables, target: str) -> _Prepared:
    """Plan once per (feature list, entityset tables): serving calls repeat them."""
    key = (tuple(id(f) for f in features), id(tables))
    cached = _PREPARED.get(key)
    if cached is not None and cached[0] is tables and all(a is b for a, b in zip(cached[1], features)):
        return cached[2]
    prepared = _Prepared(features, tables, target)
    if len(_PREPARED) >= 8:
        _PREPARED.clear()
    _PREPARED[key] = (tables, list(features), prepared)
    return prepared


def _engine(prepared: _Prepared, target_df, ids, times, chunk_size, entityset, index) -> pd.DataFrame:
    features = prepared.supported
    fed: set[str] = set()  # aggregations that saw at least one child row
    typed_ids = ids.astype(target_df[target_df.ww.index].dtype, errors="ignore")
    cutoffs = times.to_numpy().astype("datetime64[ns]")
    matrix = _output.Assembler(features, prepared.metas, entityset, len(ids))
    if len(ids) <= FEW_INSTANCES:
        matrix.add_arrays(0, prepared.few.run(typed_ids.to_numpy(), cutoffs, features, fed))
    else:
        id_series, _ = _frames._to_polars(typed_ids.rename(ID))
        cutoff_series = pl.Series(CUTOFF, cutoffs)
        for start in range(0, len(ids), chunk_size):
            stop = min(start + chunk_size, len(ids))
            instances = pl.DataFrame([pl.Series(Q, np.arange(stop - start, dtype=np.int64)),
                                      cutoff_series[start:stop], id_series[start:stop]])
            matrix.add(start, prepared.chunks.run(instances, features, fed))
    return matrix.frame([c in fed for c in prepared.fed_columns], index)
