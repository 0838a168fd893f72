"""Drift monitoring: scored traffic against the training reference, PSI per item.

``drift_table`` is pure: reference and current frames in, one row per item (the score
and the model's top features by gain) with its PSI and a verdict. ``monitor`` is the
edge: it reads the champion's reference artifacts from MLflow (the run's
``evaluation/predictions.parquet`` and ``explain/shap_sample.parquet``), reads a scored
file written by batch scoring (``creditml.serving.batch``, with feature columns),
writes a self-contained HTML page and logs the figures as a new run in the task's
experiment tagged ``creditml.monitoring``.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from creditml.errors import CreditmlError
from creditml.serving.batch import FEATURE_PREFIX
from creditml.stats import psi  # numeric values in reference deciles, others by level, missing apart

TOP_FEATURES = 10
STABLE, WATCH = 0.1, 0.25


def verdict(value: float) -> str:
    return "stable" if value < STABLE else ("watch" if value < WATCH else "shifted")


def top_features(bundle, n: int = TOP_FEATURES) -> list[str]:
    """The model's features with the highest total gain, strongest first."""
    gain = bundle.booster.get_score(importance_type="total_gain")
    ranked = sorted(((gain.get(f"f{i}", 0.0), name) for i, name in enumerate(bundle.features)), reverse=True)
    return [name for g, name in ranked if g > 0][:n]


def drift_table(reference_scores: pd.Series, current_scores: pd.Series, reference_features: pd.DataFrame,
                current_features: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    rows = [{"item": "probability", "kind": "score", "psi": psi(reference_scores, current_scores),
             "reference_mean": float(reference_scores.mean()), "current_mean": float(current_scores.mean())}]
    for name in features:
        if name not in reference_features.columns or name not in current_features.columns:
            continue
        ref, cur = reference_features[name], current_features[name]
        numeric = pd.api.types.is_numeric_dtype(ref)
        rows.append({"item": name, "kind": "feature", "psi": psi(ref, cur),
                     "reference_mean": float(pd.to_numeric(ref, errors="coerce").mean()) if numeric else np.nan,
                     "current_mean": float(pd.to_numeric(cur, errors="coerce").mean()) if numeric else np.nan})
    out = pd.DataFrame(rows)
    out["verdict"] = out["psi"].map(verdict)
    return out


def render_html(table: pd.DataFrame, title: str, n_reference: int, n_current: int) -> str:
    colour = {"stable": "#2e7d32", "watch": "#f9a825", "shifted": "#c62828"}
    width = 240
    body = []
    for row in table.itertuples(index=False):
        bar = min(row.psi / (WATCH * 2), 1.0) * width
        fmt = lambda v: "" if pd.isna(v) else f"{v:.4g}"  # noqa: E731
        body.append(
            f"<tr><td>{html.escape(str(row.item))}</td><td>{row.kind}</td><td class=n>{row.psi:.4f}</td>"
            f"<td><svg width={width} height=12><rect width={bar:.1f} height=12 fill='{colour[row.verdict]}'/></svg></td>"
            f"<td style='color:{colour[row.verdict]}'>{row.verdict}</td><td class=n>{fmt(row.reference_mean)}</td>"
            f"<td class=n>{fmt(row.current_mean)}</td></tr>")
    return (f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}</title><style>"
            "body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}.n{text-align:right}</style></head>"
            f"<body><h1>{html.escape(title)}</h1><p>Reference: {n_reference:,} training instances; current: "
            f"{n_current:,} scored instances. PSI &lt; {STABLE} stable, &lt; {WATCH} watch, otherwise shifted.</p>"
            "<table><tr><th>item</th><th>kind</th><th>PSI</th><th></th><th>verdict</th><th>reference mean</th>"
            f"<th>current mean</th></tr>{''.join(body)}</table></body></html>")


@dataclass(frozen=True)
class MonitorResult:
    table: pd.DataFrame
    html_path: Path
    run_id: str
    model_name: str
    model_version: str


def _read_scored(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise CreditmlError(f"scored file {str(path)!r} does not exist; write one with creditml score-file")
    frame = pd.read_parquet(path) if path.suffix.lower() in {".parquet", ".pq"} else pd.read_json(path, lines=True)
    if "probability" not in frame.columns:
        raise CreditmlError(f"{path}: expected the output of batch scoring (a 'probability' column), "
                            f"found {list(frame.columns)[:10]}")
    return frame


def monitor(model_name: str, scored_file: Path, out: Path | None = None, alias: str = "champion") -> MonitorResult:
    """Compare a scored file with the training reference of ``model_name@alias``; log and write HTML."""
    from creditml.registry import open_registry, tracking
    from creditml.registry.loading import load_bundle, resolve_model_uri

    registry = open_registry()
    _, version = resolve_model_uri(f"models:/{model_name}@{alias}", registry)
    run_id = registry.get_version(model_name, version).run_id
    bundle = load_bundle(f"models:/{model_name}/{version}")
    preds = pd.read_parquet(registry.download_artifacts(run_id, "evaluation/predictions.parquet"))
    sample = pd.read_parquet(registry.download_artifacts(run_id, "explain/shap_sample.parquet"))
    reference_scores = preds.loc[preds["split"] == "train", "probability"]
    reference_features = sample[sample["__split__"] == "train"]

    scored = _read_scored(scored_file)
    current_features = scored[[c for c in scored.columns if c.startswith(FEATURE_PREFIX)]]
    current_features.columns = [c[len(FEATURE_PREFIX):] for c in current_features.columns]
    features = top_features(bundle)
    table = drift_table(reference_scores, scored["probability"], reference_features, current_features, features)

    title = f"{model_name} version {version}: drift of {Path(scored_file).name}"
    out = Path(out) if out else Path("reports") / f"{model_name}-v{version}-monitoring.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(table, title, len(reference_scores), len(scored)), encoding="utf-8")

    monitoring_run = tracking.log_monitoring_run(
        run_id, f"monitoring {model_name} v{version}",
        tags={"creditml.monitoring": "true", "creditml.model": model_name, "creditml.model_version": version,
              "creditml.task": bundle.task.name, "creditml.scored_file": str(scored_file)},
        metrics={"n_scored": float(len(scored)), "max_psi": float(table["psi"].max()),
                 **{f"psi.{_metric_name(r.item)}": float(r.psi) for r in table.itertuples()}},
        texts={"monitoring/psi.csv": table.to_csv(index=False)}, files={"monitoring": out})
    return MonitorResult(table, out, monitoring_run, model_name, version)


def _metric_name(item: str) -> str:
    # MLflow metric names allow letters, digits, _ - . / and space
    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", item)[:200]
