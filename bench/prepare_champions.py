"""Champions to benchmark serving against: the three demo tasks trained with few trials.

    MLFLOW_TRACKING_URI=sqlite:////tmp/serve-mlruns/mlflow.db CREDITML_HOME=/tmp/serve-mlruns/home \
        python bench/prepare_champions.py --world /tmp/serve-world --trials 5

Each task is trained by the demo's data scientist, reviewed, approved and promoted by the
demo's reviewer and approver (signed in with tokens kept under ``CREDITML_HOME``), the way
``creditml demo`` does it; a task
whose gates fail is reported and left unpromoted. Latency depends on the number of
features and trees, not on how well the model was tuned, so a few trials are enough.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TASKS = ("credit_default", "intermediary_fraud", "collection_cure")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, required=True, help="a generated world (creditml generate)")
    parser.add_argument("--trials", type=int, default=5, help="Optuna trials per task")
    parser.add_argument("--tasks", nargs="*", default=list(TASKS))
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="a pipeline override for every task, e.g. training.final_fit=train")
    args = parser.parse_args(argv)

    from creditml.config import load_pipeline_config
    from creditml.registry import tracking
    from creditml.cli.demo import demo_people
    from creditml.registry.promotion import approve, promote, review
    from creditml.runner import run_pipeline

    tracking.configure()
    people = demo_people()
    pipelines = Path(__file__).resolve().parents[1] / "pipelines"
    failed = 0
    for task in args.tasks:
        cfg = load_pipeline_config(pipelines / f"{task}.yaml", [f"tuning.n_trials={args.trials}", *args.overrides],
                                   args.world / "dataset.yaml")
        summary = run_pipeline(cfg, trainer=people["demo-scientist"])
        if not (summary.version and summary.gates_passed):
            print(f"{task}: version {summary.version} not promoted: {summary.gate_reasons}", file=sys.stderr)
            failed += 1
            continue
        review(summary.model_name, summary.version, True, people["demo-reviewer"], "latency benchmark champion")
        approve(summary.model_name, summary.version, people["demo-approver"], "bench/prepare_champions.py")
        promote(summary.model_name, summary.version, people["demo-approver"])
        print(f"{task}: {summary.model_name} version {summary.version} is champion")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
