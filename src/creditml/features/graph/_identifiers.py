"""The instance's own identifiers: how many, and how long ago anyone first sighted them.

Columns ``identifier_age_days_{kind}`` (youngest identifier of that kind),
``identifier_age_days_min`` / ``_max`` (youngest / oldest of any kind) and
``identifiers`` (distinct identifiers); NaN ages for an instance without identifiers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from creditml.features.graph._arrays import distinct_per_group, group_max, group_min
from creditml.features.graph._edges import OwnIdentifiers
from creditml.features.graph._names import PREFIX, kind_label


def identifier_columns(own: OwnIdentifiers, kinds: Sequence[object], n_instances: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for code, kind in enumerate(kinds):
        m = own.kind == code
        out[f"{PREFIX}identifier_age_days_{kind_label(kind)}"] = group_min(
            own.row[m], own.age_days[m], n_instances, np.nan)
    out[f"{PREFIX}identifier_age_days_min"] = group_min(own.row, own.age_days, n_instances, np.nan)
    out[f"{PREFIX}identifier_age_days_max"] = group_max(own.row, own.age_days, n_instances, np.nan)
    out[f"{PREFIX}identifiers"] = distinct_per_group(own.row, own.val, n_instances).astype(np.float64)
    return out
