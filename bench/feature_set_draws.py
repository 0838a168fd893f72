"""Two feature settings under the same hyperparameters: is a difference the features' or the tuning's?

A tuned run compares two settings through one Optuna search each, so a difference between
them mixes what the features are worth with where each search happened to stop. This
bench removes the search: it builds and selects each arm's features as the pipeline does,
draws ``--draws`` hyperparameter sets once from the pipeline's own search space (Optuna's
random sampler, seed 0), and fits every draw on every arm with the pipeline's model inputs
and fixed parameters (monotone constraints included):

- ``train``: fit on the training split, early-stopped on the validation split;
- ``refit``: the same round count scaled to the training and validation rows, refit on both
  (as ``training.final_fit: train+validation``).

It prints, per arm, the mean validation AUC, the out-of-time AUC of both fits, and how
many draws drop more than ``gates.max_auc_drop`` from validation to out of time.

**It reads the test split.** It is a diagnosis for worlds whose test split an earlier
measurement has already read (``bench/regression_study.py``'s worlds 3-5), never a way to
choose a setting; ``bench/refit_backtest.py`` is that.

    python bench/feature_set_draws.py --world /tmp/w4 --task intermediary_fraud [--draws 10]
        [--arm NAME:KEY=VALUE[;KEY=VALUE] --arm ...] [--json]

Default arms: the pipeline against ``features.trans_primitives=[month,weekday,is_null]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from refit_backtest import REPO, parse_arm  # noqa: E402

ARMS = {"pipeline": [], "calendar": ["features.trans_primitives=[month,weekday,is_null]"]}


def draws(cfg, positive_rate: float, n: int) -> list[dict]:
    """``n`` hyperparameter sets from the pipeline's search space, the same for every arm."""
    import optuna

    from creditml.modeling.tuning import suggest

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    return [suggest(study.ask(), cfg.tuning, positive_rate) for _ in range(n)]


def evaluate(task: str, world: Path, arms: dict[str, list[str]], n: int) -> dict:
    import xgboost as xgb
    from sklearn.metrics import roc_auc_score

    from creditml.config import load_pipeline_config
    from creditml.data import load_dataset
    from creditml.features.pipeline import build_features
    from creditml.modeling.train import scaled_rounds, training_inputs

    dataset, params, out = None, None, {"task": task, "world": str(world), "arms": {}}
    for arm, changes in arms.items():
        cfg = load_pipeline_config(REPO / "pipelines" / f"{task}.yaml", changes, dataset=world / "dataset.yaml")
        dataset = dataset or load_dataset(cfg.dataset)
        built = build_features(cfg, dataset=dataset)
        labels, split = built.instances.labels, built.split
        inputs = training_inputs(built.matrix[built.selected], labels, split, built.instances.times, cfg)
        part = {s: (split == s).to_numpy() for s in ("train", "validation", "test")}
        params = params or draws(cfg, float(labels[part["train"]].mean()), n)

        def matrix(rows):
            return xgb.DMatrix(inputs.frame.loc[rows], label=labels[rows].to_numpy(), enable_categorical=True,
                               feature_names=inputs.dtrain.feature_names, feature_types=inputs.dtrain.feature_types)

        dtest, dboth = matrix(part["test"]), matrix(part["train"] | part["validation"])
        y_valid, y_test = labels[part["validation"]].to_numpy(), labels[part["test"]].to_numpy()
        fits = []
        for p in params:
            booster = xgb.train({**inputs.fixed, **p}, inputs.dtrain, num_boost_round=cfg.tuning.max_boost_rounds,
                                evals=[(inputs.dvalid, "validation")],
                                early_stopping_rounds=cfg.tuning.early_stopping_rounds, verbose_eval=False)
            rounds = booster.best_iteration + 1
            best = (0, rounds)
            refit = xgb.train({**inputs.fixed, **p}, dboth, num_boost_round=scaled_rounds(
                rounds, (part["train"].sum() + part["validation"].sum()) / part["train"].sum(),
                cfg.tuning.max_boost_rounds))
            fits.append({"validation": roc_auc_score(y_valid, booster.predict(inputs.dvalid, iteration_range=best)),
                         "train": roc_auc_score(y_test, booster.predict(dtest, iteration_range=best)),
                         "refit": roc_auc_score(y_test, refit.predict(dtest)), "rounds": rounds})
        limit = cfg.gates.max_auc_drop
        out["arms"][arm] = {
            "selected": len(built.selected), "fits": fits,
            **{f"mean_{k}": round(statistics.fmean(f[k] for f in fits), 4) for k in ("validation", "train", "refit")},
            **{f"drops_over_limit_{k}": sum(f["validation"] - f[k] > limit for f in fits) for k in ("train", "refit")}}
    first, *rest = arms
    out["difference"] = {arm: {k: round(statistics.fmean(
        b[k] - a[k] for a, b in zip(out["arms"][first]["fits"], out["arms"][arm]["fits"])), 4)
        for k in ("validation", "train", "refit")} for arm in rest}
    out["draws"] = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in p.items()} for p in params]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--world", dest="worlds", type=Path, action="append", required=True)
    parser.add_argument("--task", default="intermediary_fraud")
    parser.add_argument("--draws", type=int, default=10)
    parser.add_argument("--arm", dest="arms", action="append", type=parse_arm,
                        help="NAME:KEY=VALUE[;KEY=VALUE]; the first arm is the reference")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    arms = dict(args.arms) if args.arms else ARMS
    for world in args.worlds:
        r = evaluate(args.task, world, arms, args.draws)
        if args.json:
            print(json.dumps(r), flush=True)
            continue
        for arm, a in r["arms"].items():
            print(f"{world.name} {arm}: validation {a['mean_validation']:.4f}, out of time {a['mean_train']:.4f} "
                  f"(train) / {a['mean_refit']:.4f} (refit); drops over the gate {a['drops_over_limit_train']} / "
                  f"{a['drops_over_limit_refit']} of {len(a['fits'])}", flush=True)
        for arm, d in r["difference"].items():
            print(f"{world.name} {arm} - {next(iter(arms))}: " + ", ".join(f"{k} {v:+.4f}" for k, v in d.items()),
                  flush=True)


if __name__ == "__main__":
    main()
