"""Probability to scorecard points and risk bands (points-to-double-odds scaling).

``score = offset + factor * ln(odds_good)`` with ``odds_good = (1 - p) / p``,
``factor = pdo / ln 2`` and ``offset = base_score - factor * ln(base_odds)``: a higher
score means lower risk, ``base_score`` points sit at ``base_odds`` good:bad, and every
``pdo`` points double the odds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from creditml.config import ScoringSettings

P_CLIP = 1e-6  # keeps scores finite for p of exactly 0 or 1

DEFAULT_BANDS: tuple[tuple[float, str], ...] = (
    (680.0, "A"),
    (640.0, "B"),
    (600.0, "C"),
    (560.0, "D"),
    (-math.inf, "E"),
)


@dataclass(frozen=True)
class ScoreScale:
    """Scaling of probabilities to points, and bands by lower score bound.

    ``bands`` lists ``(lower_bound, label)`` from best to worst; a score gets the first
    band whose bound it reaches, and the last band also takes every score below its
    bound (so ``-inf`` and ``-1e9`` as last bound behave alike).
    """

    base_score: float = 600.0
    base_odds: float = 50.0
    pdo: float = 20.0
    bands: tuple[tuple[float, str], ...] = DEFAULT_BANDS

    def __post_init__(self) -> None:
        if not math.isfinite(self.base_score):
            raise ValueError(f"ScoreScale.base_score must be finite; got {self.base_score}")
        if not (self.base_odds > 0 and math.isfinite(self.base_odds)):
            raise ValueError(f"ScoreScale.base_odds must be a positive good:bad odds (e.g. 50); got {self.base_odds}")
        if not (self.pdo > 0 and math.isfinite(self.pdo)):
            raise ValueError(f"ScoreScale.pdo (points to double the odds) must be positive; got {self.pdo}")
        bands = tuple((float(bound), str(label)) for bound, label in self.bands)
        object.__setattr__(self, "bands", bands)
        if not bands:
            raise ValueError("ScoreScale.bands is empty; give (lower_bound, label) pairs, e.g. ((600, 'A'), (-inf, 'B'))")
        bounds = [b for b, _ in bands]
        if any(later >= earlier for earlier, later in zip(bounds, bounds[1:])):
            raise ValueError(f"ScoreScale.bands: lower bounds must strictly decrease from best to worst band; got {bounds}")
        labels = [label for _, label in bands]
        if len(set(labels)) != len(labels):
            raise ValueError(f"ScoreScale.bands: labels must be unique; got {labels}")

    @classmethod
    def from_settings(cls, settings: ScoringSettings) -> ScoreScale:
        """From the ``scoring`` config block, whose ``bands`` map label -> lower bound."""
        bands = settings.bands.items() if isinstance(settings.bands, Mapping) else settings.bands
        ordered = sorted(((float(bound), label) for label, bound in bands), key=lambda b: -b[0])
        return cls(base_score=settings.base_score, base_odds=settings.base_odds, pdo=settings.pdo,
                   bands=tuple(ordered))

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def score(self, p) -> np.ndarray:
        """Points for probabilities of the bad outcome; ``p`` is clipped to [1e-6, 1 - 1e-6]."""
        p = np.asarray(p, dtype=float)
        n_bad = int((np.isnan(p) | (p < 0) | (p > 1)).sum())
        if n_bad:
            raise ValueError(f"ScoreScale.score: p must be probabilities in [0, 1]; found {n_bad} NaN or out-of-range values")
        p = np.clip(p, P_CLIP, 1.0 - P_CLIP)
        return self.offset + self.factor * np.log((1.0 - p) / p)

    def probability(self, score) -> np.ndarray:
        """Inverse of ``score``: the probability of the bad outcome at these points."""
        score = np.asarray(score, dtype=float)
        # 1 / (1 + odds_good), written with logaddexp so extreme scores do not overflow.
        return np.exp(-np.logaddexp(0.0, (score - self.offset) / self.factor))

    def band(self, score) -> np.ndarray:
        """Band label of each score (array of str)."""
        score = np.asarray(score, dtype=float)
        n_nan = int(np.isnan(score).sum())
        if n_nan:
            raise ValueError(f"ScoreScale.band: found {n_nan} NaN scores; score every instance before banding")
        # The worst band's own bound is skipped: it takes every score below the next bound.
        ascending_bounds = np.array([b for b, _ in reversed(self.bands[:-1])])
        ascending_labels = np.array([label for _, label in reversed(self.bands)])
        return ascending_labels[np.searchsorted(ascending_bounds, score, side="right")]
