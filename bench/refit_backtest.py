"""Compare pipeline settings one period back, on figures the tuning never saw, without the test split.

A setting chosen on the validation split's own figures is chosen on a period that
tuning and early stopping already fit to, and ``training.final_fit: train+validation``
cannot be judged there at all (the refit trains on it). This bench moves the question one
period back: the training split's latest instances (as many as the validation split
holds) become a pseudo-validation period, the validation split becomes a pseudo-test
period, and the real test split is not used (its rows are marked ``unused``; no figure
is computed on them). Each arm (a set of ``--set`` overrides on the task's pipeline) is
tuned and fit on the pseudo-splits with ``train_model`` and scored on the pseudo-test
period. Features are built and selected as the pipeline does, on the pseudo-splits
(selection sees the pseudo-training rows, and the pseudo-validation rows' features
where ``selection.psi_against_validation`` asks); arms that change only ``tuning.*`` or
``training.*`` share one feature build, and those changing only ``training.*`` one
finished study.

Default arms: ``training.final_fit`` ``train`` (early-stopped on the pseudo-validation
period) against ``train+validation`` (refit on both periods, the round count scaled to
their rows).

    python bench/refit_backtest.py --world data/world-medium [--world ...] [--tasks credit_default ...]
        [--trials 20] [--set KEY=VALUE] [--arm NAME:KEY=VALUE[;KEY=VALUE] --arm ...] [--json]

e.g. ``--arm dates: --arm calendar:features.trans_primitives=[month,weekday,is_null]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
TASKS = ("credit_default", "collection_cure")
ARMS = {"train": ["training.final_fit=train"], "train+validation": ["training.final_fit=train+validation"]}


def backtest_split(split: pd.Series, times: pd.Series) -> pd.Series:
    """train -> train / validation (its latest instances, as many as validation holds), validation -> test."""
    train = (split == "train").to_numpy()
    n_valid = int((split == "validation").sum())
    train_times = times[train].sort_values()
    threshold = train_times.iloc[len(train_times) - n_valid]  # instances sharing a cutoff stay together
    out = pd.Series("unused", index=split.index, dtype=object)
    out[train & (times < threshold).to_numpy()] = "train"
    out[train & (times >= threshold).to_numpy()] = "validation"
    out[(split == "validation").to_numpy()] = "test"
    return out


def backtest(task: str, world: Path, trials: int, overrides: list[str], arms: dict[str, list[str]],
             scratch: Path) -> dict:
    from dataclasses import replace

    from creditml.config import load_pipeline_config
    from creditml.data import load_dataset
    from creditml.features.pipeline import build_features
    from creditml.modeling.train import train_model
    from creditml.splits import time_split
    from creditml.tasks import build_instances

    storage = f"sqlite:///{scratch / 'optuna.db'}"
    out = {"task": task, "world": str(world), "arms": {}}
    built: dict[str, object] = {}  # feature settings -> features on the pseudo-splits
    dataset = None
    for arm, changes in arms.items():
        start = time.perf_counter()
        cfg = load_pipeline_config(REPO / "pipelines" / f"{task}.yaml",
                                   overrides + changes + [f"tuning.n_trials={trials}", f"tuning.storage={storage}"],
                                   dataset=world / "dataset.yaml")
        key = json.dumps(cfg.model_dump(mode="json", exclude={"training", "tuning"}), sort_keys=True)
        if key not in built:
            dataset = dataset or load_dataset(cfg.dataset)
            times = build_instances(dataset, cfg.task).times
            shifted = backtest_split(time_split(times, cfg.split), times)
            built[key] = features = build_features(cfg, dataset=dataset, split=shifted)
            out["rows"] = {s: int((shifted == s).sum()) for s in ("train", "validation", "test")}
            out["positives"] = {s: int(features.instances.labels[(shifted == s).to_numpy()].sum())
                                for s in ("train", "validation", "test")}
        # arms sharing features and tuning settings share one study: the second finds it finished
        # (tuning.select changes which finished trial is taken, not the search)
        study = json.dumps([key, cfg.tuning.model_dump(mode="json", exclude={"select"})], sort_keys=True)
        cfg = cfg.model_copy(update={"tuning": cfg.tuning.model_copy(
            update={"study_name": f"{task}-{world.name}-{hashlib.sha256(study.encode()).hexdigest()[:12]}"})})
        trained = train_model(replace(built[key], config=cfg), cfg, storage=storage, data_fingerprint="backtest")
        out["arms"][arm] = {"pseudo_test_auc": trained.metrics["test"].auc,
                            "pseudo_validation_auc": trained.metrics["validation"].auc,
                            "selected": len(built[key].selected), "rounds": trained.best_iteration + 1,
                            "final_fit": trained.final_fit, "seconds": round(time.perf_counter() - start, 1)}
    first, *rest = arms
    out["gain"] = {arm: out["arms"][arm]["pseudo_test_auc"] - out["arms"][first]["pseudo_test_auc"] for arm in rest}
    return out


def parse_arm(text: str) -> tuple[str, list[str]]:
    name, _, changes = text.partition(":")
    return name, [c for c in changes.split(";") if c]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, action="append", required=True)
    parser.add_argument("--tasks", nargs="*", default=list(TASKS))
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--arm", dest="arms", action="append", type=parse_arm,
                        help="NAME:KEY=VALUE[;KEY=VALUE]; the first arm is the reference (default: final_fit arms)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    arms = dict(args.arms) if args.arms else ARMS
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for world in args.world:
            for task in args.tasks:
                r = backtest(task, world, args.trials, args.overrides, arms, Path(tmp))
                results.append(r)
                print(json.dumps(r) if args.json else
                      f"{task:16} {world.name:12} pseudo-test AUC " + "  ".join(
                          f"{arm} {a['pseudo_test_auc']:.4f}" for arm, a in r["arms"].items()), flush=True)
    for task in args.tasks:
        for arm in list(arms)[1:]:
            gains = [r["gain"][arm] for r in results if r["task"] == task]
            print(f"{task}: {arm} against {next(iter(arms))}: mean gain {sum(gains) / len(gains):+.4f}, "
                  f"ahead on {sum(g > 0 for g in gains)} of {len(gains)} worlds")


if __name__ == "__main__":
    main()
