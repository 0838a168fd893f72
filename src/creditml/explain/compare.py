"""Challenger against champion: two models' probabilities on the SAME instances, compared.

Pure: arrays and series in, a frozen :class:`Comparison` out. The edge
(``creditml.registry.compare_inputs``) scores both models on the candidate's
out-of-time instances; nothing here knows where the numbers came from.

The maths, in the order the report shows it:

- **AUC of each** with its DeLong 95% interval (normal approximation, ``auc ± 1.96·se``).
- **Paired AUC difference** (candidate − champion) by DeLong's test for two correlated
  ROC curves (DeLong, DeLong & Clarke-Pearson 1988; the midrank algorithm of Sun & Xu
  2014): per model the structural components ``V10_i`` (share of negatives ranked below
  positive *i*, ties count one half) and ``V01_j`` (share of positives ranked above
  negative *j*); ``Var(Δ) = s²(V10ᵃ − V10ᵇ)/m + s²(V01ᵃ − V01ᵇ)/n`` with sample
  variances (denominator m − 1, n − 1); interval ``Δ ± 1.96·se``, two-sided
  ``p = 2·Φ(−|Δ|/se)``. A paired bootstrap (the same resampled rows scored by both
  models, percentile interval) is shown beside it as a check that needs no normality.
- **KS, calibration** (ECE over ten equal-frequency bins, mean predicted against the
  observed rate) of each: :func:`creditml.modeling.metrics.evaluate`.
- **Score shift**: ``d = p_candidate − p_champion`` per instance (mean, mean |d|,
  quantiles), and in scorecard points when a scale is given.
- **Swap set** at an approval rate *a*: each model approves the ``k = round(a·n)``
  instances it finds least risky (risk = probability of the bad outcome; ties at the
  cut-off broken by instance order). Swap-ins are approved by the candidate and declined
  by the champion, swap-outs the reverse; both sets have the same size because both
  models approve ``k``. Their observed bad rates say which model is right where they
  disagree.
- **PSI** of the candidate's probabilities against the champion's (bins from the
  champion's deciles). Quantile bins make it the same on probabilities or on points.
- **Feature overlap** by name, and the SHAP importance ranks (mean |SHAP| on the same
  instances) of features in either model's top list.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata

from creditml.model.scorecard import ScoreScale
from creditml.modeling.metrics import evaluate, psi

Z95 = float(norm.ppf(0.975))
SHIFT_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
TOP_RANKS = 20
NO_CHAMPION = "No champion to compare with"  # the start of the note when there is nothing to compare, not a failure
_BOOTSTRAP_CHUNK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class ModelFigures:
    """One model on the shared instances."""

    auc: float
    auc_low: float  # DeLong 95% interval
    auc_high: float
    ks: float
    ece: float
    brier: float
    mean_predicted: float
    observed_rate: float


@dataclass(frozen=True)
class AucDifference:
    """Candidate AUC − champion AUC on the same instances."""

    difference: float
    se: float  # DeLong standard error of the difference
    low: float  # DeLong 95% interval
    high: float
    z: float
    p_value: float  # two-sided; 1.0 when the two models rank every pair alike
    correlation: float  # DeLong correlation of the two AUC estimates
    bootstrap_low: float  # paired bootstrap 95% percentile interval (nan when skipped)
    bootstrap_high: float
    n_bootstrap: int

    @property
    def significant(self) -> bool:
        """The DeLong interval excludes 0."""
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class ScoreShift:
    """Candidate minus champion, per instance."""

    mean: float
    mean_abs: float
    std: float
    quantiles: dict[float, float]
    unit: str  # "probability" or "points"


@dataclass(frozen=True)
class SwapSet:
    """Who one model approves and the other declines, at the same approval rate."""

    approval_rate: float
    approved: int  # k, approved by each model
    both_approved: int
    both_declined: int
    swap_in: int  # approved by the candidate, declined by the champion
    swap_out: int  # approved by the champion, declined by the candidate
    swap_in_bad_rate: float  # observed; nan for an empty set
    swap_out_bad_rate: float
    candidate_approved_bad_rate: float
    champion_approved_bad_rate: float


@dataclass(frozen=True)
class RankChange:
    feature: str
    candidate_rank: int | None  # 1 = most important; None: not a feature of that model
    champion_rank: int | None
    change: int | None  # champion rank − candidate rank: positive = matters more to the candidate


@dataclass(frozen=True)
class FeatureOverlap:
    shared: list[str]
    only_candidate: list[str]
    only_champion: list[str]
    rank_changes: list[RankChange]  # empty without importances


@dataclass(frozen=True)
class Comparison:
    n: int
    positives: int
    candidate: ModelFigures
    champion: ModelFigures
    auc_difference: AucDifference
    shift: ScoreShift
    shift_points: ScoreShift | None
    swap: SwapSet
    psi: float
    overlap: FeatureOverlap | None


# --------------------------------------------------------------------------- the comparison


def compare_models(y_true, p_candidate, p_champion, *, approval_rate: float = 0.7, label_is_good: bool = False,
                   scale: ScoreScale | None = None, candidate_features: list[str] | None = None,
                   champion_features: list[str] | None = None, candidate_importance: pd.Series | None = None,
                   champion_importance: pd.Series | None = None, n_bootstrap: int = 1000,
                   seed: int = 0) -> Comparison:
    """Compare the candidate with the champion on the same instances (one row per instance).

    ``p_*`` are probabilities of the positive label. With ``label_is_good`` (e.g. cure)
    the bad outcome is label 0: risk is ``1 − p`` and bad rates count label 0.
    ``*_importance``: mean |SHAP| per feature on the same instances (any order).
    ``n_bootstrap=0`` skips the paired bootstrap.
    """
    y, a, b = _check(y_true, p_candidate, p_champion)
    if not 0 < approval_rate < 1:
        raise ValueError(f"compare_models: approval_rate must be in (0, 1), the share of instances approved; "
                         f"got {approval_rate}")
    risk_a, risk_b = (1 - a, 1 - b) if label_is_good else (a, b)
    bad = 1 - y if label_is_good else y
    diff = delong_difference(y, a, b)
    boot = paired_bootstrap_difference(y, a, b, n_bootstrap, seed) if n_bootstrap else (math.nan, math.nan)
    shift_points = None
    if scale is not None:
        shift_points = score_shift(scale.score(risk_a) - scale.score(risk_b), "points")
    overlap = None
    if candidate_features is not None and champion_features is not None:
        overlap = feature_overlap(candidate_features, champion_features, candidate_importance, champion_importance)
    return Comparison(
        n=len(y), positives=int(y.sum()),
        candidate=_figures(y, a, diff["auc_a"], diff["se_a"]),
        champion=_figures(y, b, diff["auc_b"], diff["se_b"]),
        auc_difference=AucDifference(
            difference=diff["difference"], se=diff["se"], low=diff["difference"] - Z95 * diff["se"],
            high=diff["difference"] + Z95 * diff["se"], z=diff["z"], p_value=diff["p_value"],
            correlation=diff["correlation"], bootstrap_low=boot[0], bootstrap_high=boot[1], n_bootstrap=n_bootstrap),
        shift=score_shift(a - b, "probability"), shift_points=shift_points,
        swap=swap_set(bad, risk_a, risk_b, approval_rate),
        psi=psi(risk_b, risk_a),
        overlap=overlap,
    )


def delong_difference(y_true, p_a, p_b) -> dict[str, float]:
    """DeLong's paired test of AUC(a) − AUC(b): AUCs, standard errors, z and two-sided p."""
    y, a, b = _check(y_true, p_a, p_b)
    pos = y == 1
    m, n = int(pos.sum()), int((~pos).sum())
    if m < 2 or n < 2:
        raise ValueError(f"DeLong's test needs at least 2 positives and 2 negatives; found {m} positives and "
                         f"{n} negatives among {len(y)} instances")
    aucs, v10, v01 = [], [], []
    for p in (a, b):
        tz = rankdata(p)
        tx, ty = rankdata(p[pos]), rankdata(p[~pos])
        aucs.append((tz[pos].sum() - m * (m + 1) / 2) / (m * n))
        v10.append((tz[pos] - tx) / n)  # per positive: share of negatives below it (ties one half)
        v01.append(1.0 - (tz[~pos] - ty) / m)  # per negative: share of positives above it
    s = np.cov(np.vstack(v10)) / m + np.cov(np.vstack(v01)) / n
    var = float(s[0, 0] + s[1, 1] - 2 * s[0, 1])
    se = math.sqrt(max(var, 0.0))
    difference = float(aucs[0] - aucs[1])
    if se > 0:
        z = difference / se
        p_value = float(2 * norm.sf(abs(z)))
    else:  # the two models order every (positive, negative) pair identically up to a constant
        z, p_value = (0.0, 1.0) if difference == 0 else (math.copysign(math.inf, difference), 0.0)
    denom = math.sqrt(s[0, 0] * s[1, 1])
    return {"auc_a": float(aucs[0]), "auc_b": float(aucs[1]), "se_a": math.sqrt(s[0, 0]),
            "se_b": math.sqrt(s[1, 1]), "difference": difference, "se": se, "z": float(z), "p_value": p_value,
            "correlation": float(s[0, 1] / denom) if denom > 0 else math.nan}


