"""creditml against a hand-built baseline on the real datasets, on the same split.

For each real-data pipeline (``pipelines/taiwan_default.yaml``, ``pipelines/home_credit_default.yaml``):
creditml's own run (``creditml.runner.run_pipeline``: features, tuning, evaluation, an MLflow
run in a scratch store, no registered version) and the analyst's baseline of
``bench/baselines.py`` scored on exactly the same train / validation / test instances.
Prints a table of test AUCs with bootstrap 95% intervals, split sizes and positives.

    python bench/real_data.py [--pipelines taiwan_default home_credit_default] [--samples DIR]
                              [--set KEY=VALUE ...] [--folds] [--json]

``--folds`` (key_hash pipelines; for samples too small for one test split to say much):
runs every fold of the split's seed (``split.fold`` 0 .. 1/test_share - 1, disjoint test
sets covering every instance once), each with its own features, tuning and baseline, and
reports the per-fold table, the mean of the fold AUCs, and the pooled held-out AUC of
each method over all instances with DeLong's paired test of the difference.

``--samples`` is the folder holding ``taiwan_credit_card/`` and ``home_credit_sample/``
(default: ``$CREDITML_SAMPLES``, else ``../shared/data``). ``--set`` applies
to every pipeline, e.g. ``--set tuning.n_trials=5`` while developing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from creditml.errors import CreditmlError

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # bench.baselines
PIPELINES = ("taiwan_default", "home_credit_default")


def compare(name: str, samples: Path | None, overrides: list[str], scratch: Path) -> dict:
    from creditml.config import load_pipeline_config
    from creditml.data import load_dataset
    from creditml.splits import time_split
    from creditml.runner import run_pipeline
    from creditml.tasks import build_instances

    from bench.baselines import BASELINES, score_baseline

    pipeline_yaml = REPO / "pipelines" / f"{name}.yaml"
    if samples is not None:  # the dataset YAMLs read the samples through CREDITML_SAMPLES
        os.environ["CREDITML_SAMPLES"] = str(samples)
    cfg = load_pipeline_config(pipeline_yaml, overrides + [f"tuning.storage=sqlite:///{scratch / 'optuna.db'}",
                                                           f"tuning.study_name={name}-{time.time_ns()}"])
    cfg = cfg.model_copy(update={"registry": None})  # a benchmark registers no version
    start = time.perf_counter()
    summary = run_pipeline(cfg)
    seconds = time.perf_counter() - start

    dataset = load_dataset(cfg.dataset)
    instances = build_instances(dataset, cfg.task)
    split = time_split(instances.times, cfg.split)  # the run's own split: same function, same settings
    sizes = {s: {"n": int((split == s).sum()), "positives": int(instances.labels[(split == s).values].sum())}
             for s in ("train", "validation", "test")}
    for s, m in summary.metrics.items():  # the same instances, or the comparison means nothing
        assert int(m["n"]) == sizes[s]["n"] and int(m["positives"]) == sizes[s]["positives"], (s, m, sizes)
    X = BASELINES[name](dataset, instances.times)
    base = score_baseline(X, instances.labels, split, seed=cfg.seed)
    test = summary.metrics["test"]
    from creditml.registry import open_registry
    preds = pd.read_parquet(open_registry().download_artifacts(summary.run_id, "evaluation/predictions.parquet"))
    preds = preds.set_index("instance_id")
    held_out = preds[preds["split"] == "test"]
    return {
        "pipeline": name, "split": cfg.split.method, "sizes": sizes, "seconds": round(seconds, 1),
        "creditml": {"candidates": summary.candidates, "selected": summary.selected,
                     "validation_auc": round(summary.metrics["validation"]["auc"], 4),
                     "test_auc": round(test["auc"], 4), "test_auc_ci": [round(test["auc_low"], 4),
                                                                      round(test["auc_high"], 4)]},
        "baseline": {"features": base.features, "validation_auc": round(base.validation_auc, 4),
                     "test_auc": round(base.test_auc, 4), "test_auc_ci": [round(base.test_auc_low, 4),
                                                                         round(base.test_auc_high, 4)]},
        "overrides": overrides,
        "held_out": pd.DataFrame({"label": held_out["label"].astype(int), "creditml": held_out["probability"],
                                  "baseline": base.probability.reindex(held_out.index)}),
    }


def pooled(name: str, folds: list[dict]) -> dict:
    """The held-out predictions of every fold together: one AUC per method over all instances."""
    from creditml.explain.compare import delong_difference
    from creditml.modeling.metrics import bootstrap_auc, roc_auc

    held = pd.concat([f["held_out"] for f in folds])
    assert held.index.is_unique and held["baseline"].notna().all(), "folds must test disjoint instances"
    y = held["label"].to_numpy()
    out = {"pipeline": name, "instances": len(held), "positives": int(y.sum()), "folds": len(folds)}
    for method in ("creditml", "baseline"):
        p = held[method].to_numpy()
        low, high = bootstrap_auc(y, p, 1000, 0)
        out[method] = {"pooled_auc": round(roc_auc(y, p), 4), "pooled_auc_ci": [round(low, 4), round(high, 4)],
                       "mean_fold_auc": round(float(np.mean([f[method]["test_auc"] for f in folds])), 4)}
    d = delong_difference(y, held["creditml"].to_numpy(), held["baseline"].to_numpy())
    z = 1.959963984540054
    out["difference"] = {"auc": round(d["difference"], 4), "ci": [round(d["difference"] - z * d["se"], 4),
                                                                 round(d["difference"] + z * d["se"], 4)],
                         "p_value": round(d["p_value"], 4)}
    return out


def pooled_table(rows: list[dict]) -> str:
    lines = []
    for r in rows:
        c, b, d = r["creditml"], r["baseline"], r["difference"]
        lines.append(f"{r['pipeline']}: {r['folds']} folds, {r['instances']:,} held-out instances "
                     f"({r['positives']:,} positives)\n"
                     f"  pooled held-out AUC  creditml {c['pooled_auc']:.3f} [{c['pooled_auc_ci'][0]:.3f}, "
                     f"{c['pooled_auc_ci'][1]:.3f}]   baseline {b['pooled_auc']:.3f} [{b['pooled_auc_ci'][0]:.3f}, "
                     f"{b['pooled_auc_ci'][1]:.3f}]\n"
                     f"  mean of fold AUCs    creditml {c['mean_fold_auc']:.3f}   baseline {b['mean_fold_auc']:.3f}\n"
                     f"  difference (DeLong)  {d['auc']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}], "
                     f"p = {d['p_value']:.3f}")
    return "\n".join(lines)


def table(rows: list[dict]) -> str:
    head = (f"{'pipeline':<22}{'split':<10}{'train/valid/test (positives)':<42}{'creditml test AUC [95% CI]':<30}"
            f"{'baseline test AUC [95% CI]':<30}{'valid AUC c/b':<14}")
    lines = [head, "-" * len(head)]
    for r in rows:
        sz = "/".join(f"{r['sizes'][s]['n']:,}({r['sizes'][s]['positives']:,})" for s in ("train", "validation", "test"))
        c, b = r["creditml"], r["baseline"]
        lines.append(f"{r['pipeline']:<22}{r['split']:<10}{sz:<42}"
                     f"{c['test_auc']:.3f} [{c['test_auc_ci'][0]:.3f}, {c['test_auc_ci'][1]:.3f}]{'':<9}"
                     f"{b['test_auc']:.3f} [{b['test_auc_ci'][0]:.3f}, {b['test_auc_ci'][1]:.3f}]{'':<9}"
                     f"{c['validation_auc']:.3f}/{b['validation_auc']:.3f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", nargs="*", default=list(PIPELINES), choices=PIPELINES)
    parser.add_argument("--samples", type=Path, default=os.environ.get("CREDITML_SAMPLES"))
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--folds", action="store_true", help="every fold of a key_hash split, pooled")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    samples = args.samples.resolve() if args.samples else None
    rows, pools = [], []
    with tempfile.TemporaryDirectory(prefix="creditml-real-") as tmp:
        scratch = Path(tmp)
        os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{scratch / 'mlflow.db'}")
        os.chdir(scratch)  # mlruns/artifacts of the scratch store land here, not in the repository
        for name in args.pipelines:
            runs = [args.overrides]
            if args.folds:
                from creditml.config import load_pipeline_config
                split = load_pipeline_config(REPO / "pipelines" / f"{name}.yaml", args.overrides).split
                if split.method != "key_hash":
                    sys.exit(f"--folds: {name} splits by {split.method}; folds rotate a key_hash split")
                runs = [args.overrides + [f"split.fold={k}"] for k in range(split.folds)]
            done = []
            for overrides in runs:
                try:
                    done.append(compare(name, samples, overrides, scratch))
                except CreditmlError as e:  # a fold short of positives: said, and left out of the pool
                    if not args.folds:
                        raise
                    print(f"{name} {overrides[-1]}: not run: {e}", file=sys.stderr, flush=True)
                    continue
                if args.json:
                    print(json.dumps({k: v for k, v in done[-1].items() if k != "held_out"}), flush=True)
            rows += done
            if args.folds and len(done) >= 2:
                pools.append(pooled(name, done))
                if args.json:
                    print(json.dumps(pools[-1]), flush=True)
    if not args.json:
        print(table(rows))
        if pools:
            print(pooled_table(pools))


if __name__ == "__main__":
    main()
