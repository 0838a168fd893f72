"""SHAP figures of the report; presentation only, the maths lives in ``shap_values``.

Scatter-heavy figures (thousands of points) are embedded as PNG: as SVG each point is
an element and a page with ten of them would weigh megabytes. Figures are built on
``matplotlib.figure.Figure`` directly (no pyplot state).
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from creditml.modeling.plots import _close

PNG_DPI = 96
MAX_CATEGORIES = 12  # dependence plots group the rarest levels beyond this into "other"
LABEL_CHARS = 60
_CMAP = colormaps["coolwarm"]
_MISSING_COLOUR = "#9a9a9a"


def short(name: str, limit: int = LABEL_CHARS) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def figure_to_png_data_uri(fig: Figure, dpi: int = PNG_DPI) -> str:
    """``data:image/png;base64,...`` of the figure; closes the figure."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    finally:
        _close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _value_colours(values: pd.Series) -> np.ndarray:
    """Colour by the value's position between its 5th and 95th percentiles; grey if missing or categorical."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float) if pd.api.types.is_numeric_dtype(values) \
        else np.full(len(values), np.nan)
    colours = np.tile(np.array([[0.6, 0.6, 0.6, 1.0]]), (len(x), 1))
    ok = np.isfinite(x)
    if ok.any():
        lo, hi = np.nanpercentile(x[ok], [5, 95])
        if hi <= lo:
            lo, hi = np.nanmin(x[ok]), np.nanmax(x[ok])
        norm = Normalize(lo, hi if hi > lo else lo + 1, clip=True)
        colours[ok] = _CMAP(norm(x[ok]))
    return colours


def _swarm_offsets(s: np.ndarray, rng: np.random.Generator, width: float = 0.8) -> np.ndarray:
    """Vertical jitter proportional to how crowded each point's neighbourhood is."""
    if len(s) == 0 or np.ptp(s) == 0:
        return rng.uniform(-width / 2, width / 2, len(s)) * 0.3
    counts, edges = np.histogram(s, bins=60)
    crowd = counts[np.clip(np.searchsorted(edges, s, side="right") - 1, 0, len(counts) - 1)] / counts.max()
    return (rng.uniform(-0.5, 0.5, len(s)) * width * np.sqrt(crowd))


def beeswarm_figure(values: np.ndarray, X: pd.DataFrame, names: list[str], seed: int = 0) -> Figure:
    """One row per feature (``names`` top first): each instance's SHAP value, coloured by the feature value.

    ``values`` holds the SHAP columns of ``names`` in that order.
    """
    rng = np.random.default_rng(seed)
    height = 0.42 * len(names) + 1.3
    fig = Figure(figsize=(9.0, height), layout="constrained")
    ax = fig.add_subplot()
    for i, name in enumerate(names):
        y = len(names) - 1 - i
        s = values[:, i]
        ax.scatter(s, y + _swarm_offsets(s, rng), c=_value_colours(X[name]), s=6, linewidths=0, alpha=0.8,
                   rasterized=True)
    ax.axvline(0, color="#555", linewidth=0.8)
    ax.set_yticks(range(len(names)), [short(n) for n in reversed(names)], fontsize=8)
    ax.set_xlabel("SHAP value (contribution to the log-odds of the positive label)", fontsize=9)
    ax.set_title("Each dot is one training instance; red = high feature value, blue = low, grey = missing or categorical",
                 fontsize=9)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    mappable = colormaps["coolwarm"]
    cbar = fig.colorbar(_scalar_mappable(mappable), ax=ax, ticks=[0, 1], aspect=40, pad=0.01)
    cbar.ax.set_yticklabels(["low", "high"], fontsize=8)
    cbar.set_label("feature value", fontsize=8)
    return fig


def _scalar_mappable(cmap):
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(norm=Normalize(0, 1), cmap=cmap)


def dependence_figure(name: str, x: pd.Series, s: np.ndarray, categorical: bool, seed: int = 0) -> Figure:
    """Feature value against its SHAP value; categorical levels as jittered columns."""
    rng = np.random.default_rng(seed)
    fig = Figure(figsize=(4.6, 3.1), layout="constrained")
    ax = fig.add_subplot()
    missing = x.isna().to_numpy()
    if categorical:
        levels = x.astype(object).where(~missing, "(missing)").astype(str)
        counts = levels.value_counts()
        kept = list(counts.index[:MAX_CATEGORIES])
        if len(counts) > MAX_CATEGORIES:
            levels = levels.where(levels.isin(kept), "other")
            kept = kept + ["other"]
        position = {level: i for i, level in enumerate(kept)}
        pos = levels.map(position).to_numpy(dtype=float)
        ax.scatter(pos + rng.uniform(-0.3, 0.3, len(pos)), s, s=6, linewidths=0, alpha=0.5, color="#3465a4",
                   rasterized=True)
        ax.set_xticks(range(len(kept)), [short(k, 14) for k in kept], rotation=40, ha="right", fontsize=7)
    else:
        xv = pd.to_numeric(x, errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(xv)
        ax.scatter(xv[ok], s[ok], s=6, linewidths=0, alpha=0.5, color="#3465a4", rasterized=True)
        if ok.any() and np.nanmax(np.abs(xv[ok])) > 0:
            lo, hi = np.percentile(xv[ok], [0.5, 99.5])
            if hi > lo:
                pad = (hi - lo) * 0.03
                ax.set_xlim(lo - pad, hi + pad)
        ax.tick_params(axis="x", labelsize=8)
    n_missing = int(missing.sum())
    note = f" ({n_missing} missing not shown)" if n_missing and not categorical else ""
    ax.set_xlabel("feature value" + note, fontsize=8)
    ax.set_ylabel("SHAP value", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    ax.axhline(0, color="#555", linewidth=0.7)
    ax.grid(True, alpha=0.3)
    ax.set_title(short(name, 55), fontsize=8)
    return fig


def importance_figure(importance: pd.Series) -> Figure:
    """Horizontal bars of mean |SHAP|, largest on top."""
    fig = Figure(figsize=(7.5, 0.3 * len(importance) + 0.9), layout="constrained")
    ax = fig.add_subplot()
    names = list(importance.index)[::-1]
    ax.barh(range(len(names)), importance.to_numpy()[::-1], color="#3465a4")
    ax.set_yticks(range(len(names)), [short(n, 50) for n in names], fontsize=9)
    ax.set_xlabel("mean |SHAP value|", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    return fig
