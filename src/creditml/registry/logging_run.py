"""What a pipeline run records in MLflow, and the registered version it creates.

Optuna trials are logged as one table (``tuning/optuna_trials.csv``) rather than as
child runs: thirty child runs per pipeline run bury the parent runs in the UI.
"""

from __future__ import annotations

import json

import pandas as pd

from creditml.config import PipelineConfig
from creditml.data import Dataset
from creditml.errors import SkewError
from creditml.features.pipeline import FeatureResult
from creditml.modeling.artifacts import LeakageFlags, TuningSummary, check_selection_table
from creditml.modeling.assessment import Assessment
from creditml.modeling.plots import calibration_plot, figure_to_svg, lift_plot, roc_plot
from creditml.modeling.train import TrainedModel
from creditml.registry import open_registry, tracking
from creditml.modeling.gates import GateDecision
from creditml.registry.promotion import TRAINED_BY, record_gates, record_registration
from creditml.model.bundle import ModelBundle, feature_skew
from creditml.checkpoints import checkpoint
from creditml.governance import Identity
from creditml.governance.records import UNVERIFIED
from creditml.model.records import mask_pii, records_for

SHAP_TRAIN_SAMPLE = 2000
SHAP_TEST_SAMPLE = 5000
PARITY_INSTANCES = 5  # test instances scored from raw records before anything is logged


def explain_sample(features: FeatureResult, seed: int) -> pd.DataFrame:
    """Selected feature values of a training sample and the out-of-time set, for SHAP reports."""
    split = features.split
    X = features.matrix[features.selected]
    train = X.loc[(split == "train").values]
    test = X.loc[(split == "test").values]
    train = train.sample(min(len(train), SHAP_TRAIN_SAMPLE), random_state=seed)
    test = test.sample(min(len(test), SHAP_TEST_SAMPLE), random_state=seed)
    values = pd.concat([train, test])
    values = values.astype({c: "string" for c in values.columns if isinstance(values[c].dtype, pd.CategoricalDtype)})
    split_column = pd.DataFrame({"__split__": ["train"] * len(train) + ["test"] * len(test)}, index=values.index)
    return pd.concat([split_column, values], axis=1)


