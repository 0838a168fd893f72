"""Columns loading derives rather than reads: keys through a bridge table, labels by rule.

Both run once every table is read, typed and its foreign keys resolved, and both are
counted as cleaning steps, so ``creditml validate`` and the run's record say what was made.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditml.config import DatasetConfig, LabelSpec, RowCondition, label_text

OPS = {"==": np.equal, "!=": np.not_equal, ">=": np.greater_equal, ">": np.greater, "<=": np.less_equal,
       "<": np.less}


def condition_mask(frame: pd.DataFrame, cond: RowCondition) -> pd.Series:
    """Rows meeting ``cond``; a missing value meets nothing. Text columns compare as text."""
    values = frame[cond.column]
    if cond.op == "in":
        wanted = {label_text(v) for v in cond.value}
        return values.map(lambda v: not pd.isna(v) and label_text(v) in wanted).astype(bool)
    if pd.api.types.is_numeric_dtype(values) and not isinstance(cond.value, str):
        out = OPS[cond.op](pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64"), float(cond.value))
        return pd.Series(out, index=frame.index) & values.notna()
    if cond.op not in ("==", "!="):
        raise ValueError(f"column {cond.column!r} holds text: compare it with ==, != or in, not {cond.op!r}")
    same = values.map(lambda v: not pd.isna(v) and label_text(v) == label_text(cond.value)).astype(bool)
    return same if cond.op == "==" else ~same & values.notna()


def dataset_as_of(cfg: DatasetConfig, tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """When the data was extracted: the declared ``as_of``, else the latest time index in it."""
    if cfg.as_of:
        return pd.Timestamp(cfg.as_of)
    latest = [frame[spec.time_index].max() for name, spec in cfg.tables.items()
              if spec.time_index and name in tables and len(frame := tables[name])]
    return max(latest)


def derive_bridges(cfg: DatasetConfig, tables: dict[str, pd.DataFrame]) -> tuple[list[str], list[tuple]]:
    """Add every ``through`` key; return (problems, steps as (table, rows, detail))."""
    problems, steps = [], []
    for tname, spec in cfg.tables.items():
        for fk in spec.foreign_keys:
            if fk.through is None or tname not in tables or fk.through.table not in tables:
                continue
            bridge = cfg.tables[fk.through.table]
            own = next(f.column for f in bridge.foreign_keys if f.references == tname)
            other = next(f.column for f in bridge.foreign_keys if f.references == fk.references)
            rows = tables[fk.through.table]
            chosen = rows.loc[condition_mask(rows, fk.through.where), [own, other]].dropna(subset=[own])
            counts = chosen[own].value_counts()
            where = f"tables.{tname}.foreign_keys.{fk.column}.through"
            if (counts > 1).any():
                many = counts[counts > 1]
                problems.append(f"{where}: {len(many)} {tname} row(s) have more than one {fk.through.table} row "
                                f"where {fk.through.where.column} {fk.through.where.op} {fk.through.where.value!r} "
                                f"(e.g. {', '.join(map(str, many.index[:3]))}); a bridge must select at most one "
                                "row per key: narrow the condition")
                continue
            frame = tables[tname]
            derived = frame[spec.primary_key].map(chosen.set_index(own)[other])
            missing = int(derived.isna().sum())
            if missing and not fk.nullable:
                problems.append(f"{where}: {missing} of {len(frame):,} {tname} row(s) have no {fk.through.table} row "
                                f"where {fk.through.where.column} {fk.through.where.op} {fk.through.where.value!r} "
                                f"(e.g. {', '.join(map(str, frame.loc[derived.isna(), spec.primary_key][:3]))}); "
                                "declare nullable: true on the foreign key if such rows have no "
                                f"{fk.references}")
                continue
            tables[tname] = frame.assign(**{fk.column: derived.astype(tables[fk.references][
                cfg.tables[fk.references].primary_key].dtype if not missing else derived.dtype)})
            steps.append((tname, len(frame) - missing,
                          f"{fk.column} derived through {fk.through.table} ({missing} without one)"))
    return problems, steps


def derive_rule_labels(cfg: DatasetConfig, tables: dict[str, pd.DataFrame]) -> list[tuple]:
    """Add every rule label's column and known-at column; return steps as (table, rows, detail)."""
    steps = []
    rules = [(name, label) for name, label in cfg.labels.items() if label.rule is not None]
    if not rules:
        return steps
    as_of = dataset_as_of(cfg, tables)
    for name, label in rules:
        if label.table not in tables or label.rule.table not in tables:
            continue
        values, known = _rule_values(cfg, tables, label, as_of)
        tables[label.table] = tables[label.table].assign(**{label.column: values, label.known_at: known})
        steps.append((label.table, int(values.notna().sum()),
                      f"label {name!r} by rule: {int((values == 1).sum())} positive, "
                      f"{int(values.isna().sum())} window(s) still open at as_of"))
    return steps


def _rule_values(cfg: DatasetConfig, tables: dict[str, pd.DataFrame], label: LabelSpec,
                 as_of: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    rule, owner = label.rule, cfg.tables[label.table]
    events = tables[rule.table]
    events = events.loc[condition_mask(events, rule.where)]
    events = pd.DataFrame({"_key": events[cfg.path_to(rule.table, label.table)[0][1]] if rule.table != label.table
                           else events[owner.primary_key], "_time": events[rule.time]})
    for _, column, parent in cfg.path_to(rule.table, label.table)[1:]:
        parent_frame = tables[parent].set_index(cfg.tables[parent].primary_key)[column]
        events["_key"] = events["_key"].map(parent_frame)
    frame = tables[label.table]
    start = frame[rule.start or owner.time_index]
    window = pd.DataFrame({"_key": frame[owner.primary_key].values, "_start": start.values})
    joined = window.merge(events.dropna(), on="_key", how="inner")
    inside = (joined["_time"] > joined["_start"]) & (
        joined["_time"] <= joined["_start"] + pd.Timedelta(days=rule.within_days)) & (joined["_time"] <= as_of)
    first = joined.loc[inside].groupby("_key")["_time"].min()
    keys = frame[owner.primary_key]
    known = keys.map(first)
    values = known.notna().astype("float64")
    still_open = (start + pd.Timedelta(days=rule.within_days) > as_of) | start.isna()
    values[still_open.values] = np.nan
    known[still_open.values] = pd.NaT
    return pd.Series(values.values, index=frame.index), pd.Series(pd.to_datetime(known.values), index=frame.index)
