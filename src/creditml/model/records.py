"""Raw relational records: the JSON shape a served model scores.

One record per instance::

    {
      "instance": {"application_id": 1001, "customer_id": 7, "applied_at": "2024-03-01T10:00:00", ...},
      "related": {
        "customers":    [{"customer_id": 7, "created_at": "2019-05-02", ...}],
        "loans":        [{...}, ...],          # earlier loans of the customer
        "installments": [{...}, ...],
        ...                                    # any declared table; rows dated after the cutoff are ignored
      },
      "cutoff_time": "2024-03-01T10:00:00"   # optional; default: the instance's cutoff column
    }

``records_for`` cuts such records out of a dataset (for tests, the demo and batch
scoring); ``tables_from_records`` turns records back into typed tables.
"""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pandas as pd

from creditml.config import DatasetConfig
from creditml.data.loading import anchor_timestamp, coerce_column


def _jsonable(value):
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def frame_rows(frame: pd.DataFrame) -> list[dict]:
    return [{k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def rows_reached(cfg: DatasetConfig, tables: dict[str, pd.DataFrame], target: str, ids, paths) -> dict[str, set]:
    """Keys of the rows each relationship path reaches from the given instances."""
    pk = cfg.tables[target].primary_key
    keys: dict[str, set] = defaultdict(set)
    keys[target].update(ids)
    for path in paths:
        frame = tables[target][tables[target][pk].isin(ids)]
        for hop in path:
            if hop.forward:  # child -> parent
                parent = tables[hop.parent]
                frame = parent[parent[hop.parent_column].isin(frame[hop.child_column].dropna())]
                keys[hop.parent].update(frame[cfg.tables[hop.parent].primary_key])
            else:  # parent -> children
                child = tables[hop.child]
                frame = child[child[hop.child_column].isin(frame[hop.parent_column].dropna())]
                keys[hop.child].update(frame[cfg.tables[hop.child].primary_key])
    return keys


def identifier_component(links: pd.DataFrame, instance_col: str, value_col: str, time_col: str,
                         instance_id, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Sightings (as of ``cutoff``) of the instance's connected group in the identifier graph."""
    seen = links[links[time_col] <= cutoff]
    apps, values = {instance_id}, set()
    while True:
        new_values = set(seen.loc[seen[instance_col].isin(apps), value_col]) - values
        if not new_values:
            break
        values |= new_values
        apps |= set(seen.loc[seen[value_col].isin(new_values), instance_col])
    return seen[seen[value_col].isin(values) | seen[instance_col].isin(apps)]


def records_for(cfg: DatasetConfig, tables: dict[str, pd.DataFrame], target: str, ids, paths,
                graph=None, cutoff_column: str | None = None) -> list[dict]:
    """One record per instance id holding every row its features read (the model applies the cutoff).

    ``graph`` (:class:`GraphSettings`) adds the instance's identifier group as of its cutoff:
    the sightings and the target rows of the applications in it.
    """
    pk = cfg.tables[target].primary_key
    out = []
    for instance_id in ids:
        keys = rows_reached(cfg, tables, target, [instance_id], paths)
        instance_row = tables[target][tables[target][pk] == instance_id]
        if graph is not None:
            cutoff = instance_row[cutoff_column or cfg.tables[target].time_index].iloc[0]
            group = identifier_component(tables[graph.table], graph.instance_column, graph.value_column,
                                         graph.time_column, instance_id, cutoff)
            keys[graph.table].update(group[cfg.tables[graph.table].primary_key])
            keys[target].update(group[graph.instance_column])
        related = {}
        for name, spec in cfg.tables.items():
            chosen = keys.get(name, set()) - ({instance_id} if name == target else set())
            if chosen:
                related[name] = frame_rows(tables[name][tables[name][spec.primary_key].isin(chosen)])
        out.append({"instance": frame_rows(instance_row)[0], "related": related})
    return out


def key_kinds(cfg: DatasetConfig, tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, str]]:
    """Per table, whether each id column holds integers or strings (as in training)."""
    out: dict[str, dict[str, str]] = {}
    for name, spec in cfg.tables.items():
        derived = [fk.column for fk in spec.foreign_keys if fk.through is not None]  # keys made by loading
        for col in [c for c, cspec in spec.columns.items() if cspec.type == "id"] + derived:
            if col in tables[name]:
                out.setdefault(name, {})[col] = "int" if pd.api.types.is_integer_dtype(tables[name][col]) else "str"
    return out


def _as_key(values: pd.Series, kind: str) -> pd.Series:
    if kind == "int":
        if values.dtype == np.int64:
            return values.copy()
        ints = pd.to_numeric(values, errors="coerce").astype("Int64")
        return ints.astype("int64") if not ints.isna().any() else ints
    present = values.notna().to_numpy()
    return pd.Series([str(v) if ok else None for v, ok in zip(values.tolist(), present)], index=values.index,
                     dtype=object)


def _texts(values: pd.Series) -> pd.Series | None:
    """A categorical or text column of strings as ``coerce_column`` types it (None: not all strings)."""
    present = values.notna().to_numpy()
    items = values.tolist()
    if not all(isinstance(v, str) for v, ok in zip(items, present) if ok):
        return None
    out = []
    for v, ok in zip(items, present):
        if not ok:
            out.append(np.nan)
        else:
            v = v.strip()
            out.append(v if v else pd.NA)  # coerce_column turns a blank into pd.NA, a missing value into NaN
    return pd.Series(out, index=values.index, dtype=object)


def _typed_column(values: pd.Series, cspec, anchor) -> pd.Series:
    if cspec.type in ("categorical", "text") and cspec.offset_unit is None and values.dtype == object:
        fast = _texts(values)
        if fast is not None:
            return fast
    if cspec.offset_unit is not None:
        return _offsets_or_times(values, cspec.offset_unit, anchor)
    return coerce_column(values, cspec.type, cspec.offset_unit, anchor)


def _offsets_or_times(values: pd.Series, unit: str, anchor) -> pd.Series:
    """A relative-time column: a number is an offset from the anchor, as in the table's file; a
    date is the time loading made of it, which is what ``records_for`` writes. Reading that date
    as an offset would make it missing, and with it every row it time-stamps."""
    out = coerce_column(values, "datetime", unit, anchor)
    numbers = pd.to_numeric(values, errors="coerce")
    stamped = (numbers.isna() & values.notna()).to_numpy()
    if stamped.any():
        out[stamped] = pd.to_datetime(values[stamped], errors="coerce", format="ISO8601").to_numpy()
    return out


def _typed_table(spec, rows: list[dict], anchor, kinds: dict[str, str], keep: set[str] | None = None) -> pd.DataFrame:
    # the same frame constructor either way: each column is inferred from its own values
    raw = pd.DataFrame(rows if keep is None else [{c: r[c] for c in keep if c in r} for r in rows])
    cols = {}
    for col, cspec in spec.columns.items():
        if keep is not None and col not in keep:
            continue
        values = raw[col] if col in raw.columns else pd.Series([None] * len(raw), index=raw.index, dtype=object)
        if cspec.type == "datetime" and cspec.offset_unit is None:
            values = pd.to_datetime(values, errors="coerce", format="ISO8601")
        kind = kinds.get(col)
        cols[col] = _as_key(values, kind) if kind else _typed_column(values, cspec, anchor)
    for fk in spec.foreign_keys:  # a key derived through a bridge travels in the record like any column
        if fk.through is not None and (keep is None or fk.column in keep):
            values = raw[fk.column] if fk.column in raw.columns else pd.Series([None] * len(raw), index=raw.index,
                                                                              dtype=object)
            cols[fk.column] = _as_key(values, kinds.get(fk.column, "str"))
    frame = pd.DataFrame(cols, index=raw.index)
    if spec.anchor_column and spec.time_index:
        frame[spec.time_index] = anchor
    if len(frame) and not frame[spec.primary_key].is_unique:
        frame = frame.drop_duplicates(subset=[spec.primary_key], keep="first").reset_index(drop=True)
    return frame


_EMPTY: dict[tuple, tuple] = {}


def _empty_table(cfg: DatasetConfig, name: str, anchor, kinds: dict[str, str]) -> pd.DataFrame:
    """The typed frame of a table no record has rows of: the same for every request, so typed once."""
    key = (id(cfg), name, tuple(sorted(kinds.items())))
    cached = _EMPTY.get(key)
    if cached is None or cached[0] is not cfg:
        if len(_EMPTY) > 256:
            _EMPTY.clear()
        cached = _EMPTY[key] = (cfg, _typed_table(cfg.tables[name], [], anchor, kinds))
    return cached[1].copy()


def rows_by_table(records: list[dict], target: str) -> dict[str, list[dict]]:
    """Every row of the records per table, in reading order: each record's instance row (in
    ``target``), then its related rows table by table."""
    rows: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        rows[target].append(record["instance"])
        for name, table_rows in (record.get("related") or {}).items():
            rows[name].extend(table_rows)
    return rows


def tables_from_records(cfg: DatasetConfig, target: str, records: list[dict],
                        keys: dict[str, dict[str, str]] | None = None,
                        columns: dict[str, set[str]] | None = None) -> dict[str, pd.DataFrame]:
    """Typed tables holding every row of every record (duplicates by key dropped).

    ``keys`` (from :func:`key_kinds` on the training data) gives id columns the same
    type as in training, also when a record leaves a table or a key empty. ``columns`` (table ->
    columns, primary key included) returns those tables alone, with those columns alone,
    typed exactly as in the full tables.
    """
    rows = rows_by_table(records, target)
    for name, spec in cfg.tables.items():
        if spec.unpivot is not None and not rows.get(name) and rows.get(spec.unpivot.table):
            rows[name] = _unpivoted_rows(cfg, name, rows[spec.unpivot.table])
    anchor = anchor_timestamp(cfg) if cfg.time_anchor else None
    out = {}
    if columns is not None:
        for name, keep in columns.items():
            spec, kinds = cfg.tables[name], (keys or {}).get(name, {})
            out[name] = _typed_table(spec, rows.get(name) or [], anchor, kinds, keep)
        return out
    for name, spec in cfg.tables.items():
        kinds = (keys or {}).get(name, {})
        table_rows = rows.get(name)
        out[name] = _typed_table(spec, table_rows, anchor, kinds) if table_rows else _empty_table(cfg, name, anchor, kinds)
    return out


def _unpivoted_rows(cfg: DatasetConfig, name: str, wide_rows: list[dict]) -> list[dict]:
    """A record that sends the wide row as the file holds it (no rows of the unpivoted table):
    the rows loading would have made of it, or none when the row lacks the wide columns."""
    from creditml.data.reshape import unpivot

    wide = pd.DataFrame(wide_rows)
    if not all(c in wide.columns for cols in cfg.tables[name].unpivot.columns.values() for c in cols):
        return []
    frame = unpivot(wide, cfg, name)
    frame.insert(0, cfg.tables[name].primary_key, np.arange(len(frame)))
    return frame.to_dict(orient="records")


def parse_records(values) -> list[dict]:
    """Records from JSON strings or dicts (the pyfunc's ``record`` column)."""
    return [json.loads(v) if isinstance(v, (str, bytes)) else v for v in values]


def mask_pii(cfg: DatasetConfig, target: str, record: dict) -> dict:
    """A copy of ``record`` whose PII columns (declared ``pii:``) hold synthetic stand-ins.

    For examples logged with a model (input examples, ``serving/example_record.json``):
    PII is never a feature, so the score is unchanged, and no person's data leaves the
    dataset. Text becomes ``masked-<column>-<n>``, numbers 0, anything else null.
    """
    def masked(table: str, row: dict, n: int) -> dict:
        pii = set(cfg.tables[table].pii) if table in cfg.tables else set()
        out = dict(row)
        for column in pii & set(row):
            value = row[column]
            if value is None:
                continue
            out[column] = (f"masked-{column}-{n}" if isinstance(value, str) else
                           0 if isinstance(value, (int, float)) and not isinstance(value, bool) else None)
        return out

    return {"instance": masked(target, record["instance"], 0),
            "related": {t: [masked(t, r, i) for i, r in enumerate(rows)] for t, rows in record["related"].items()}}
