"""Bursts: other applications sharing any identifier, made in the last ``d`` days.

Column ``burst_apps_{d}d`` per burst window: distinct other applications sharing an
identifier (any kind) with the instance whose *application* time lies in
``(cutoff - d days, cutoff]``. Exact unless more applications than the cap on very
common identifiers joined one identifier inside the window.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from creditml.features.graph._inputs import NS_PER_DAY, Applications, Instances
from creditml.features.graph._names import PREFIX
from creditml.features.graph._pairs import PairChunk


class BurstCounts:
    """Accumulates the burst counts over pair chunks; ``columns`` gives the features."""

    def __init__(self, burst_days: Sequence[int], apps: Applications, instances: Instances):
        self.apps, self.instances = apps, instances
        self.counts = {int(d): np.zeros(instances.n, dtype=np.int64) for d in burst_days}

    def add(self, pairs: PairChunk) -> None:
        made_at = self.apps.time[pairs.app]
        cutoff = self.instances.cutoff[pairs.row]
        for days, acc in self.counts.items():
            recent = made_at > cutoff - days * NS_PER_DAY
            acc += np.bincount(pairs.row[recent], minlength=self.instances.n)

    def columns(self) -> dict[str, np.ndarray]:
        return {f"{PREFIX}burst_apps_{days}d": acc for days, acc in self.counts.items()}
