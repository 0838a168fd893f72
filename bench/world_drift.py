"""How much of a validation-to-out-of-time AUC drop is the world's own?

``gates.max_auc_drop`` refuses a model whose out-of-time AUC falls more than the limit
below its validation AUC. On the built-in world the generator knows every instance's true
probability (``oracle.parquet``), so the same drop can be read off the best possible
model: this bench splits each task's instances as its pipeline does and prints the
oracle's AUC on the validation and the out-of-time split, their difference, and that
difference's standard error (DeLong's, the two splits being disjoint). What the oracle
already drops is not the model's doing; the gate leaves a model only the rest.

It fits nothing and reads only the labels and the oracle: it chooses no setting.

    python bench/world_drift.py --world /tmp/w3 --world /tmp/w4 [--tasks intermediary_fraud ...] [--json]

(worlds from ``creditml generate --out DIR --scale medium --seed N``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline_medium import TASKS  # noqa: E402
from refit_backtest import REPO  # noqa: E402


def drift(world: Path, tasks: list[str]) -> list[dict]:
    import pandas as pd

    from creditml.config import load_pipeline_config
    from creditml.data import load_dataset
    from creditml.explain.compare import delong_difference
    from creditml.splits import time_split
    from creditml.tasks import build_instances

    oracle = pd.read_parquet(world / "oracle.parquet")
    dataset, rows = None, []
    for task in tasks:
        cfg = load_pipeline_config(REPO / "pipelines" / f"{task}.yaml", [], dataset=world / "dataset.yaml")
        dataset = dataset or load_dataset(cfg.dataset)
        instances = build_instances(dataset, cfg.task)
        split = time_split(instances.times, cfg.split)
        truth = oracle[oracle.task == task].set_index("instance_id")["probability"]
        row = {"world": world.name, "task": task, "limit": cfg.gates.max_auc_drop}
        for part in ("validation", "test"):
            ids = split.index[split == part]
            missing = ids.difference(truth.index)
            if len(missing):
                raise SystemExit(f"{world}/oracle.parquet has no probability for {len(missing)} of the {len(ids)} "
                                 f"{part} instances of {task}; regenerate the world with creditml generate")
            y = instances.labels.loc[ids].to_numpy()
            p = truth.loc[ids].to_numpy()
            d = delong_difference(y, p, p)
            row[part] = {"positives": int(y.sum()), "instances": len(y), "auc": round(d["auc_a"], 4),
                         "se": round(d["se_a"], 4)}
        row["drop"] = round(row["validation"]["auc"] - row["test"]["auc"], 4)
        row["drop_se"] = round(math.hypot(row["validation"]["se"], row["test"]["se"]), 4)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", dest="worlds", type=Path, action="append", required=True)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    for world in args.worlds:
        if not (world / "oracle.parquet").exists():
            raise SystemExit(f"{world}/oracle.parquet is missing: creditml generate --out {world} --scale medium "
                             f"--seed N writes it")
        for r in drift(world, args.tasks):
            if args.json:
                print(json.dumps(r), flush=True)
                continue
            v, t = r["validation"], r["test"]
            print(f"{r['world']} {r['task']}: oracle AUC validation {v['auc']:.4f} ({v['positives']} positives), "
                  f"out of time {t['auc']:.4f} ({t['positives']}); drop {r['drop']:+.4f} ± {r['drop_se']:.4f}, "
                  f"leaving a model {r['limit'] - r['drop']:.4f} of the gate's {r['limit']}", flush=True)


if __name__ == "__main__":
    main()
