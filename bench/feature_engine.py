"""Feature engine vs featuretools on the built-in world's default credit_default definitions.

    python bench/feature_engine.py --scale small|medium|large [--json] [--ft-instances N]

Prints one JSON line: definitions and instances, engine seconds for the full training
matrix, featuretools seconds extrapolated from a random subset of instances (timed on
that subset; ``featuretools_extrapolated`` says so), the speedup, the largest relative
difference between the two on the subset (NaN in different places counts as inf),
one-instance milliseconds for the selected features (median and p90 of 100 single-instance
calls, which run the engine's numpy evaluator, in a child process that holds only the
data and the selected definitions, as a scoring service does; ``one_instance_ms_columnar``:
calls forced through the Polars evaluator, for comparison), and the engine's peak memory, measured in a child process that only loads the
data and runs the engine. ``--scale large`` skips featuretools (hours) and measures the
engine's time and memory only. The world is generated into data/world-<scale> if missing.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
warnings.filterwarnings("ignore")
logging.getLogger("creditml.features.engine").setLevel(logging.ERROR)


def setup(scale: str):
    from creditml.config import load_pipeline_config
    from creditml.data import load_dataset
    from creditml.data.synthetic import generate_world
    from creditml.features.dfs import build_candidates
    from creditml.features.entityset import build_entityset
    from creditml.splits import time_split
    from creditml.tasks import build_instances

    world = REPO / "data" / f"world-{scale}"
    if not (world / "dataset.yaml").exists():
        generate_world(world, scale=scale, seed=42)
    cfg = load_pipeline_config(REPO / "pipelines" / "credit_default.yaml", dataset=world / "dataset.yaml")
    dataset = load_dataset(cfg.dataset)
    instances = build_instances(dataset, cfg.task)
    split = time_split(instances.times, cfg.split)
    es = build_entityset(dataset, cfg.features.ignore_columns)
    train_end = instances.times[(split == "train").values].max()
    candidates = build_candidates(es, cfg.task.target, cfg.features, interesting_until=train_end)
    return cfg, es, instances, split, candidates


def max_relative_difference(ref: pd.DataFrame, got: pd.DataFrame) -> float:
    worst = 0.0
    for col in ref.columns:
        a, b = ref[col], got[col]
        na, nb = a.isna().to_numpy(), b.isna().to_numpy()
        if (na != nb).any():
            return float("inf")
        if not pd.api.types.is_numeric_dtype(a.dtype) or pd.api.types.is_bool_dtype(a.dtype):
            if list(a[~na].astype(str)) != list(b[~nb].astype(str)):
                return float("inf")
            continue
        x, y = a.to_numpy(dtype=float, na_value=np.nan)[~na], b.to_numpy(dtype=float, na_value=np.nan)[~nb]
        if len(x):
            scale = np.maximum(np.maximum(np.abs(x), np.abs(y)), 1e-12)
            worst = max(worst, float(np.max(np.abs(x - y) / scale)))
    return worst


def one_instance_ms(features, es, cutoff_time, evaluator_max_instances: int | None = None,
                    calls: int = 100) -> list[float]:
    """Milliseconds of single-instance calls (after one warm-up that plans and indexes)."""
    from contextlib import nullcontext

    from creditml.features.engine import calculate_feature_matrix
    from creditml.features.engine._api import few_instances

    with nullcontext() if evaluator_max_instances is None else few_instances(evaluator_max_instances):
        calculate_feature_matrix(features, es, cutoff_time.iloc[:1])
        times = []
        for i in range(calls):
            one = cutoff_time.iloc[[i * 7 % len(cutoff_time)]]
            t0 = time.perf_counter()
            calculate_feature_matrix(features, es, one)
            times.append((time.perf_counter() - t0) * 1000)
        return times


def engine_only(scale: str) -> dict:
    """Child process: load, build definitions, compute the full matrix with the engine."""
    from creditml.features.engine import calculate_feature_matrix

    cfg, es, instances, _, candidates = setup(scale)
    start = time.perf_counter()
    matrix = calculate_feature_matrix(candidates, es, instances.cutoff_time)
    seconds = time.perf_counter() - start
    return {"engine_seconds": round(seconds, 2), "instances": len(matrix), "definitions": len(candidates),
            "engine_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def one_instance_only(scale: str, definitions: str) -> dict:
    """Child process, like a scoring service: the data and the selected definitions, nothing else."""
    import featuretools as ft

    _, es, instances, _, candidates = setup(scale)
    by_name = {f.get_name(): f for f in candidates}
    selected = [by_name[f.get_name()] for f in ft.load_features(definitions)]
    times = one_instance_ms(selected, es, instances.cutoff_time)
    columnar = one_instance_ms(selected, es, instances.cutoff_time, evaluator_max_instances=0, calls=30)
    return {"selected_features": len(selected), "one_instance_ms": round(float(np.median(times)), 1),
            "one_instance_ms_p90": round(float(np.percentile(times, 90)), 1),
            "one_instance_ms_columnar": round(float(np.median(columnar)), 1)}


def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=["small", "medium", "large"], default="small")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--ft-instances", type=int, default=60)
    parser.add_argument("--engine-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--one-instance-only", metavar="DEFINITIONS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine_only:
        print(json.dumps(engine_only(args.scale)))
        return
    if args.one_instance_only:
        print(json.dumps(one_instance_only(args.scale, args.one_instance_only)))
        return

    result = {"scale": args.scale, "task": "credit_default", **_child("--scale", args.scale, "--engine-only")}
    if args.scale != "large":
        import featuretools as ft

        from creditml.features.engine import calculate_feature_matrix
        from creditml.features.selection import FeatureSelector

        cfg, es, instances, split, candidates = setup(args.scale)
        subset = instances.cutoff_time.sample(min(args.ft_instances, len(instances.cutoff_time)), random_state=0)
        start = time.perf_counter()
        reference = ft.calculate_feature_matrix(candidates, es, cutoff_time=subset, verbose=False)
        ft_subset_seconds = time.perf_counter() - start
        got = calculate_feature_matrix(candidates, es, subset)
        ft_seconds = ft_subset_seconds * len(instances.cutoff_time) / len(subset)
        matrix = calculate_feature_matrix(candidates, es, instances.cutoff_time)
        train = (split == "train").values
        selector = FeatureSelector.from_settings(cfg.selection).fit(
            matrix.loc[train], instances.labels[train], instances.times[train])
        selected = [f for f in candidates if f.get_name() in set(selector.selected_)]
        with tempfile.TemporaryDirectory() as tmp:
            definitions = str(Path(tmp) / "selected.json")
            ft.save_features(selected, definitions)
            one = _child("--scale", args.scale, "--one-instance-only", definitions)
        result.update({
            "featuretools_subset_instances": len(subset), "featuretools_subset_seconds": round(ft_subset_seconds, 1),
            "featuretools_seconds": round(ft_seconds, 1), "featuretools_extrapolated": True,
            "speedup": round(ft_seconds / result["engine_seconds"], 1),
            "max_relative_difference": max_relative_difference(reference, got.loc[reference.index]),
            "same_columns": list(reference.columns) == list(got.columns),
            **one,
        })
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
