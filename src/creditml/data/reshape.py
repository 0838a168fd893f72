"""Reshape a wide table into the child table of dated rows it stands for.

Lenders export monthly history as one column per month (Taiwan's repayment status, bill
and paid amount for September ... April: 18 columns). Declared as an ``unpivot``, those
columns become a child table of the client with one row per month, dated at the month it
stands for, so that DFS aggregates, counts and trends over it under the point-in-time rule
like over any other dated child table::

    statements:
      unpivot:
        table: clients
        times: ["2005-09-30", "2005-08-31", "2005-07-31", "2005-06-30", "2005-05-31", "2005-04-30"]
        columns:
          pay_status: [X6, X7, X8, X9, X10, X11]
          bill_amount: [X12, X13, X14, X15, X16, X17]
      primary_key: statement_id
      generate_primary_key: true
      time_index: statement_at
      columns: {statement_id: id, ID: id, statement_at: datetime, pay_status: numeric, bill_amount: numeric}
      foreign_keys: [{column: ID, references: clients}]

The declaration is checked when the config loads (``config._unpivot_problems``); the wide
columns it names are checked here, against the wide table's file.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from creditml.config import DatasetConfig


def unpivot(wide: pd.DataFrame, cfg: DatasetConfig, table: str) -> pd.DataFrame:
    """The raw rows of derived table ``table`` from its wide table's raw frame ``wide``.

    One row per wide row and position, grouped by wide row in the order of ``unpivot.times``:
    the wide table's key, the position's time (as written in the YAML; loading types it) and
    each value column.
    """
    spec = cfg.tables[table]
    u = spec.unpivot
    source = cfg.tables[u.table]
    missing = [c for cols in u.columns.values() for c in cols if c not in wide.columns]
    if missing:
        hints = "".join(f" ({c!r}: did you mean {m[0]!r}?)" for c in missing
                        if (m := difflib.get_close_matches(c, list(map(str, wide.columns)), n=1)))
        raise ValueError(
            f"table {table!r}: unpivot.columns name {len(missing)} column(s) that are not in table "
            f"{u.table!r}'s file: {', '.join(map(repr, missing))}{hints}; the file has "
            f"{len(wide.columns)} columns; fix the names under tables.{table}.unpivot.columns")
    if source.generate_primary_key:
        keys = np.arange(len(wide), dtype="int64")  # numbered as loading numbers the wide table
    elif source.primary_key in wide.columns:
        keys = wide[source.primary_key].to_numpy()
    else:
        raise ValueError(f"table {table!r}: the wide table {u.table!r} has no key column "
                         f"{source.primary_key!r} in its file to link the unpivoted rows to")
    positions = len(u.times)
    out = {source.primary_key: np.repeat(keys, positions),
           spec.time_index: np.tile(np.array(u.times, dtype=object), len(wide))}
    for column, wide_columns in u.columns.items():
        # rows x positions, read row by row: row 0's positions first, then row 1's, ...
        out[column] = wide[wide_columns].to_numpy().reshape(-1)
    return pd.DataFrame(out)
