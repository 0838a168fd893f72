"""Wall time and quality of each task's pipeline on the medium built-in world.

For each task: one run at the pipeline's default settings and one with
``features.max_depth=0`` (the target table's own columns only), both into a scratch
MLflow store. Prints one JSON line per task: wall seconds, peak memory, out-of-time AUC
of both runs, the oracle AUC on the same instances, and the two ratios the issue asks
for (AUC / oracle >= 0.97, relational - baseline >= 0.05).

    python bench/pipeline_medium.py [--world data/world-medium] [--tasks credit_default ...] [--set KEY=VALUE]
                                    [--no-baseline]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TASKS = ("credit_default", "intermediary_fraud", "collection_cure")


def run(task: str, world: Path, store: Path, overrides: list[str]) -> tuple[dict, float, float]:
    args = [sys.executable, "-m", "creditml.cli", "run", str(REPO / "pipelines" / f"{task}.yaml"),
            "--dataset", str(world / "dataset.yaml"), "--json"]
    for o in overrides + [f"tuning.storage=sqlite:///{store / 'optuna.db'}"]:
        args += ["--set", o]
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{store / 'mlflow.db'}"}
    start = time.perf_counter()
    done = subprocess.run(args, cwd=store, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{task} failed:\n{done.stderr[-3000:]}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return json.loads(done.stdout.strip().splitlines()[-1]), seconds, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", type=Path, default=REPO / "data" / "world-medium")
    parser.add_argument("--tasks", nargs="*", default=list(TASKS))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--no-baseline", action="store_true", help="skip the features.max_depth=0 runs")
    args = parser.parse_args()
    if not (args.world / "dataset.yaml").exists():
        raise SystemExit(f"{args.world}/dataset.yaml is missing: creditml generate --out {args.world} --scale medium")
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp)
        for task in args.tasks:
            full, seconds, peak = run(task, args.world, store, args.overrides)
            base, base_seconds = ({"metrics": {"test": {"auc": float("nan")}}}, 0.0) if args.no_baseline else \
                run(task, args.world, store, args.overrides + ["features.max_depth=0"])[:2]
            auc, oracle, base_auc = full["metrics"]["test"]["auc"], full["oracle_auc"], base["metrics"]["test"]["auc"]
            print(json.dumps({
                "task": task, "wall_seconds": round(seconds, 1), "peak_rss_mb_so_far": round(peak),
                "candidates": full["candidates"], "selected": full["selected"],
                "test_auc": round(auc, 4), "test_auc_ci": [round(full["metrics"]["test"]["auc_low"], 4),
                                                         round(full["metrics"]["test"]["auc_high"], 4)],
                "oracle_auc": round(oracle, 4) if oracle else None,
                "share_of_oracle": round(auc / oracle, 4) if oracle else None,
                "baseline_depth0_auc": round(base_auc, 4), "gain_over_baseline": round(auc - base_auc, 4),
                "baseline_wall_seconds": round(base_seconds, 1), "gates_passed": full["gates_passed"],
                "gate_reasons": full["gate_reasons"],
            }), flush=True)


if __name__ == "__main__":
    main()
