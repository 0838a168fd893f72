"""Report figures for model metrics; presentation only, the maths lives in ``metrics``.

Figures are built with ``matplotlib.figure.Figure`` directly (no pyplot state, no GUI
backend) and turned into inline SVG for HTML reports with ``figure_to_svg``.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from creditml.modeling.metrics import SplitMetrics, roc_auc
from creditml.model.scorecard import ScoreScale

FIGSIZE = (5.0, 3.5)
_SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "creditml"}  # text stays text; ids reproducible


def calibration_plot(metrics_by_split: Mapping[str, SplitMetrics]) -> Figure:
    """Reliability curve per split (observed rate against mean predicted), with the diagonal."""
    _require_splits(metrics_by_split, "calibration_plot")
    fig, ax = _new_axes("Calibration", "Mean predicted probability", "Observed rate")
    top = 0.0
    for split, m in metrics_by_split.items():
        x = [b["mean_predicted"] for b in m.reliability]
        y = [b["observed_rate"] for b in m.reliability]
        ax.plot(x, y, marker="o", markersize=3, label=f"{split} (ECE {m.ece:.3f})")
        top = max(top, *x, *y)
    top = min(1.0, top * 1.05) or 1.0
    ax.plot([0, top], [0, top], linestyle="--", color="grey", linewidth=1, label="perfect")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.legend(fontsize=8)
    return fig


def lift_plot(metrics_by_split: Mapping[str, SplitMetrics]) -> Figure:
    """Cumulative gains: share of positives captured by the riskiest deciles, per split."""
    _require_splits(metrics_by_split, "lift_plot")
    fig, ax = _new_axes("Cumulative gains by decile", "Share of population (riskiest first)",
                        "Share of positives captured")
    for split, m in metrics_by_split.items():
        population = np.cumsum([d["n"] for d in m.deciles]) / m.n
        gain = [d["cumulative_gain"] for d in m.deciles]
        top_lift = m.deciles[0]["lift"]
        ax.plot(np.r_[0.0, population], np.r_[0.0, gain], marker="o", markersize=3,
                label=f"{split} (top-decile lift {top_lift:.1f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="random")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    return fig


def roc_plot(y_by_split: Mapping[str, np.ndarray], p_by_split: Mapping[str, np.ndarray]) -> Figure:
    """ROC curve per split, AUC in the legend."""
    _require_splits(y_by_split, "roc_plot")
    if set(y_by_split) != set(p_by_split):
        raise ValueError(
            f"roc_plot: y_by_split and p_by_split must name the same splits; got {sorted(y_by_split)} "
            f"and {sorted(p_by_split)}"
        )
    fig, ax = _new_axes("ROC", "False positive rate", "True positive rate")
    for split, y in y_by_split.items():
        p = p_by_split[split]
        auc = roc_auc(y, p)  # validates y and p with clear messages
        fpr, tpr, _ = roc_curve(np.asarray(y), np.asarray(p))
        ax.plot(fpr, tpr, label=f"{split} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="random")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def score_distribution_plot(scores_by_split: Mapping[str, np.ndarray], *, bins: int = 30,
                            scale: ScoreScale | None = None) -> Figure:
    """Histogram of scores per split on shared bins; band bounds of ``scale`` as dotted lines."""
    _require_splits(scores_by_split, "score_distribution_plot")
    arrays = {split: np.asarray(s, dtype=float) for split, s in scores_by_split.items()}
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays.values()])
    if finite.size == 0:
        raise ValueError("score_distribution_plot: no finite scores in any split; nothing to plot")
    edges = np.histogram_bin_edges(finite, bins=bins)
    fig, ax = _new_axes("Score distribution", "Score", "Share of split")
    for split, a in arrays.items():
        a = a[np.isfinite(a)]
        ax.hist(a, bins=edges, weights=np.full(a.size, 1.0 / max(a.size, 1)), histtype="step",
                linewidth=1.5, label=f"{split} (n={a.size:,})")
    if scale is not None:
        for bound, label in scale.bands:
            if edges[0] < bound < edges[-1]:
                ax.axvline(bound, color="grey", linestyle=":", linewidth=1)
                ax.annotate(label, (bound, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -10),
                            textcoords="offset points", fontsize=7, color="grey")
    ax.legend(fontsize=8)
    return fig


def figure_to_svg(fig: Figure) -> str:
    """The figure as inline SVG text (no XML prolog) for HTML reports; closes the figure."""
    buf = io.StringIO()
    try:
        with matplotlib.rc_context(_SVG_RC):
            fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    finally:
        _close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _new_axes(title: str, xlabel: str, ylabel: str):
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(True, alpha=0.3)
    return fig, ax


def _require_splits(by_split: Mapping, where: str) -> None:
    if not by_split:
        raise ValueError(f"{where}: no splits given; pass a dict like {{'train': ..., 'test': ...}}")


def _close(fig: Figure) -> None:
    # A figure made through pyplot stays registered there until closed; ours never are.
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close(fig)
    fig.clear()
