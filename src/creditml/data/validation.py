"""Check every contract of a declared dataset and report all problems together.

Each problem names the table and column, the offending count, a few example keys and
what to do. Nothing is written; the typed tables come back only when all is well.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import pandas as pd

from creditml.config import DatasetConfig
from creditml.data.loading import anchor_timestamp, read_raw, type_table

EXAMPLES = 5


@dataclass
class ValidationReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _examples(values) -> str:
    vals = list(pd.unique(pd.Series(list(values))))[:EXAMPLES]
    return ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in vals)


def _closest(name: str, options) -> str:
    match = difflib.get_close_matches(name, list(options), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def table_order(cfg: DatasetConfig) -> list[str]:
    """Parents before children, so orphans dropped in a parent cascade to its children."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting:
            return
        visiting.add(name)
        for fk in cfg.tables[name].foreign_keys:
            if fk.references != name:
                visit(fk.references)
        visiting.discard(name)
        order.append(name)

    for name in cfg.tables:
        visit(name)
    return order


def _check_types(table: str, cfg: DatasetConfig, raw: pd.DataFrame, typed: pd.DataFrame, report: ValidationReport) -> None:
    spec = cfg.tables[table]
    for name, col in spec.columns.items():
        if name not in raw.columns:
            continue
        was_present = raw[name].notna()
        if col.type in {"categorical", "text"}:
            continue
        if col.type == "id":
            continue
        failed = was_present & typed[name].isna()
        if failed.any():
            what = f"{col.offset_unit} offsets (numbers)" if col.offset_unit else {
                "numeric": "numbers", "boolean": "booleans (0/1, true/false, yes/no)", "datetime": "dates",
            }[col.type]
            report.problems.append(
                f"table {table!r}, column {name!r}: {int(failed.sum())} value(s) are not {what}, "
                f"e.g. {_examples(raw.loc[failed, name])}; fix the values or declare the column's "
                f"type correctly in tables.{table}.columns"
            )


def _check_keys(table: str, cfg: DatasetConfig, typed: pd.DataFrame, report: ValidationReport) -> None:
    spec = cfg.tables[table]
    pk = typed[spec.primary_key]
    nulls = int(pk.isna().sum())
    if nulls:
        report.problems.append(
            f"table {table!r}, primary key {spec.primary_key!r}: {nulls} row(s) have no key; "
            "every row needs a key (set generate_primary_key: true if the file has none)"
        )
    dup = pk[pk.duplicated(keep=False) & pk.notna()]
    if len(dup):
        report.problems.append(
            f"table {table!r}, primary key {spec.primary_key!r}: {dup.nunique()} key(s) appear more than "
            f"once ({len(dup)} rows), e.g. {_examples(dup)}; keys must be unique: remove the duplicates "
            "or declare the right key column"
        )
    if spec.time_index:
        missing = typed[spec.time_index].isna()
        if missing.any():
            report.problems.append(
                f"table {table!r}, time index {spec.time_index!r}: {int(missing.sum())} row(s) have no "
                f"time, e.g. keys {_examples(typed.loc[missing, spec.primary_key])}; every row needs the "
                "time it became known"
            )


def _check_late_columns(table: str, cfg: DatasetConfig, typed: pd.DataFrame, report: ValidationReport) -> None:
    """A late-known value with no time it became known would be visible at every cutoff."""
    spec = cfg.tables[table]
    for when, cols in spec.secondary_time_index.items():
        unknown = typed[when].isna()
        for col in cols:
            if col == when or col not in typed:
                continue
            bad = unknown & typed[col].notna()
            if bad.any():
                report.problems.append(
                    f"table {table!r}, column {col!r}: {int(bad.sum())} row(s) have a value but no {when!r} "
                    f"(when it became known), e.g. keys {_examples(typed.loc[bad, spec.primary_key])}; "
                    f"fill {when!r} or leave {col!r} empty there"
                )


