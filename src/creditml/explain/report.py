"""The model review report: what a reviewer reads before a version is promoted.

``build_report`` is pure: a :class:`ReportInputs` (everything one training run logged,
loaded by ``creditml.registry.reports``) in, one self-contained HTML page out. The data
of each section is assembled here; how it looks lives in ``templates/report.html.j2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import xgboost as xgb
from markupsafe import Markup

from creditml.config import GateSettings, ScoringSettings, TaskSpec
from creditml.explain import figures
from creditml.explain.compare import NO_CHAMPION, ChampionInputs, compare_models
from creditml.explain.stability import stability as stability_tables
from creditml.explain.shap_values import (ShapValues, importance_stability, mean_abs_importance, monotonicity,
                                          shap_values)
from creditml.model.reasons import top_risk_contributors
from creditml.modeling.artifacts import GateRecord, TuningSummary
from creditml.modeling.fairness import approval_threshold, group_table
from creditml.modeling.metrics import SplitMetrics, psi
from creditml.modeling.plots import calibration_plot, figure_to_svg, lift_plot, score_distribution_plot
from creditml.model.scorecard import ScoreScale

SECTIONS = ("summary", "gates", "metrics", "challenger", "importance", "beeswarm", "dependence", "stability",
            "over-time", "monotonicity", "reason-codes", "fairness", "selection", "tuning")
TOP_IMPORTANCE = 20
TOP_BEESWARM = 15
TOP_DEPENDENCE = 10
REASON_EXAMPLES = 5
SPLIT_ORDER = ("train", "validation", "test")
TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class ReportInputs:
    """Everything the report shows, as loaded from one registered model version.

    ``predictions``: index = instance id; columns split, label, probability, cutoff_time.
    ``sample``: index = instance id; ``__split__`` (train/test) and the model's raw
    feature values. ``protected``: protected attribute groups of the out-of-time
    instances (columns ``table.column``), or None with the reason in ``notes``.
    ``champion``: the champion scored on the same out-of-time instances, or None with
    the reason in ``champion_note`` ("no champion to compare with", or why it could not
    be scored). ``segments``: declared segment values of the out-of-time instances
    (columns ``table.column``), or None.
    """

    model_name: str
    version: str
    run_id: str
    task: TaskSpec
    booster: xgb.Booster
    features: list[str]
    categories: dict[str, list[str]]
    best_iteration: int
    scoring: ScoringSettings
    descriptions: dict[str, str]
    metrics: dict[str, SplitMetrics]
    predictions: pd.DataFrame
    sample: pd.DataFrame
    selection: pd.DataFrame  # features/selection.csv
    leakage_flags: list[str]
    tuning: TuningSummary  # tuning/summary.json
    trials: pd.DataFrame  # tuning/optuna_trials.csv
    tags: dict[str, str] = field(default_factory=dict)  # the run's tags (lineage)
    protected: pd.DataFrame | None = None
    gate_settings: GateSettings = field(default_factory=GateSettings)
    gates: GateRecord | None = None  # gates/gates.json as logged by the run
    notes: list[str] = field(default_factory=list)  # what loading found that the reader should know
    champion: ChampionInputs | None = None
    champion_note: str = f"{NO_CHAMPION}."
    segments: pd.DataFrame | None = None
    segment_note: str = ("No segments declared: list segment columns (table.column) under report.segments in the "
                         "pipeline YAML, e.g. applications.channel.")
    generated_at: str = ""


def build_report(inputs: ReportInputs, gates: GateRecord | None = None) -> str:
    """The review report as one self-contained HTML page (inline CSS and images, no scripts).

    ``gates``
    overrides the gates logged with the run; with neither the page says "not evaluated".
    """
    context = report_context(inputs, gates if gates is not None else inputs.gates)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=fmt_num, pct=fmt_pct, count=fmt_count, fixed=fmt_fixed)
    return env.get_template("report.html.j2").render(**context)


def report_context(inputs: ReportInputs, gates: GateRecord | None) -> dict:
    """The data of every section (plain dicts, lists and preformatted figures)."""
    sample = inputs.sample
    split = sample["__split__"].astype(str)
    X = sample.drop(columns="__split__")
    sv = shap_values(inputs.booster, X, inputs.features, inputs.categories, inputs.best_iteration)
    train_mask, test_mask = (split == "train").to_numpy(), (split == "test").to_numpy()
    if not train_mask.any() or not test_mask.any():
        raise ValueError(f"report: the SHAP sample needs train and test rows; found {split.value_counts().to_dict()}")
    sv_train, sv_test = sv.subset(train_mask), sv.subset(test_mask)
    X_train, X_test = X.loc[train_mask], X.loc[test_mask]
    scale = ScoreScale.from_settings(inputs.scoring)
    importance = mean_abs_importance(sv_train)
    return {
        "title": f"{inputs.model_name} version {inputs.version}",
        "inputs": inputs,
        "summary": _summary(inputs, sv, sv_train, sv_test),
        "gates": _gates(gates),
        "metrics": _metrics(inputs),
        "challenger": _challenger(inputs, sv_test, scale),
        "importance": _importance(importance, inputs.descriptions),
        "beeswarm": _beeswarm(importance, sv_train, X_train),
        "dependence": _dependence(importance, sv_train, X_train, inputs),
        "stability": _stability(inputs, sv_train, sv_test, scale),
        "over_time": _over_time(inputs),
        "monotonicity": _monotonicity(inputs, X_train, sv_train),
        "reasons": _reason_codes(inputs, sv_test, X_test, scale),
        "fairness": _fairness(inputs),
        "selection": _selection(inputs),
        "tuning": _tuning(inputs),
    }


# --------------------------------------------------------------------------- sections


def _summary(inputs: ReportInputs, sv: ShapValues, sv_train: ShapValues, sv_test: ShapValues) -> dict:
    pred = inputs.predictions
    splits = []
    for name in _ordered(pred["split"].unique()):
        part = pred[pred["split"] == name]
        times = pd.to_datetime(part["cutoff_time"])
        splits.append({"split": name, "n": len(part), "positives": int(part["label"].sum()),
                       "label_rate": float(part["label"].mean()), "first": _date(times.min()),
                       "last": _date(times.max())})
    tags = inputs.tags
    lineage = [("Registered model", f"{inputs.model_name} version {inputs.version}"),
               ("MLflow run", inputs.run_id),
               ("Data fingerprint", tags.get("creditml.data_fingerprint", "not recorded")),
               ("Code version", tags.get("creditml.code_version", "not recorded")),
               ("Pipeline", tags.get("creditml.pipeline", "not recorded")),
               ("Dataset config", tags.get("creditml.dataset", "not recorded")),
               ("Optuna study", tags.get("creditml.study", inputs.tuning.study))]
    test = inputs.metrics.get("test")
    return {"task": inputs.task, "splits": splits, "lineage": lineage, "n_features": len(inputs.features),
            "test": test, "shap_rows": len(sv.index), "shap_train": len(sv_train.index),
            "shap_test": len(sv_test.index), "additivity_error": sv.additivity_error}


def _gates(gates: GateRecord | None) -> dict | None:
    if gates is None:
        return None
    return {"passed": gates.passed, "checks": [c.model_dump() for c in gates.checks], "failed": gates.failed}


def _metrics(inputs: ReportInputs) -> dict:
    metrics = {s: inputs.metrics[s] for s in _ordered(inputs.metrics)}
    extra_names = list(dict.fromkeys(k for m in metrics.values() for k in m.extra))
    rows = [{"split": s, "m": m, "extra": [m.extra.get(k, math.nan) for k in extra_names]} for s, m in metrics.items()]
    test = metrics.get("test")
    return {"rows": rows, "extra_names": [k.replace("_", " ") for k in extra_names],
            "calibration": Markup(figure_to_svg(calibration_plot(metrics))),
            "lift": Markup(figure_to_svg(lift_plot(metrics))),
            "deciles": test.deciles if test else []}


def _challenger(inputs: ReportInputs, sv_test: ShapValues, scale: ScoreScale) -> dict:
    """The candidate against the champion on the out-of-time instances both were scored on."""
    champion = inputs.champion
    if champion is None:
        return {"available": False, "note": inputs.champion_note,
                "problem": not inputs.champion_note.startswith(NO_CHAMPION)}
    test = inputs.predictions[inputs.predictions["split"] == "test"]
    ids = test.index.intersection(champion.probabilities.index)
    missing = len(test) - len(ids)
    good = inputs.scoring.label_is_good
    shap_ids = sv_test.index.intersection(champion.sample.index)
    importance = {}
    if len(shap_ids):
        mask = sv_test.index.isin(shap_ids)
        own = sv_test.subset(mask)
        theirs = shap_values(champion.booster, champion.sample.loc[own.index], champion.features, champion.categories,
                             champion.best_iteration)
        importance = {"candidate_importance": mean_abs_importance(own),
                      "champion_importance": mean_abs_importance(theirs)}
    result = compare_models(test.loc[ids, "label"].to_numpy(), test.loc[ids, "probability"].to_numpy(),
                            champion.probabilities.loc[ids].to_numpy(),
                            approval_rate=inputs.gate_settings.approval_rate, label_is_good=good, scale=scale,
                            candidate_features=inputs.features, champion_features=champion.features, **importance)
    proba = {f"champion (version {champion.version})": champion.probabilities.loc[ids].to_numpy(),
             f"candidate (version {inputs.version})": test.loc[ids, "probability"].to_numpy()}
    scores = {name: scale.score(1 - p if good else p) for name, p in proba.items()}
    diff = result.auc_difference
    verdict = ("the candidate ranks better" if diff.low > 0 else "the champion ranks better" if diff.high < 0
               else "no significant difference")
    return {"available": True, "result": result, "champion": champion, "missing": missing,
            "shap_n": len(shap_ids), "verdict": verdict,
            "descriptions": {**champion.descriptions, **inputs.descriptions},
            "figure": Markup(figure_to_svg(score_distribution_plot(scores, scale=scale)))}


def _over_time(inputs: ReportInputs) -> dict:
    """AUC and label rate by month of the out-of-time window and by declared segment."""
    test = inputs.predictions[inputs.predictions["split"] == "test"]
    segments = inputs.segments.reindex(test.index) if inputs.segments is not None else None
    result = stability_tables(test["label"].to_numpy(), test["probability"].to_numpy(), test["cutoff_time"],
                              segments)
    return {"result": result, "label": inputs.task.label, "good": inputs.scoring.label_is_good,
            "segment_note": None if segments is not None else inputs.segment_note}


def _importance(importance: pd.Series, descriptions: dict[str, str]) -> dict:
    top = importance.head(TOP_IMPORTANCE)
    total = float(importance.sum()) or 1.0
    rows = [{"rank": i, "feature": name, "description": descriptions.get(name, ""), "value": float(v),
             "share": float(v) / total} for i, (name, v) in enumerate(top.items(), start=1)]
    return {"rows": rows, "n_features": len(importance),
            "figure": Markup(figure_to_svg(figures.importance_figure(top)))}


def _beeswarm(importance: pd.Series, sv_train: ShapValues, X_train: pd.DataFrame) -> dict:
    names = list(importance.index[:TOP_BEESWARM])
    cols = [sv_train.features.index(n) for n in names]
    fig = figures.beeswarm_figure(sv_train.values[:, cols], X_train, names)
    return {"image": figures.figure_to_png_data_uri(fig), "n": len(names), "rows": len(X_train)}


def _dependence(importance: pd.Series, sv_train: ShapValues, X_train: pd.DataFrame, inputs: ReportInputs) -> list:
    plots = []
    for name in importance.index[:TOP_DEPENDENCE]:
        j = sv_train.features.index(name)
        categorical = name in inputs.categories
        fig = figures.dependence_figure(name, X_train[name], sv_train.values[:, j], categorical)
        plots.append({"feature": name, "description": inputs.descriptions.get(name, ""),
                      "kind": "categorical" if categorical else "numeric",
                      "image": figures.figure_to_png_data_uri(fig)})
    return plots


def _stability(inputs: ReportInputs, sv_train: ShapValues, sv_test: ShapValues, scale: ScoreScale) -> dict:
    table = importance_stability(sv_train, sv_test, TOP_IMPORTANCE)
    rows = [{"feature": name, "train": r.train, "test": r.test, "train_rank": int(r.train_rank),
             "test_rank": int(r.test_rank), "change": int(r.rank_change)} for name, r in table.iterrows()]
    pred = inputs.predictions
    scores = {s: scale.score(pred.loc[pred["split"] == s, "probability"].to_numpy()) for s in _ordered(pred["split"].unique())}
    value = psi(scores["train"], scores["test"]) if "train" in scores and "test" in scores else math.nan
    verdict = "stable" if value < 0.1 else "some shift" if value < 0.25 else "shifted"
    return {"rows": rows, "psi": value, "verdict": verdict,
            "figure": Markup(figure_to_svg(score_distribution_plot(scores, scale=scale)))}


def _monotonicity(inputs: ReportInputs, X_train: pd.DataFrame, sv_train: ShapValues) -> dict:
    declared = dict(inputs.tuning.monotone_constraints)
    if not declared:
        return {"rows": [], "violated": 0}
    table = monotonicity(X_train, sv_train, declared)
    rows = [{"feature": r.feature, "description": inputs.descriptions.get(r.feature, ""), "declared": r.declared,
             "spearman": r.spearman, "n": r.n, "status": r.status} for r in table.itertuples()]
    return {"rows": rows, "violated": int((table.status == "violated").sum())}


def _approve_rule(scale: ScoreScale) -> tuple[set[str], float | None, str]:
    """Approve bands and the borderline boundary: A–C when the scale has a band C, else None."""
    labels = [label for _, label in scale.bands]
    if "C" in labels and labels.index("C") < len(labels) - 1:
        bound = dict((label, b) for b, label in scale.bands)["C"]
        approve = {label for b, label in scale.bands if b >= bound}
        below = labels[labels.index("C") + 1]
        return approve, bound, f"the C/{below} band boundary at {bound:g} points"
    return set(), None, "the median out-of-time score"


def _reason_codes(inputs: ReportInputs, sv_test: ShapValues, X_test: pd.DataFrame, scale: ScoreScale) -> dict:
    good = inputs.scoring.label_is_good  # the score then follows the chance of the bad outcome
    proba = sv_test.probability
    scores = scale.score(1 - proba if good else proba)
    bands = scale.band(scores)
    _, bound, boundary_text = _approve_rule(scale)
    boundary = bound if bound is not None else float(np.median(scores))
    labels = inputs.predictions["label"].reindex(sv_test.index)
    k = inputs.scoring.reason_codes

    def examples(order: np.ndarray) -> list[dict]:
        out = []
        for i in order[:REASON_EXAMPLES]:
            reasons = [{"feature": name, "description": inputs.descriptions.get(name, ""),
                        "value": _display_value(X_test.iloc[i][name]), "contribution": c}
                       for name, c in top_risk_contributors(-sv_test.values[i] if good else sv_test.values[i],
                                                            sv_test.features, k)]
            label = labels.iloc[i]
            out.append({"id": str(sv_test.index[i]), "probability": float(proba[i]), "score": float(scores[i]),
                        "band": str(bands[i]), "label": None if pd.isna(label) else int(label), "reasons": reasons})
        return out

    return {"high": examples(np.argsort(scores, kind="stable")),
            "borderline": examples(np.argsort(np.abs(scores - boundary), kind="stable")),
            "boundary": boundary, "boundary_text": boundary_text, "k": k, "n": len(proba)}


def _fairness(inputs: ReportInputs) -> dict:
    settings = inputs.gate_settings
    pred = inputs.predictions
    train, test = pred[pred["split"] == "train"], pred[pred["split"] == "test"]
    good = inputs.scoring.label_is_good
    threshold = approval_threshold((1 - train["probability"] if good else train["probability"]).to_numpy(),
                                   settings.approval_rate)
    out = {"available": inputs.protected is not None, "threshold": threshold, "approval_rate": settings.approval_rate,
           "min_ratio": settings.min_fairness_ratio, "min_group": settings.min_group_size, "attributes": [],
           "n": len(test)}
    if inputs.protected is None:
        return out
    groups = inputs.protected.reindex(test.index)
    for column in groups.columns:
        table = group_table(groups[column], test["label"].to_numpy(), test["probability"].to_numpy(), threshold,
                            settings.min_group_size, good)
        rows = [{**r, "flag": bool(r["gated"] and r["ratio_to_best"] < settings.min_fairness_ratio)}
                for r in table.to_dict(orient="records")]
        out["attributes"].append({"name": column, "rows": rows, "flagged": sum(r["flag"] for r in rows)})
    return out


def _selection(inputs: ReportInputs) -> dict:
    report = inputs.selection
    if report.empty:
        return {"counts": [], "n": 0, "kept": 0, "leakage": inputs.leakage_flags, "leakage_rows": []}
    counts = report.groupby("reason").size().sort_values(ascending=False)
    leakage = report[report["feature"].isin(inputs.leakage_flags)]
    return {"counts": [{"reason": r, "n": int(n)} for r, n in counts.items()], "n": len(report),
            "kept": int(report["kept"].astype(bool).sum()), "leakage": inputs.leakage_flags,
            "leakage_rows": [{"feature": r.feature, "detail": r.detail} for r in leakage.itertuples()]}


def _tuning(inputs: ReportInputs) -> dict:
    summary, trials = inputs.tuning, inputs.trials
    states = trials["state"].value_counts().to_dict() if "state" in trials else {}
    importance = sorted(summary.param_importance.items(), key=lambda kv: -kv[1])
    return {"study": summary.study, "best_auc": summary.best_auc, "objective": summary.objective,
            "best_iteration": summary.best_iteration, "final_fit": summary.final_fit,
            "best_params": sorted(summary.best_params.items()),
            "n_trials": len(trials), "states": states, "importance": importance,
            "resumed": summary.resumed_trials}


# --------------------------------------------------------------------------- formatting


def _ordered(splits) -> list[str]:
    names = [str(s) for s in splits]
    return [s for s in SPLIT_ORDER if s in names] + sorted(s for s in names if s not in SPLIT_ORDER)


def _date(value) -> str:
    return "—" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _display_value(value):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "missing"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, float, np.integer, np.floating)):
        return fmt_num(float(value), 4)
    return str(value)


def fmt_num(value, digits: int = 3) -> str:
    """Numbers for tables: ``digits`` decimals below 1, significant digits above, scientific
    when tiny; NaN and None print as an em dash."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, str):
        return value
    value = float(value)
    if value == 0 or value.is_integer():
        return f"{value:,.0f}"
    if abs(value) < 10.0 ** -digits:
        return f"{value:.{max(digits - 1, 1)}g}"
    if abs(value) < 1:
        return f"{value:.{digits}f}"
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def fmt_pct(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{100 * float(value):.{digits}f}%"


def fmt_fixed(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{float(value):.{digits}f}"


def fmt_count(value) -> str:
    return "—" if value is None else f"{int(value):,}"