def log_pipeline_run(cfg: PipelineConfig, dataset: Dataset, features: FeatureResult, trained: TrainedModel,
                     bundle: ModelBundle, bundle_dir, fingerprint: str, oracle: float | None,
                     assessment: Assessment, decision: GateDecision, register: bool = True,
                     trainer: Identity | None = None):
    """Record the run; register the model; return (run_id, version, artifact URI).

    ``trainer`` is the signed-in identity that trains (None: recorded as ``unverified``,
    and such a version can never be approved)."""
    test_ids = list(trained.predictions.index[trained.predictions.split == "test"][:PARITY_INSTANCES])
    records = records_for(bundle.dataset, dataset.tables, bundle.task.target, test_ids, bundle.paths,
                          bundle.features_settings.graph, bundle.task.cutoff)
    records = [mask_pii(bundle.dataset, bundle.task.target, r) for r in records]  # PII never a feature
    served_X = bundle.feature_matrix(records)
    served_all = bundle.score_matrix(served_X)
    offline = trained.predictions.loc[test_ids, "probability"].to_numpy(dtype=float)
    gaps = abs(served_all.probability.to_numpy(dtype=float) - offline)
    parity = float(gaps.max())
    if parity > 1e-12:
        worst = int(gaps.argmax())
        instance = test_ids[worst]
        skew = feature_skew(features.matrix.loc[instance, bundle.features], served_X.iloc[worst])
        raise SkewError(
            f"the bundled model scores instance {instance} at {served_all.probability.iloc[worst]:.8f} from raw "
            f"records but {offline[worst]:.8f} offline; features differ between training and serving: "
            + ("; ".join(skew) if skew else "no model input differs (the booster or its categories do)")
            + ". Nothing was logged or registered; this is a creditml defect (how serving rebuilds tables from "
            "records, creditml.model.records): report it with this message")
    record, served = records[0], served_all.iloc[[0]].reset_index(drop=True)

    code = tracking.code_version()
    experiment = (cfg.registry.experiment if cfg.registry and cfg.registry.experiment else f"creditml/{cfg.task.name}")
    tags = {"creditml.task": cfg.task.name, "creditml.pipeline": cfg.name, "creditml.data_fingerprint": fingerprint,
            "creditml.code_version": code, "creditml.dataset": str(cfg.dataset),
            "creditml.study": trained.tuning.study_name, TRAINED_BY: trainer.name if trainer else UNVERIFIED}
    with tracking.pipeline_run(experiment, f"{cfg.name}", tags) as run:
        checkpoint("run_started")
        tracking.log_config(cfg.model_dump(mode="json"))
        metrics = {}
        for split, m in trained.metrics.items():
            metrics.update(m.as_flat_dict(split))
        metrics.update({"n_candidates": features.matrix.shape[1], "n_selected": len(features.selected),
                        "n_instances": len(trained.predictions), "best_iteration": trained.best_iteration,
                        "serving_parity_abs_diff": parity})
        if trained.tuning.folds:
            metrics["tuning_cv_auc"] = trained.tuning.best_value
        if oracle is not None:
            metrics["oracle_auc_test"] = oracle
            metrics["auc_share_of_oracle"] = trained.metrics["test"].auc / oracle
        tracking.log_metrics(metrics)
        tracking.log_frame(check_selection_table(features.selector.report_), "features/selection.csv")
        tracking.log_text("\n".join(str(c) for c in features.matrix.columns), "features/candidates.txt")
        tracking.log_json(features.all_descriptions(), "features/descriptions.json")
        tracking.log_text(LeakageFlags(leakage_flags=list(features.selector.leakage_flags_)).model_dump_json(indent=1),
                          "features/leakage_flags.json")
        tracking.log_frame(trained.tuning.trials.astype({c: str for c in trained.tuning.trials.columns
                                                         if trained.tuning.trials[c].dtype == object}),
                           "tuning/optuna_trials.csv")
        tuning = trained.tuning
        summary = TuningSummary(
            study=tuning.study_name, storage=tuning.storage, objective=tuning.objective,
            best_params=tuning.best_params, best_auc=tuning.best_value, cv_folds=len(tuning.folds), folds=tuning.folds,
            best_iteration=trained.best_iteration, final_fit=trained.final_fit,
            param_importance=tuning.param_importance, resumed_trials=tuning.resumed_trials, sampler_seed=cfg.seed,
            monotone_constraints=trained.monotone)
        tracking.log_text(summary.model_dump_json(indent=1), "tuning/summary.json")
        tracking.log_json({s: m.__dict__ for s, m in trained.metrics.items()}, "evaluation/metrics.json")
        checkpoint("logging")
        predictions = trained.predictions.reset_index().rename(columns={trained.predictions.index.name or "index": "instance_id"})
        tracking.log_frame(predictions, "evaluation/predictions.parquet")
        tracking.log_text(figure_to_svg(calibration_plot(trained.metrics)), "evaluation/calibration.svg")
        tracking.log_text(figure_to_svg(lift_plot(trained.metrics)), "evaluation/lift.svg")
        y = {s: trained.predictions.loc[trained.predictions.split == s, "label"].to_numpy() for s in trained.metrics}
        p = {s: trained.predictions.loc[trained.predictions.split == s, "evaluation_probability"].to_numpy()
             for s in trained.metrics}
        tracking.log_text(figure_to_svg(roc_plot(y, p)), "evaluation/roc.svg")
        tracking.log_frame(explain_sample(features, cfg.seed), "explain/shap_sample.parquet")
        tracking.log_json(record, "serving/example_record.json")
        tracking.log_text(decision.record().model_dump_json(indent=1), "gates/gates.json")
        tracking.log_json({"approval_threshold": assessment.approval_threshold,
                           "groups": {k: v.to_dict(orient="records") for k, v in assessment.fairness.items()}},
                          "gates/fairness.json")
        tracking.log_metrics({"score_psi_train_test": assessment.gate_inputs.score_psi,
                              "shap_additivity_max_error": assessment.gate_inputs.additivity_error,
                              "fairness_ratio": assessment.gate_inputs.fairness_ratio})
        model_uri = tracking.log_model(bundle_dir, json.dumps(record), served)
        run_id = run.info.run_id
        artifacts = run.info.artifact_uri
    version = ""
    checkpoint("registration")
    # registered only here, after the run closed FINISHED: every artifact above was written
    if register and cfg.registry:
        test = trained.metrics["test"]
        registry = open_registry()
        version = registry.register_version(cfg.registry.model_name, model_uri, run_id, {
            "run_id": run_id, "creditml.task": cfg.task.name, "creditml.data_fingerprint": fingerprint,
            "creditml.code_version": code, "test_auc": f"{test.auc:.4f}", "test_ks": f"{test.ks:.4f}",
            "validation_auc": f"{trained.metrics['validation'].auc:.4f}",
            TRAINED_BY: trainer.name if trainer else UNVERIFIED,
        }, description=cfg.task.description)
        record_registration(cfg.registry.model_name, version, run_id, trainer, registry)
        record_gates(cfg.registry.model_name, version, decision, registry)
    return run_id, version, artifacts
