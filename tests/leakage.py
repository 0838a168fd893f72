"""Change everything a feature must not see, for leakage tests.

``perturb_after(dataset, t0)`` returns a copy in which every row dated after ``t0`` has
new values and new times (still after ``t0``), every late-known value that became known
after ``t0`` is changed, and extra rows dated after ``t0`` are added. Keys and
relationships stay valid. A feature of an instance with cutoff <= t0 must not change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditml.data import Dataset


def _perturb(values: pd.Series, rng: np.random.Generator) -> pd.Series:
    n = len(values)
    if n == 0:
        return values
    if pd.api.types.is_bool_dtype(values):
        return (~values.fillna(False).astype(bool)).astype(values.dtype)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.fillna(pd.Timestamp("2000-01-01")) + pd.to_timedelta(rng.integers(1, 400, n), unit="D")
    if pd.api.types.is_numeric_dtype(values):
        base = values.astype("float64").fillna(1.0).to_numpy()
        out = base * rng.uniform(0.3, 3.0, n) + rng.normal(0, 5, n)
        return pd.Series(out, index=values.index).astype(values.dtype, errors="ignore") \
            if pd.api.types.is_float_dtype(values) else pd.Series(np.round(out), index=values.index)
    pool = pd.Series(values.dropna().unique())
    pool = pd.concat([pool, pd.Series(["future-category"])]).to_numpy()
    return pd.Series(rng.choice(pool, n), index=values.index)


def _new_keys(keys: pd.Series, n: int) -> list:
    if pd.api.types.is_integer_dtype(keys):
        start = int(keys.max()) + 1_000_000
        return list(range(start, start + n))
    return [f"future-{i}" for i in range(n)]


def perturb_after(dataset: Dataset, t0: pd.Timestamp, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    cfg = dataset.config
    tables = {}
    for name, spec in cfg.tables.items():
        frame = dataset.tables[name].copy()
        keys = {spec.primary_key, *(fk.column for fk in spec.foreign_keys)}
        for when, cols in spec.secondary_time_index.items():
            late = frame[when] > t0
            for col in cols:
                if col != when:
                    frame.loc[late, col] = _perturb(frame.loc[late, col], rng).values
            frame.loc[late, when] = frame.loc[late, when] + pd.to_timedelta(rng.integers(0, 90, late.sum()), unit="D")
        if spec.time_index:
            after = frame[spec.time_index] > t0
            for col in frame.columns:
                if col in keys or col in spec.secondary_time_index:
                    continue
                frame.loc[after, col] = _perturb(frame.loc[after, col], rng).values
            extra = frame[after].sample(frac=0.5, random_state=seed) if after.any() else frame.iloc[:0]
            if len(extra):
                extra = extra.copy()
                extra[spec.primary_key] = _new_keys(frame[spec.primary_key], len(extra))
                frame = pd.concat([frame, extra], ignore_index=True)
        tables[name] = frame
    return Dataset(cfg, tables, list(dataset.notes))