def paired_bootstrap_difference(y_true, p_a, p_b, n: int, seed: int) -> tuple[float, float]:
    """95% percentile interval of AUC(a) − AUC(b) over ``n`` resamples scored by both models.

    Resamples lacking a class are skipped (as in ``modeling.metrics.bootstrap_auc``).
    """
    if n < 1:
        raise ValueError(f"paired_bootstrap_difference: n (number of resamples) must be >= 1; got {n}")
    y, a, b = _check(y_true, p_a, p_b)
    size = len(y)
    groups = [rankdata(p, method="dense").astype(np.int64) - 1 for p in (a, b)]
    rng = np.random.default_rng(seed)
    rows_per_chunk = max(1, _BOOTSTRAP_CHUNK_ELEMENTS // size)
    diffs = []
    for start in range(0, n, rows_per_chunk):
        idx = rng.integers(0, size, size=(min(rows_per_chunk, n - start), size))
        auc_a, keep = _resampled_aucs(y, groups[0], idx)
        auc_b, _ = _resampled_aucs(y, groups[1], idx)
        diffs.append((auc_a - auc_b)[keep])
    diffs = np.concatenate(diffs)
    if diffs.size == 0:
        raise ValueError(f"paired_bootstrap_difference: all {n} resamples lacked a class ({int(y.sum())} "
                         f"positives among {size} instances); use more data or n_bootstrap=0")
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(low), float(high)


def score_shift(difference, unit: str) -> ScoreShift:
    d = np.asarray(difference, dtype=float)
    return ScoreShift(mean=float(d.mean()), mean_abs=float(np.abs(d).mean()), std=float(d.std()),
                      quantiles={q: float(v) for q, v in zip(SHIFT_QUANTILES, np.quantile(d, SHIFT_QUANTILES))},
                      unit=unit)


def swap_set(bad, risk_candidate, risk_champion, approval_rate: float) -> SwapSet:
    """Each model approves its ``round(approval_rate · n)`` least risky instances; who swaps."""
    bad = np.asarray(bad, dtype=float)
    n = len(bad)
    k = int(round(approval_rate * n))
    approved_a, approved_b = np.zeros(n, bool), np.zeros(n, bool)
    approved_a[np.argsort(risk_candidate, kind="stable")[:k]] = True
    approved_b[np.argsort(risk_champion, kind="stable")[:k]] = True

    def rate(mask: np.ndarray) -> float:
        return float(bad[mask].mean()) if mask.any() else math.nan

    swap_in, swap_out = approved_a & ~approved_b, approved_b & ~approved_a
    return SwapSet(approval_rate=approval_rate, approved=k, both_approved=int((approved_a & approved_b).sum()),
                   both_declined=int((~approved_a & ~approved_b).sum()), swap_in=int(swap_in.sum()),
                   swap_out=int(swap_out.sum()), swap_in_bad_rate=rate(swap_in), swap_out_bad_rate=rate(swap_out),
                   candidate_approved_bad_rate=rate(approved_a), champion_approved_bad_rate=rate(approved_b))


def feature_overlap(candidate: list[str], champion: list[str], candidate_importance: pd.Series | None = None,
                    champion_importance: pd.Series | None = None, top: int = TOP_RANKS) -> FeatureOverlap:
    """Shared and own features; with importances, the ranks of the union of both top-``top`` lists.

    Rows are ordered by the size of the rank change, largest first; a feature only one
    model has counts as ranked last (number of its features + 1) by the other, so a top
    feature the other model lacks comes first.
    """
    champion_set, candidate_set = set(champion), set(candidate)
    changes: list[RankChange] = []
    if candidate_importance is not None and champion_importance is not None:
        rank_a, rank_b = _ranks(candidate_importance), _ranks(champion_importance)
        chosen = [f for f, r in rank_a.items() if r <= top] + [f for f, r in rank_b.items() if r <= top]
        for feature in dict.fromkeys(chosen):
            ra, rb = rank_a.get(feature), rank_b.get(feature)
            changes.append(RankChange(feature, ra, rb, rb - ra if ra is not None and rb is not None else None))
        last_a, last_b = len(rank_a) + 1, len(rank_b) + 1

        def size(c: RankChange) -> int:
            return abs((c.champion_rank or last_b) - (c.candidate_rank or last_a))

        changes.sort(key=lambda c: (-size(c), min(r for r in (c.candidate_rank, c.champion_rank) if r is not None)))
    return FeatureOverlap(shared=[f for f in candidate if f in champion_set],
                          only_candidate=[f for f in candidate if f not in champion_set],
                          only_champion=[f for f in champion if f not in candidate_set], rank_changes=changes)


# --------------------------------------------------------------------------- helpers


def _figures(y: np.ndarray, p: np.ndarray, auc: float, se: float) -> ModelFigures:
    m = evaluate(y, p, n_bootstrap=0)
    return ModelFigures(auc=auc, auc_low=auc - Z95 * se, auc_high=auc + Z95 * se, ks=m.ks, ece=m.ece, brier=m.brier,
                        mean_predicted=float(p.mean()), observed_rate=float(y.mean()))


def _ranks(importance: pd.Series) -> dict[str, int]:
    ordered = importance.sort_values(ascending=False, kind="stable")
    return {str(f): i for i, f in enumerate(ordered.index, start=1)}


def _resampled_aucs(y: np.ndarray, groups: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AUC of each resample (rows of ``idx``) by Mann–Whitney counts over tie groups; and which had both classes."""
    rows, size = idx.shape
    n_groups = int(groups.max()) + 1
    cell = (groups[idx] + n_groups * np.arange(rows)[:, None]).ravel()
    positives = np.bincount(cell, weights=y[idx].ravel(), minlength=rows * n_groups).reshape(rows, n_groups)
    negatives = np.bincount(cell, minlength=rows * n_groups).reshape(rows, n_groups) - positives
    negatives_below = np.cumsum(negatives, axis=1) - negatives
    u = (positives * (negatives_below + 0.5 * negatives)).sum(axis=1)
    n_pos = positives.sum(axis=1)
    keep = (n_pos > 0) & (n_pos < size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return u / (n_pos * (size - n_pos)), keep


def _check(y_true, p_a, p_b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float)
    a, b = np.asarray(p_a, dtype=float), np.asarray(p_b, dtype=float)
    if not (y.ndim == a.ndim == b.ndim == 1) or not (len(y) == len(a) == len(b)):
        raise ValueError(f"compare: labels, candidate and champion probabilities must be 1-D and of one length "
                         f"(one row per shared instance); got shapes {y.shape}, {a.shape}, {b.shape}")
    if len(y) == 0:
        raise ValueError("compare: no shared instances (0 rows); score both models on the same instances first")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"compare: labels must be 0 or 1; found {np.unique(y[~np.isin(y, (0.0, 1.0))])[:5].tolist()}")
    for name, p in (("candidate", a), ("champion", b)):
        bad = ~np.isfinite(p) | (p < 0) | (p > 1)
        if bad.any():
            raise ValueError(f"compare: the {name}'s probabilities must be in [0, 1]; {int(bad.sum())} of {len(p)} "
                             f"are NaN or outside; score every shared instance with the {name}")
    positives = int(y.sum())
    if positives in (0, len(y)):
        raise ValueError(f"compare: AUC needs both classes; the shared instances hold {positives} positives "
                         f"among {len(y)}")
    return y, a, b


# --------------------------------------------------------------------------- report inputs


@dataclass
class ChampionInputs:
    """The champion scored on the candidate's out-of-time instances (loaded by the registry edge).

    ``probabilities``: index = instance id (the candidate's out-of-time ids); the
    champion's probability of the positive label. ``sample``: the champion's raw feature
    values on those instances (at least the candidate's SHAP sample), for its SHAP ranks.
    """

    version: str
    run_id: str
    probabilities: pd.Series
    features: list[str]
    categories: dict[str, list[str]]
    booster: object  # xgb.Booster
    best_iteration: int
    sample: pd.DataFrame
    descriptions: dict[str, str] = field(default_factory=dict)
