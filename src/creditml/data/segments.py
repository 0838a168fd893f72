"""Values of declared columns for a set of instances, read from the target table or a table above it.

Segments (channel, broker, product) split the out-of-time window in the review report.
A column on a parent table is reached by following foreign keys up from the target
(the first path found, breadth first).
"""

from __future__ import annotations

import pandas as pd

from creditml.errors import ConfigError
from creditml.data.loading import Dataset


def column_values(dataset: Dataset, target: str, ids: pd.Index, columns: list[str]) -> pd.DataFrame:
    """One column per ``table.column`` in ``columns``, indexed like ``ids`` (missing rows give missing values)."""
    cfg = dataset.config
    paths = _paths_up(dataset, target)
    out = pd.DataFrame(index=ids)
    for dotted in columns:
        table, _, column = dotted.partition(".")
        if table not in paths or column not in cfg.tables[table].columns:
            reachable = ", ".join(sorted(paths))
            raise ConfigError(f"report.segments: {dotted!r} is not a column of {target!r} or of a table it reaches "
                              f"through foreign keys ({reachable}); name an existing table.column")
        keys, current = ids.to_numpy(), target  # the key of each instance's row in ``current``
        for fk_column, parent in paths[table]:
            frame = dataset.tables[current].set_index(cfg.tables[current].primary_key)
            keys, current = frame[fk_column].reindex(keys).to_numpy(), parent
        frame = dataset.tables[table].set_index(cfg.tables[table].primary_key)
        out[dotted] = frame[column].reindex(keys).to_numpy()
    return out


def _paths_up(dataset: Dataset, target: str) -> dict[str, list[tuple[str, str]]]:
    """For the target and every table above it: the (foreign key column, parent) hops that reach it."""
    cfg = dataset.config
    paths: dict[str, list[tuple[str, str]]] = {target: []}
    queue = [target]
    while queue:
        table = queue.pop(0)
        for fk in cfg.tables[table].foreign_keys:
            if fk.references not in paths:
                paths[fk.references] = paths[table] + [(fk.column, fk.references)]
                queue.append(fk.references)
    return paths
