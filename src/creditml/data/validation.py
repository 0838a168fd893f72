"""Check every contract of a declared dataset and report all problems together.

Each problem names the table and column, the offending count, a few example keys and
what to do. Nothing is written; the typed tables come back only when all is well,
with every declared cleaning step that changed them counted.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from creditml.config import DatasetConfig, LabelSpec, label_text
from creditml.data.derive import derive_bridges, derive_rule_labels
from creditml.data.coercion import type_table
from creditml.data.dates import why_not_dates
from creditml.data.reading import ReadError, read_raw

EXAMPLES = 5


@dataclass(frozen=True)
class CleaningStep:
    """A declared cleaning step that changed ``rows`` rows of ``table``."""

    table: str
    step: str  # drop_exact_duplicates | drop_orphans | map_label
    rows: int
    detail: str

    def __str__(self) -> str:
        return f"{self.table}: {self.step}, {self.rows:,} row(s): {self.detail}"


@dataclass(frozen=True)
class DateRange:
    """The span of one datetime column; ``flagged`` when part of it is implausible."""

    table: str
    column: str
    first: pd.Timestamp
    last: pd.Timestamp
    flagged: bool = False


@dataclass
class ValidationReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    cleaning: list[CleaningStep] = field(default_factory=list)
    date_ranges: list[DateRange] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _examples(values) -> str:
    vals = list(pd.unique(pd.Series(list(values))))[:EXAMPLES]
    return ", ".join(_value(v) for v in vals)


def _closest(name: str, options) -> str:
    match = difflib.get_close_matches(name, list(options), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _value(v) -> str:
    return repr(v.item() if hasattr(v, "item") else v)


def _share(n: int, total: int) -> str:
    return f"{n:,} of {total:,} rows ({n / total:.1%})" if total else f"{n:,} rows"


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


def _mapped_labels(cfg: DatasetConfig, table: str) -> dict[str, LabelSpec]:
    return {n: label for n, label in cfg.labels.items() if label.table == table and label.mapped}


def _check_types(table: str, cfg: DatasetConfig, raw: pd.DataFrame, typed: pd.DataFrame, report: ValidationReport) -> None:
    spec = cfg.tables[table]
    mapped = {label.column for label in _mapped_labels(cfg, table).values()}
    for name, col in spec.columns.items():
        if name not in raw.columns or name in mapped or col.type in {"categorical", "text", "id"}:
            continue
        failed = raw[name].notna() & typed[name].isna()
        if not failed.any():
            continue
        n, examples = int(failed.sum()), _examples(raw.loc[failed, name])
        where = f"table {table!r}, column {name!r}"
        if col.type == "datetime" and col.offset_unit is None:
            found, fix = why_not_dates(raw.loc[failed, name], col)
            report.problems.append(
                f"{where}: {n} value(s) are not dates ({found}), e.g. {examples}; {fix} "
                f"under tables.{table}.columns.{name}"
            )
            continue
        what = f"{col.offset_unit} offsets (numbers)" if col.offset_unit else {
            "numeric": "numbers", "boolean": "booleans (0/1, true/false, yes/no)", "datetime": "dates",
        }[col.type]
        hint = ""
        if col.type == "numeric" and spec.resolved_format == "csv":
            hint = (f" (a missing-value marker such as '?' goes in tables.{table}.csv.na_values; "
                    f"1.234,5 needs csv.thousands and csv.decimal)")
        report.problems.append(
            f"{where}: {n} value(s) are not {what}, e.g. {examples}; fix the values or declare the column's "
            f"type correctly in tables.{table}.columns{hint}"
        )


def _drop_exact_duplicates(table: str, cfg: DatasetConfig, raw: pd.DataFrame, report: ValidationReport) -> pd.DataFrame:
    if cfg.tables[table].on_duplicate != "drop_exact":
        return raw
    copies = raw.duplicated(keep="first")
    n = int(copies.sum())
    if n:
        report.cleaning.append(CleaningStep(table, "drop_exact_duplicates", n,
                                            f"{_share(n, len(raw))} were exact copies of an earlier row"))
        raw = raw.loc[~copies].reset_index(drop=True)
    return raw


def _check_keys(table: str, cfg: DatasetConfig, raw: pd.DataFrame, typed: pd.DataFrame,
                report: ValidationReport) -> None:
    spec = cfg.tables[table]
    pk = typed[spec.primary_key]
    nulls = int(pk.isna().sum())
    if nulls:
        report.problems.append(
            f"table {table!r}, primary key {spec.primary_key!r}: {nulls} row(s) have no key; "
            "every row needs a key (set generate_primary_key: true if the file has none)"
        )
    repeated = pk.duplicated(keep=False) & pk.notna()
    dup = pk[repeated]
    if len(dup):
        if spec.on_duplicate == "drop_exact":
            fix = ("they differ in other columns, so on_duplicate: drop_exact keeps them; decide which row is "
                   "right in the export, or declare the right key column")
        else:
            exact = int(raw.loc[repeated.values].duplicated().sum())
            fix = "keys must be unique: remove the duplicates or declare the right key column"
            if exact:
                fix += (f"; {exact} of these rows are exact copies of another row: on_duplicate: drop_exact on "
                        f"tables.{table} drops exact copies with a count")
        report.problems.append(
            f"table {table!r}, primary key {spec.primary_key!r}: {dup.nunique()} key(s) appear more than "
            f"once ({len(dup)} rows), e.g. {_examples(dup)}; {fix}"
        )
    if spec.time_index:
        missing = typed[spec.time_index].isna()
        if spec.time_index in raw.columns:  # a value that did not parse is reported by the type check
            missing &= raw[spec.time_index].isna().values
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


def _check_dates(table: str, cfg: DatasetConfig, typed: pd.DataFrame, report: ValidationReport) -> None:
    """Every datetime column within [earliest, ...]; rows of a table dated at most ``as_of``."""
    spec = cfg.tables[table]
    earliest = pd.Timestamp(cfg.earliest)
    as_of = pd.Timestamp(cfg.as_of) if cfg.as_of else None
    pk = typed[spec.primary_key]
    for name in typed.columns:
        values = typed[name]
        if not pd.api.types.is_datetime64_any_dtype(values) or values.isna().all():
            continue
        where = f"table {table!r}, column {name!r}"
        flagged = False
        early = values < earliest
        if early.any():
            flagged = True
            first = values[early].iloc[0]
            report.problems.append(
                f"{where}: {int(early.sum())} row(s) are dated before {earliest.date()} (earliest: the first "
                f"plausible date), e.g. {first} at key {_value(pk[early].iloc[0])}; check how the column is read "
                f"(format, epoch_unit, offset_unit), or set earliest: in the dataset YAML if such dates are real"
            )
        if as_of is not None and name == spec.time_index:
            late = values > as_of
            if late.any():
                flagged = True
                report.problems.append(
                    f"{where}: {_share(int(late.sum()), len(values))} are dated after as_of {as_of.date()} (when "
                    f"the data was extracted), first {values[late].iloc[0]} at key {_value(pk[late].iloc[0])}; a row "
                    f"cannot be known after the extraction: fix as_of, the dates or how they are read "
                    f"(format, dayfirst{', snapshot_at' if spec.snapshot_at else ''})"
                )
        report.date_ranges.append(DateRange(table, name, values.min(), values.max(), flagged))


def _map_labels(table: str, cfg: DatasetConfig, raw: pd.DataFrame, typed: pd.DataFrame,
                report: ValidationReport) -> None:
    """Declared label values become 1 (positive) and 0 (negative or, without negative, the rest)."""
    for lname, label in _mapped_labels(cfg, table).items():
        values = raw[label.column]
        present = values.notna()
        text = values.map(lambda v: label_text(v.item() if hasattr(v, "item") else v)).where(present)
        positive = {label_text(v) for v in label.positive}
        is_pos = text.isin(positive)
        if label.negative is not None:
            is_neg = text.isin({label_text(v) for v in label.negative})
            unmapped = present & ~is_pos & ~is_neg
            if unmapped.any():
                report.problems.append(
                    f"label {lname!r} (table {table!r}, column {label.column!r}): {int(unmapped.sum())} value(s) "
                    f"are neither positive nor negative, e.g. {_examples(values[unmapped])}; add them to "
                    f"labels.{lname}.positive or labels.{lname}.negative (or drop negative: so that every "
                    "value not positive means 0)"
                )
        else:
            is_neg = present & ~is_pos
        if not present.all():
            pk = cfg.tables[table].primary_key
            report.problems.append(
                f"label {lname!r} (table {table!r}, column {label.column!r}): {int((~present).sum())} row(s) have no "
                f"label value, e.g. keys {_examples(typed.loc[~present.values, pk])}; every row of {table!r} needs "
                "a label value"
            )
        typed[label.column] = np.where(is_pos, 1.0, np.where(is_neg, 0.0, np.nan))
        n_pos, n_neg = int(is_pos.sum()), int(is_neg.sum())
        report.cleaning.append(CleaningStep(
            table, "map_label", n_pos + n_neg,
            f"label {lname!r}: {n_pos:,} row(s) {sorted(positive)} -> 1, {n_neg:,} row(s) -> 0"))


def _check_labels(cfg: DatasetConfig, report: ValidationReport) -> None:
    for lname, label in cfg.labels.items():
        frame = report.tables.get(label.table)
        if frame is None or label.column not in frame:
            continue
        values = pd.to_numeric(frame[label.column], errors="coerce")
        # a mapping reported its own problems; a rule leaves open windows missing
        bad = ~values.isin([0, 1]) & (not label.mapped) & ~(values.isna() & (label.rule is not None))
        if bad.any():
            pk = cfg.tables[label.table].primary_key
            found = frame.loc[bad, label.column]
            fix = (f"a label must be 0 or 1: declare the values that mean 1 with labels.{lname}.positive: "
                   f"[{', '.join(str(v) for v in pd.unique(found.dropna())[:3])}] (every other value then "
                   "means 0; add negative: [...] to list those too)")
            report.problems.append(
                f"label {lname!r} (table {label.table!r}, column {label.column!r}): {int(bad.sum())} "
                f"value(s) are not 0 or 1, e.g. {_examples(found)} at keys "
                f"{_examples(frame.loc[bad, pk])}; {fix}"
            )
        elif values.nunique() == 1:
            report.notes.append(f"label {lname!r} has only the value {int(values.dropna().iloc[0])}")


def _resolve_foreign_keys(table: str, cfg: DatasetConfig, report: ValidationReport) -> None:
    spec = cfg.tables[table]
    frame = report.tables[table]
    for fk in spec.foreign_keys:
        parent = report.tables.get(fk.references)
        if parent is None or fk.column not in frame:
            continue
        values = frame[fk.column]
        where = f"table {table!r}, foreign key {fk.column!r} -> {fk.references!r}"
        nulls = values.isna()
        if nulls.any() and not fk.nullable:
            report.problems.append(
                f"{where}: {_share(int(nulls.sum()), len(frame))} have no value, e.g. keys "
                f"{_examples(frame.loc[nulls, spec.primary_key])}; every row needs its parent: fill the column, or "
                f"declare nullable: true on this foreign key if a row may have no {fk.references!r} row"
            )
        parent_keys = parent[cfg.tables[fk.references].primary_key]
        orphan = values.notna() & ~values.isin(parent_keys)
        n = int(orphan.sum())
        if not n:
            continue
        share = _share(n, len(frame))
        if fk.on_orphan == "drop":
            frame = frame.loc[~orphan].reset_index(drop=True)
            report.notes.append(
                f"table {table!r}: dropped {n} orphan row(s) whose {fk.column!r} is not a key of "
                f"{fk.references!r} (on_orphan: drop), {share}"
            )
            report.cleaning.append(CleaningStep(table, "drop_orphans", n,
                                                f"{share}: {fk.column!r} is not a key of {fk.references!r}"))
        else:
            report.problems.append(
                f"{where}: {share} point at keys that do not exist, e.g. {_examples(values[orphan])}; either fix "
                f"the export (is {fk.references!r} complete?) or set on_orphan: drop on this foreign key to drop "
                "them with a count"
            )
    report.tables[table] = frame


def _read(table: str, cfg: DatasetConfig, report: ValidationReport) -> pd.DataFrame | None:
    spec = cfg.tables[table]
    try:
        raw = read_raw(cfg, table)
    except ReadError as exc:
        report.problems.append(str(exc))
        return None
    shown = spec.file or "the database source"
    if raw.empty:
        report.problems.append(f"table {table!r}: {shown!r} has no rows; every table needs data")
        return None
    missing = [c for c in spec.columns if c not in raw.columns and c not in spec.created_columns]
    for col in missing:
        report.problems.append(
            f"table {table!r}: column {col!r} is declared but not in {spec.file or 'the source'}"
            f"{_closest(col, raw.columns)}; the file has {len(raw.columns)} columns"
        )
    return None if missing else raw


def validate_dataset(cfg: DatasetConfig) -> ValidationReport:
    """Validate every table of ``cfg``; never raises for data problems, returns them all."""
    report = ValidationReport()
    anchor = pd.Timestamp(cfg.time_anchor) if cfg.time_anchor else None
    for table in table_order(cfg):
        spec = cfg.tables[table]
        raw = _read(table, cfg, report)
        if raw is None:
            continue
        raw = _drop_exact_duplicates(table, cfg, raw, report)
        typed = type_table(spec, raw, anchor)
        _map_labels(table, cfg, raw, typed, report)
        _check_types(table, cfg, raw, typed, report)
        _check_keys(table, cfg, raw, typed, report)
        _check_late_columns(table, cfg, typed, report)
        _check_dates(table, cfg, typed, report)
        ignored = len(set(raw.columns) - set(spec.columns))
        if ignored:
            report.notes.append(f"table {table!r}: {ignored} undeclared column(s) ignored")
        report.tables[table] = typed
        _resolve_foreign_keys(table, cfg, report)
    _derive(cfg, report)
    _check_labels(cfg, report)
    return report


def _derive(cfg: DatasetConfig, report: ValidationReport) -> None:
    """Keys through bridge tables, then labels by rule (which may follow such keys)."""
    if report.problems:
        return  # derived columns need every table whole
    problems, steps = derive_bridges(cfg, report.tables)
    report.problems += problems
    for table, rows, detail in steps:
        report.cleaning.append(CleaningStep(table, "derive_key", rows, detail))
    for table, rows, detail in derive_rule_labels(cfg, report.tables):
        report.cleaning.append(CleaningStep(table, "derive_label", rows, detail))
