"""Per-partition throughput of the feature engine and XGBoost: the inputs of the sizing in docs/scale-out.md.

    python bench/scale_partition.py [--world data/world-medium/dataset.yaml] [--instances 10000] [--json]

Loads the medium built-in world (generated into a temporary folder when absent), builds
the default credit_default candidate definitions (``creditml.features.pipeline``'s
steps), computes one partition of instances with the fast engine and fits XGBoost on
it, and reports instances/s, peak memory of the partition and XGBoost row-rounds/s.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import psutil

warnings.filterwarnings("ignore")
REPO = Path(__file__).resolve().parents[1]


class PeakRss:
    """Highest resident set size of this process while the block runs (sampled every 20 ms)."""

    def __enter__(self):
        self.proc, self.peak, self._stop = psutil.Process(os.getpid()), 0, threading.Event()
        self.start = self.proc.memory_info().rss
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def above_start_mb(self) -> float:
        return (self.peak - self.start) / 2**20


def medium_world(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    default = REPO / "data" / "world-medium" / "dataset.yaml"
    if default.exists():
        return default
    from creditml.data.synthetic import generate_world

    out = Path(tempfile.mkdtemp(prefix="creditml-bench-medium-"))
    generate_world(out, scale="medium", seed=42)
    return out / "dataset.yaml"


def measure(world: Path, n_instances: int, rounds: int) -> dict:
    import xgboost as xgb

    from creditml.config import load_pipeline_config
    from creditml.data import load_dataset
    from creditml.features.compute import compute_matrix
    from creditml.features.dfs import build_candidates
    from creditml.features.entityset import build_entityset
    from creditml.model.frame import fit_categories, model_frame
    from creditml.splits import time_split
    from creditml.tasks import build_instances

    cfg = load_pipeline_config(REPO / "pipelines" / "credit_default.yaml", dataset=world)
    with PeakRss() as loading:
        dataset = load_dataset(cfg.dataset)
        es = build_entityset(dataset, cfg.features.ignore_columns)
    rows = {name: len(frame) for name, frame in dataset.tables.items()}
    target_rows = rows[cfg.task.target]
    instances = build_instances(dataset, cfg.task)
    split = time_split(instances.times, cfg.split)
    candidates = build_candidates(es, cfg.task.target, cfg.features,
                                  interesting_until=instances.times[split == "train"].max())
    cutoff = instances.cutoff_time.sort_values(instances.index_name).head(n_instances).reset_index(drop=True)
    compute_matrix(candidates, es, cutoff.head(50), "fast")  # warm-up: imports, caches
    with PeakRss() as partition:
        start = time.perf_counter()
        matrix = compute_matrix(candidates, es, cutoff, "fast")
        feature_seconds = time.perf_counter() - start

    labels = instances.labels.loc[matrix.index].to_numpy()
    categories = fit_categories(matrix)
    names = [c for c in matrix.columns if categories.get(c, True)]  # xgboost refuses a category-less column
    frame = model_frame(matrix, names, {c: v for c, v in categories.items() if c in names})
    dtrain = xgb.DMatrix(frame, label=labels, enable_categorical=True,
                         feature_names=[f"f{i}" for i in range(len(names))])
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6, "learning_rate": 0.05,
              "subsample": 0.8, "colsample_bytree": 0.5, "verbosity": 0, "max_cat_to_onehot": 1}
    start = time.perf_counter()
    xgb.train(params, dtrain, num_boost_round=rounds)
    fit_seconds = time.perf_counter() - start
    child_rows = sum(rows.values()) - target_rows
    return {
        "world": str(world), "tables": rows, "child_rows": child_rows, "cores": os.cpu_count(),
        "candidates": len(candidates), "instances_total": len(instances.labels),
        "partition_instances": len(cutoff), "partition_seconds": round(feature_seconds, 2),
        "instances_per_second": round(len(cutoff) / feature_seconds, 1),
        "partition_peak_mb": round(partition.above_start_mb, 1),
        "entityset_mb": round(loading.above_start_mb, 1),
        "entityset_bytes_per_row": round(loading.above_start_mb * 2**20 / sum(rows.values()), 1),
        "matrix_mb": round(matrix.memory_usage(deep=True).sum() / 2**20, 1),
        "xgb_rows": len(frame), "xgb_features": len(names), "xgb_rounds": rounds,
        "xgb_seconds": round(fit_seconds, 2),
        "xgb_row_rounds_per_second": round(len(frame) * rounds / fit_seconds),
        "xgb_bytes_per_row": int(np.dtype("float32").itemsize * len(names)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world", help="dataset.yaml of a medium world (default: data/world-medium or a new one)")
    parser.add_argument("--instances", type=int, default=10_000, help="instances in the measured partition")
    parser.add_argument("--rounds", type=int, default=200, help="XGBoost boosting rounds")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    args = parser.parse_args()
    result = measure(medium_world(args.world), args.instances, args.rounds)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")


if __name__ == "__main__":
    main()
