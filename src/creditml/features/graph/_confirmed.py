"""Confirmed positives around the instance, counting only what is known at the cutoff.

An application counts as confirmed from its first ``known_at`` on
(``known_at <= cutoff``). Columns:

* ``shared_confirmed``: direct neighbours (sharing any identifier of any kind, the
  group-ignored kinds included) already confirmed; a lower bound past the cap on very
  common identifiers;
* ``group_confirmed`` / ``group_confirmed_share``: the connected group's other
  applications already confirmed, as a count and as a share of the group's other
  applications (0 when there are none).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditml.features.graph._inputs import NAT, NEVER, Applications, Instances, to_ns
from creditml.features.graph._names import PREFIX
from creditml.features.graph._pairs import PairChunk


def confirmed_at(confirmations: pd.DataFrame | None, apps: Applications) -> np.ndarray:
    """Per application, its first ``known_at`` (int64 ns); :data:`NEVER` if never confirmed.

    Confirmations of unknown applications or without a time are ignored.
    """
    first = np.full(apps.n, NEVER, dtype=np.int64)
    if confirmations is not None and len(confirmations):
        app = apps.index.get_indexer(confirmations["instance_id"])
        known = to_ns(confirmations["known_at"], "confirmations", "known_at")
        ok = (app >= 0) & (known != NAT)
        np.minimum.at(first, app[ok], known[ok])
    return first


class ConfirmedNeighbours:
    """Accumulates ``shared_confirmed`` over pair chunks."""

    def __init__(self, first_confirmed: np.ndarray, instances: Instances):
        self.first_confirmed, self.instances = first_confirmed, instances
        self.count = np.zeros(instances.n, dtype=np.int64)

    def add(self, pairs: PairChunk) -> None:
        known = self.first_confirmed[pairs.app] <= self.instances.cutoff[pairs.row]
        self.count += np.bincount(pairs.row[known], minlength=self.instances.n)

    def columns(self) -> dict[str, np.ndarray]:
        return {f"{PREFIX}shared_confirmed": self.count}


def group_confirmed_columns(groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """From :func:`creditml.features.graph._groups.group_sizes`: the group's confirmed others."""
    others = groups["apps"] - 1
    return {
        f"{PREFIX}group_confirmed": groups["confirmed_others"],
        f"{PREFIX}group_confirmed_share": np.where(others > 0, groups["confirmed_others"] / np.maximum(others, 1),
                                                   0.0),
    }
