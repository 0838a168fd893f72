"""creditml against a hand-built baseline on the real datasets, on the same split.

For each real-data pipeline (``pipelines/taiwan_default.yaml``, ``pipelines/home_credit_default.yaml``):
creditml's own run (``creditml.runner.run_pipeline``: features, tuning, evaluation, an MLflow
run in a scratch store, no registered version) and the analyst's baseline of
``bench/baselines.py`` scored on exactly the same train / validation / test instances.
Prints a table of test AUCs with bootstrap 95% intervals, split sizes and positives.

    python bench/real_data.py [--pipelines taiwan_default home_credit_default] [--samples DIR]
                              [--set KEY=VALUE ...] [--json]

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
    }


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
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    samples = args.samples.resolve() if args.samples else None
    rows = []
    with tempfile.TemporaryDirectory(prefix="creditml-real-") as tmp:
        scratch = Path(tmp)
        os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{scratch / 'mlflow.db'}")
        os.chdir(scratch)  # mlruns/artifacts of the scratch store land here, not in the repository
        for name in args.pipelines:
            rows.append(compare(name, samples, args.overrides, scratch))
            if args.json:
                print(json.dumps(rows[-1]), flush=True)
    if not args.json:
        print(table(rows))


if __name__ == "__main__":
    main()
