"""Feature engine vs featuretools: speedup, agreement, one-instance latency, peak memory.

Usage: python bench/feature_engine.py --scale small|medium [--json]

featuretools is timed on a subset of instances and its rate extrapolated to all of them
(stated in the output as ``featuretools_extrapolated``); the engine is timed on all
instances; values are compared on the shared subset. Until the built-in world and
``creditml.features.dfs.build_candidates`` are wired in here, a synthetic
regions <- customers <- loans <- installments world (tests/features/engine/_world.py) is used.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
import warnings
from pathlib import Path

import featuretools as ft
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")
warnings.filterwarnings("ignore", category=FutureWarning, module=r"woodwork(\.|$)")
warnings.filterwarnings("ignore", category=UserWarning, module=r"woodwork(\.|$)")

from creditml.features.engine import calculate_feature_matrix  # noqa: E402
from tests.features.engine._world import cutoffs, make_world  # noqa: E402

SCALES = {"small": dict(customers=500, loans=3_000, installments=15_000, ft_subset=100),
          "medium": dict(customers=2_000, loans=12_000, installments=60_000, ft_subset=150)}
AGG = ["count", "sum", "mean", "max", "min", "std", "num_unique", "mode", "percent_true", "trend",
       "time_since_last", "time_since_first", "avg_time_between", "skew"]


def _max_relative_difference(ref: pd.DataFrame, got: pd.DataFrame) -> float:
    worst = 0.0
    for col in ref.columns:
        a, b = ref[col], got[col]
        if not pd.api.types.is_numeric_dtype(a.dtype) or pd.api.types.is_bool_dtype(a.dtype):
            na, nb = a.isna().to_numpy(), b.isna().to_numpy()
            if (na != nb).any() or list(a[~na].astype(object)) != list(b[~nb].astype(object)):
                return float("inf")
            continue
        x, y = a.to_numpy(dtype=float, na_value=np.nan), b.to_numpy(dtype=float, na_value=np.nan)
        if (np.isnan(x) != np.isnan(y)).any():
            return float("inf")
        ok = ~np.isnan(x)
        scale = np.maximum(np.maximum(np.abs(x[ok]), np.abs(y[ok])), 1e-12)
        if ok.any():
            worst = max(worst, float(np.max(np.abs(x[ok] - y[ok]) / scale)))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    s = SCALES[args.scale]
    es = make_world(7, s["customers"], s["loans"], s["installments"], days=365, null_rate=0.1, jitter=True)
    es.add_interesting_values(dataframe_name="installments", values={"status": ["late", "missed"]})
    es.add_interesting_values(dataframe_name="loans", values={"purpose": ["car", "home"]})
    features = ft.dfs(entityset=es, target_dataframe_name="customers", agg_primitives=AGG,
                      trans_primitives=["month", "weekday", "is_null"],
                      where_primitives=["count", "sum", "mean", "percent_true"], max_depth=2, features_only=True)
    ct = cutoffs(7, es, days=365, jitter=True)
    subset = ct.iloc[: s["ft_subset"]]

    t = time.perf_counter()
    ref = ft.calculate_feature_matrix(features, es, cutoff_time=subset, verbose=False)
    ft_seconds = time.perf_counter() - t
    ft_rate = len(subset) / ft_seconds

    calculate_feature_matrix(features, es, ct.iloc[:1])  # warm the entityset conversion cache
    t = time.perf_counter()
    got = calculate_feature_matrix(features, es, ct)
    engine_seconds = time.perf_counter() - t

    one = []
    for i in range(20):
        t = time.perf_counter()
        calculate_feature_matrix(features, es, ct.iloc[i:i + 1])
        one.append((time.perf_counter() - t) * 1000)

    ft_all_seconds = len(ct) / ft_rate
    out = {
        "scale": args.scale,
        "features": len(features),
        "instances": len(ct),
        "child_rows": {"loans": s["loans"], "installments": s["installments"]},
        "featuretools_seconds_on_subset": round(ft_seconds, 3),
        "featuretools_subset_instances": len(subset),
        "featuretools_extrapolated_seconds_all": round(ft_all_seconds, 2),
        "featuretools_extrapolated": True,
        "engine_seconds_all": round(engine_seconds, 3),
        "speedup": round(ft_all_seconds / engine_seconds, 1),
        "max_relative_difference": _max_relative_difference(ref, got.loc[ref.index]),
        "one_instance_ms": round(float(np.median(one)), 2),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:40s} {v}")


if __name__ == "__main__":
    main()