def _check_labels(cfg: DatasetConfig, report: ValidationReport) -> None:
    for lname, label in cfg.labels.items():
        frame = report.tables.get(label.table)
        if frame is None or label.column not in frame:
            continue
        values = pd.to_numeric(frame[label.column], errors="coerce")
        bad = ~values.isin([0, 1])
        if bad.any():
            pk = cfg.tables[label.table].primary_key
            report.problems.append(
                f"label {lname!r} (table {label.table!r}, column {label.column!r}): {int(bad.sum())} "
                f"value(s) are not 0 or 1, e.g. {_examples(frame.loc[bad, label.column])} at keys "
                f"{_examples(frame.loc[bad, pk])}; a label must be 0 or 1"
            )
        elif values.nunique() < 2:
            report.notes.append(f"label {lname!r} has only the value {int(values.iloc[0])}")


def _resolve_foreign_keys(table: str, cfg: DatasetConfig, report: ValidationReport) -> None:
    spec = cfg.tables[table]
    frame = report.tables[table]
    for fk in spec.foreign_keys:
        parent = report.tables.get(fk.references)
        if parent is None or fk.column not in frame:
            continue
        parent_keys = parent[cfg.tables[fk.references].primary_key]
        values = frame[fk.column]
        orphan = values.notna() & ~values.isin(parent_keys)
        n = int(orphan.sum())
        if not n:
            continue
        if fk.on_orphan == "drop":
            frame = frame.loc[~orphan].reset_index(drop=True)
            report.notes.append(
                f"table {table!r}: dropped {n} orphan row(s) whose {fk.column!r} is not a key of "
                f"{fk.references!r} (on_orphan: drop)"
            )
        else:
            report.problems.append(
                f"table {table!r}, foreign key {fk.column!r} -> {fk.references!r}: {n} row(s) point at "
                f"keys that do not exist, e.g. {_examples(values[orphan])}; fix the data or set "
                f"on_orphan: drop on this foreign key to drop them with a count"
            )
    report.tables[table] = frame


def validate_dataset(cfg: DatasetConfig) -> ValidationReport:
    """Validate every table of ``cfg``; never raises for data problems, returns them all."""
    report = ValidationReport()
    anchor = anchor_timestamp(cfg) if cfg.time_anchor else None
    if cfg.time_anchor:
        try:
            anchor = pd.Timestamp(cfg.time_anchor)
        except ValueError:
            report.problems.append(f"time_anchor {cfg.time_anchor!r} is not a date; write it as YYYY-MM-DD")
            return report
    for table in table_order(cfg):
        spec = cfg.tables[table]
        path = cfg.path_of(table)
        if not path.exists():
            report.problems.append(
                f"table {table!r}: file {str(path)!r} does not exist; check tables.{table}.file "
                "(paths are relative to the dataset YAML)"
            )
            continue
        try:
            raw = read_raw(cfg, table)
        except Exception as exc:  # any reader failure is a data problem to report, not a crash
            report.problems.append(f"table {table!r}: file {str(path)!r} cannot be read as {spec.resolved_format}: {exc}")
            continue
        if raw.empty:
            report.problems.append(f"table {table!r}: file {str(path)!r} has no rows; every table needs data")
            continue
        missing = [c for c in spec.columns if c not in raw.columns and not (
            (c == spec.primary_key and spec.generate_primary_key) or (c == spec.time_index and spec.anchor_column))]
        for col in missing:
            report.problems.append(
                f"table {table!r}: column {col!r} is declared but not in {path.name}{_closest(col, raw.columns)}; "
                f"the file has {len(raw.columns)} columns"
            )
        if missing:
            continue
        typed = type_table(spec, raw, anchor)
        _check_types(table, cfg, raw, typed, report)
        _check_keys(table, cfg, typed, report)
        _check_late_columns(table, cfg, typed, report)
        ignored = len(set(raw.columns) - set(spec.columns))
        if ignored:
            report.notes.append(f"table {table!r}: {ignored} undeclared column(s) ignored")
        report.tables[table] = typed
        _resolve_foreign_keys(table, cfg, report)
    _check_labels(cfg, report)
    return report
