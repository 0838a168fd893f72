"""Split metrics a credit team reads: discrimination, calibration, deciles, task extras.

Pure functions on arrays: no I/O, no tracking. ``evaluate`` returns a frozen
``SplitMetrics``; ``SplitMetrics.as_flat_dict`` turns it into scalars for logging.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score

from creditml import stats

TASK_KINDS = ("default", "fraud", "collection")
CALIBRATION_BINS = 10
SCORE_GROUPS = 10
FRAUD_ALERT_RATES = {"1pct": 0.01, "5pct": 0.05}
# Bootstrap works on (resamples x n) arrays; chunk so one array stays near this size.
_BOOTSTRAP_CHUNK_ELEMENTS = 4_000_000

_SCALARS = ("n", "positives", "label_rate", "auc", "auc_low", "auc_high", "gini", "ks",
            "pr_auc", "brier", "log_loss", "ece")


@dataclass(frozen=True)
class SplitMetrics:
    """Everything a credit team reads for one split (train, validation, test, ...)."""

    n: int
    positives: int
    label_rate: float
    auc: float
    auc_low: float  # bootstrap 95% percentile interval, seeded
    auc_high: float
    gini: float
    ks: float
    pr_auc: float
    brier: float
    log_loss: float
    ece: float  # expected calibration error over equal-frequency bins
    reliability: list[dict] = field(default_factory=list)  # per bin: mean_predicted, observed_rate, n
    deciles: list[dict] = field(default_factory=list)  # per score decile, 1 = riskiest
    extra: dict[str, float] = field(default_factory=dict)  # task-specific, see ``evaluate``

    def as_flat_dict(self, prefix: str) -> dict[str, float]:
        """Scalars only, keyed ``{prefix}_{name}`` (e.g. ``test_auc``), for MLflow logging."""
        head = f"{prefix}_" if prefix else ""
        values = {name: getattr(self, name) for name in _SCALARS} | self.extra
        return {head + name: float(value) for name, value in values.items()}


def evaluate(y_true, p, *, task_kind: str = "default", n_bootstrap: int = 200, seed: int = 0) -> SplitMetrics:
    """Compute ``SplitMetrics`` for one split.

    ``p`` is the predicted probability of the positive label (default, fraud, cure).
    Deciles rank by ``p`` descending, so decile 1 holds the highest probabilities.
    ``extra`` depends on ``task_kind``:

    - ``"default"``: ``bad_rate_top_decile``, ``bad_rate_bottom_half`` (the n // 2 lowest ``p``);
    - ``"fraud"``: ``recall_at_1pct``, ``precision_at_1pct``, ``recall_at_5pct``,
      ``precision_at_5pct``, alerting the ceil(k% * n) highest ``p``;
    - ``"collection"``: ``cure_rate_top_decile``, ``cure_rate_overall``, ``top_decile_lift``.

    ``n_bootstrap=0`` skips the AUC interval (``auc_low``/``auc_high`` are NaN).
    """
    if task_kind not in TASK_KINDS:
        raise ValueError(f"task_kind must be one of {', '.join(map(repr, TASK_KINDS))}; got {task_kind!r}")
    if n_bootstrap < 0:
        raise ValueError(f"n_bootstrap must be >= 0 (0 skips the AUC interval); got {n_bootstrap}")
    y, p = _check_inputs(y_true, p, "evaluate")
    auc = roc_auc(y, p)
    auc_low, auc_high = bootstrap_auc(y, p, n_bootstrap, seed) if n_bootstrap else (np.nan, np.nan)
    reliability = _reliability(y, p, CALIBRATION_BINS)
    deciles = _deciles(y, p, SCORE_GROUPS)
    return SplitMetrics(
        n=len(y),
        positives=int(y.sum()),
        label_rate=float(y.mean()),
        auc=auc,
        auc_low=auc_low,
        auc_high=auc_high,
        gini=2.0 * auc - 1.0,
        ks=ks_statistic(y, p),
        pr_auc=float(average_precision_score(y, p)),
        brier=float(np.mean((p - y) ** 2)),
        log_loss=_log_loss(y, p),
        ece=float(sum(b["n"] * abs(b["mean_predicted"] - b["observed_rate"]) for b in reliability) / len(y)),
        reliability=reliability,
        deciles=deciles,
        extra=_task_extra(task_kind, y, p, deciles),
    )


def roc_auc(y_true, p) -> float:
    """Area under the ROC curve via the Mann–Whitney rank formula (ties count one half)."""
    y, p = _check_inputs(y_true, p, "roc_auc")
    return float(stats.auc_from_ranks(rankdata(p), y))


def bootstrap_auc(y_true, p, n: int, seed: int) -> tuple[float, float]:
    """95% percentile interval of the AUC over ``n`` seeded bootstrap resamples.

    Resample indices are drawn as one array (in chunks to bound memory). Each
    resample's AUC is the Mann–Whitney count over tie groups of ``p`` (dense ranks of
    the full split, computed once), so no resample is sorted or ranked again.
    Resamples lacking a class are skipped.
    """
    if n < 1:
        raise ValueError(f"bootstrap_auc: n (number of resamples) must be >= 1; got {n}")
    y, p = _check_inputs(y_true, p, "bootstrap_auc")
    size = len(y)
    groups = rankdata(p, method="dense").astype(np.int64) - 1  # tie group of each instance, by ascending p
    n_groups = int(groups.max()) + 1
    rng = np.random.default_rng(seed)
    rows_per_chunk = max(1, _BOOTSTRAP_CHUNK_ELEMENTS // size)
    aucs = []
    for start in range(0, n, rows_per_chunk):
        rows = min(rows_per_chunk, n - start)
        idx = rng.integers(0, size, size=(rows, size))
        cell = (groups[idx] + n_groups * np.arange(rows)[:, None]).ravel()
        positives = np.bincount(cell, weights=y[idx].ravel(), minlength=rows * n_groups).reshape(rows, n_groups)
        negatives = np.bincount(cell, minlength=rows * n_groups).reshape(rows, n_groups) - positives
        n_pos = positives.sum(axis=1)
        keep = (n_pos > 0) & (n_pos < size)
        aucs.append(stats.auc_from_counts(positives[keep], negatives[keep]))
    aucs = np.concatenate(aucs)
    if aucs.size == 0:
        raise ValueError(
            f"bootstrap_auc: all {n} resamples lacked a class ({int(y.sum())} positives among {size} "
            "instances); use more data or n_bootstrap=0"
        )
    low, high = np.percentile(aucs, [2.5, 97.5])
    return float(low), float(high)


def ks_statistic(y_true, p) -> float:
    """Kolmogorov–Smirnov: largest gap between the score CDFs of positives and negatives."""
    y, p = _check_inputs(y_true, p, "ks_statistic", metric="KS")
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    tpr = np.cumsum(y_sorted) / y_sorted.sum()
    fpr = np.cumsum(1.0 - y_sorted) / (len(y) - y_sorted.sum())
    # Only compare at distinct thresholds: tied scores cannot be separated.
    last_of_tie = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    return float(np.max(np.abs(tpr[last_of_tie] - fpr[last_of_tie])))


def psi(expected, actual, bins: int = 10) -> float:
    """Population stability index of ``actual`` scores against ``expected`` scores.

    :func:`creditml.stats.psi` (bins from the quantiles of ``expected``, empty bins
    smoothed), for scores only: NaN or infinite scores are an error here. Rule of thumb:
    < 0.1 stable, > 0.25 shifted.
    """
    e = _check_scores(expected, "psi: expected")
    a = _check_scores(actual, "psi: actual")
    return stats.psi(e, a, bins)


# --- helpers -------------------------------------------------------------------------


def _check_inputs(y_true, p, where: str, metric: str = "AUC") -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true)
    p = np.asarray(p, dtype=float)
    for name, arr in (("y_true", y), ("p", p)):
        if arr.ndim != 1:
            raise ValueError(f"{where}: {name} must be 1-D; got shape {arr.shape}")
    if len(y) != len(p):
        raise ValueError(f"{where}: y_true has {len(y)} values but p has {len(p)}; pass one probability per instance")
    if len(y) == 0:
        raise ValueError(f"{where}: the split is empty (0 instances)")
    try:
        y_float = y.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: y_true must hold only 0 and 1; found {np.unique(y.astype(str))[:5].tolist()}") from None
    bad_labels = np.unique(y_float[~np.isin(y_float, (0.0, 1.0))])
    if bad_labels.size:
        raise ValueError(f"{where}: y_true must hold only 0 and 1; found {bad_labels[:5].tolist()}")
    n_nan = int(np.isnan(p).sum())
    outside = p[(p < 0) | (p > 1)]
    if n_nan or outside.size:
        found = f"{n_nan} NaN and {outside.size} outside [0, 1]"
        if outside.size:
            found += f" (from {outside.min():g} to {outside.max():g})"
        raise ValueError(f"{where}: p must be probabilities in [0, 1]; found {found}")
    positives = int(y_float.sum())
    if positives in (0, len(y)):
        raise ValueError(f"{metric} needs both classes; the split has {positives} positives among {len(y)} instances")
    return y_float, p


def _check_scores(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of scores; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds {int((~np.isfinite(arr)).sum())} NaN/infinite scores; drop or impute them")
    return arr


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    eps = np.finfo(float).eps  # same clipping as sklearn.metrics.log_loss
    q = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def _reliability(y: np.ndarray, p: np.ndarray, bins: int) -> list[dict]:
    """Equal-frequency bins by ascending ``p`` (ties kept in input order)."""
    order = np.argsort(p, kind="stable")
    return [
        {"mean_predicted": float(p[idx].mean()), "observed_rate": float(y[idx].mean()), "n": int(len(idx))}
        for idx in np.array_split(order, min(bins, len(p)))
    ]


def _deciles(y: np.ndarray, p: np.ndarray, groups: int) -> list[dict]:
    """Score groups by descending ``p``: group 1 is the riskiest (highest probability)."""
    order = np.argsort(-p, kind="stable")
    total_positives, overall_rate = y.sum(), y.mean()
    rows, seen, seen_positives = [], 0, 0.0
    for i, idx in enumerate(np.array_split(order, min(groups, len(p))), start=1):
        positives = y[idx].sum()
        seen, seen_positives = seen + len(idx), seen_positives + positives
        rate = positives / len(idx)
        rows.append({
            "decile": i,
            "n": int(len(idx)),
            "positives": int(positives),
            "rate": float(rate),
            "lift": float(rate / overall_rate),
            "cumulative_gain": float(seen_positives / total_positives),
            "cumulative_lift": float(seen_positives / seen / overall_rate),
            "p_min": float(p[idx].min()),
            "p_max": float(p[idx].max()),
        })
    return rows


def _task_extra(task_kind: str, y: np.ndarray, p: np.ndarray, deciles: list[dict]) -> dict[str, float]:
    top = deciles[0]
    if task_kind == "collection":
        return {"cure_rate_top_decile": top["rate"], "cure_rate_overall": float(y.mean()),
                "top_decile_lift": top["lift"]}
    y_by_risk = y[np.argsort(-p, kind="stable")]
    if task_kind == "fraud":
        extra = {}
        for key, rate in FRAUD_ALERT_RATES.items():
            alerts = max(1, int(np.ceil(rate * len(y) - 1e-9)))
            caught = y_by_risk[:alerts].sum()
            extra[f"recall_at_{key}"] = float(caught / y.sum())
            extra[f"precision_at_{key}"] = float(caught / alerts)
        return extra
    return {"bad_rate_top_decile": top["rate"], "bad_rate_bottom_half": float(y_by_risk[len(y) - len(y) // 2:].mean())}
