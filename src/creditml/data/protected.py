"""Protected attributes of instances, found on the target table or any table above it.

They are never model inputs; fairness checks group instances by them. Numeric ones
(age, birth year) are cut into quartile bands so that groups are comparable.
"""

from __future__ import annotations

import pandas as pd

from creditml.data.loading import Dataset


def protected_attributes(dataset: Dataset, target: str, ids: pd.Index) -> pd.DataFrame:
    """One column per protected attribute (``table.column``), indexed like ``ids``."""
    cfg = dataset.config
    pk = cfg.tables[target].primary_key
    current = dataset.tables[target].set_index(pk).reindex(ids)
    out = pd.DataFrame(index=ids)
    seen = set()

    def visit(table: str, rows: pd.DataFrame) -> None:
        if table in seen:
            return
        seen.add(table)
        spec = cfg.tables[table]
        for col in spec.protected:
            values = rows[col]
            if spec.columns[col].type == "numeric" and values.nunique() > 8:
                values = pd.qcut(values, 4, duplicates="drop").astype("string")
            out[f"{table}.{col}"] = values.values
        for fk in spec.foreign_keys:
            parent = dataset.tables[fk.references].set_index(cfg.tables[fk.references].primary_key)
            visit(fk.references, parent.reindex(rows[fk.column].values))

    visit(target, current)
    return out
