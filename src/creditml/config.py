"""Typed configuration: YAML is loaded once, at the edge, into these pydantic models.

Everything below the CLI receives these objects, never raw dicts. Unknown keys are
errors (``extra="forbid"``) so that a typo surfaces where it was made, with its path.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from creditml.errors import ConfigError

SemanticType = Literal["numeric", "categorical", "boolean", "datetime", "id", "text"]
OffsetUnit = Literal["days", "months"]
# domain roles the credit primitives look for (woodwork semantic tags on the column)
CreditRole = Literal["days_past_due", "amount_due", "amount_paid", "balance", "credit_limit"]


LabelValue = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


EpochUnit = Literal["s", "ms", "us", "ns", "D"]
TEXT_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": ","}  # suffix -> default delimiter
PARQUET_SUFFIXES = {".parquet", ".pq"}
SNAPSHOT_COLUMN = "_snapshot_at"  # the created time index of a table declared with snapshot_at


class ColumnSpec(_Strict):
    """One column: its semantic type and, for dates, how they are written.

    A column with ``offset_unit`` holds a number of days or months relative to the
    dataset's ``time_anchor`` (Home Credit's ``DAYS_*``, ``MONTHS_BALANCE``); loading
    turns it into a timestamp, so its type must be ``datetime``. Other datetime columns
    are ISO 8601 text unless ``format`` (strftime, e.g. ``"%y%m%d"``) or ``epoch_unit``
    (numbers counting from 1970-01-01) says otherwise; ``dayfirst`` settles strings such
    as 03/04/2020 that read as two different dates. Nothing else is guessed.
    """

    type: SemanticType
    offset_unit: OffsetUnit | None = None
    role: CreditRole | None = None
    format: str | None = None
    epoch_unit: EpochUnit | None = None
    dayfirst: bool | None = None

    @model_validator(mode="after")
    def _date_options_need_a_date(self) -> "ColumnSpec":
        if self.offset_unit is not None and self.type != "datetime":
            raise ValueError(
                f"offset_unit={self.offset_unit!r} turns the column into a timestamp, "
                f"so its type must be 'datetime', not {self.type!r}"
            )
        declared = [k for k in ("format", "epoch_unit", "dayfirst") if getattr(self, k) is not None]
        if declared and self.type != "datetime":
            raise ValueError(f"{', '.join(declared)} describe(s) how dates are written, so the type must be "
                             f"'datetime', not {self.type!r}")
        ways = [k for k in ("offset_unit", "format", "epoch_unit") if getattr(self, k) is not None]
        if len(ways) > 1:
            raise ValueError(f"{' and '.join(ways)} are two ways of reading the same date; declare one of them")
        if self.format is not None and "%" not in self.format:
            raise ValueError(f"format {self.format!r} has no % directive; write it as strftime, e.g. '%Y-%m-%d' "
                             "or '%y%m%d'")
        return self


class RowCondition(_Strict):
    """A test on one column of a row: ``{column: days_late, op: ">=", value: 90}``; ``in`` takes a list."""

    column: str
    op: Literal["==", "!=", ">=", ">", "<=", "<", "in"]
    value: LabelValue | list[LabelValue]

    @model_validator(mode="after")
    def _list_for_in(self) -> "RowCondition":
        if (self.op == "in") != isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} takes {'a list of values' if self.op == 'in' else 'one value'}, "
                             f"found {self.value!r}")
        return self


class Bridge(_Strict):
    """A one-to-one path through a bridge table: the row of ``table`` that ``where`` selects.

    An account with several holders, one of them the owner: ``{table: dispositions,
    where: {column: type, op: "==", value: OWNER}}`` on ``accounts``' foreign key
    ``owner_client_id -> clients`` gives each account its owner, so DFS looks up the
    owner's attributes. The bridge table must be ``static`` (the derived key is the same
    at every cutoff) and hold a key to both tables.
    """

    table: str
    where: RowCondition


class ForeignKey(_Strict):
    """``column`` of this table points at the primary key of table ``references``.

    A missing value is an error unless ``nullable`` (the row then has no parent, e.g. an
    application that came without a broker). With ``through`` the column is not read but
    derived through a bridge table (see :class:`Bridge`).
    """

    column: str
    references: str
    on_orphan: Literal["error", "drop"] = "error"
    nullable: bool = False
    through: Bridge | None = None


class CsvOptions(_Strict):
    """How a delimited text file is written. ``delimiter`` defaults to tab for .tsv, else comma."""

    delimiter: str | None = None
    quotechar: str = '"'
    encoding: str = "utf-8-sig"  # strips a byte-order mark when there is one
    na_values: list[str] = Field(default_factory=list)  # extra missing-value markers, e.g. ["?", "n/a"]
    thousands: str | None = None
    decimal: str = "."

    @field_validator("delimiter", "quotechar", "thousands", "decimal")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError(f"must be a single character, got {value!r} (a tab is written \"\\t\")")
        return value


class SourceSpec(_Strict):
    """A table read from a database through SQLAlchemy: a whole ``table`` or a ``query``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    url: str  # e.g. postgresql://user@host:5432/db
    table: str | None = None
    db_schema: str | None = Field(None, alias="schema")
    query: str | None = None

    @model_validator(mode="after")
    def _table_or_query(self) -> "SourceSpec":
        if (self.table is None) == (self.query is None):
            raise ValueError("declare exactly one of table: NAME or query: SQL")
        if self.query is not None and self.db_schema is not None:
            raise ValueError("schema goes with table:; in a query, qualify the table name instead")
        return self


class UnpivotSpec(_Strict):
    """A child table made of a wide table's columns: one row per (wide row, position).

    ``columns`` maps each value column of this table to the wide columns it is read from,
    one per position; ``times`` gives the time each position stands for (ISO dates), which
    becomes this table's ``time_index``. Every row carries the wide table's primary key, so
    this table declares a foreign key on that column to the wide table. A wide column stays
    a column of the wide table only if it is declared there too.
    """

    table: str  # the wide table the columns are read from
    times: list[str] = Field(min_length=1)
    columns: dict[str, list[str]] = Field(min_length=1)


class TableSpec(_Strict):
    file: str | None = None
    source: SourceSpec | None = None  # instead of file: a database table or query
    unpivot: UnpivotSpec | None = None  # instead of file: a child table made of a wide table's columns
    # inferred from the suffix when absent; csv and text both mean delimited text
    format: Literal["parquet", "csv", "text"] | None = None
    csv: CsvOptions = Field(default_factory=CsvOptions)
    primary_key: str
    generate_primary_key: bool = False  # the file has no key column: number the rows
    on_duplicate: Literal["error", "drop_exact"] = "error"  # drop_exact: drop rows repeated exactly
    time_index: str | None = None
    anchor_column: bool = False  # time_index is created and holds the dataset time_anchor
    # an undated table must say what it is: unchanging, or known from a date on
    static: bool = False
    snapshot_at: str | None = None  # ISO date; creates the time index _snapshot_at holding it
    # late-known columns: {when_known_column: [columns known only from then on]}
    secondary_time_index: dict[str, list[str]] = Field(default_factory=dict)
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    foreign_keys: list[ForeignKey] = Field(default_factory=list)
    protected: list[str] = Field(default_factory=list)
    pii: list[str] = Field(default_factory=list)

    @field_validator("columns", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        # ``income: numeric`` is shorthand for ``income: {type: numeric}``
        if isinstance(value, dict):
            return {k: ({"type": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @model_validator(mode="before")
    @classmethod
    def _snapshot_time_index(cls, data: Any) -> Any:
        # a snapshot is dated by a created column, so everything downstream sees an ordinary time index
        if isinstance(data, dict) and data.get("snapshot_at") and not data.get("time_index"):
            data = {**data, "time_index": SNAPSHOT_COLUMN}
            columns = dict(data.get("columns") or {})
            columns.setdefault(SNAPSHOT_COLUMN, "datetime")
            data["columns"] = columns
        return data

    @property
    def created_columns(self) -> set[str]:
        """Columns loading makes rather than reads."""
        out = {self.primary_key} if self.generate_primary_key else set()
        if self.time_index and (self.anchor_column or self.snapshot_at):
            out.add(self.time_index)
        return out | {fk.column for fk in self.foreign_keys if fk.through is not None}

    @property
    def suffix(self) -> str:
        return Path(self.file).suffix.lower() if self.file else ""

    @property
    def resolved_format(self) -> str | None:
        """"csv" (delimited text), "parquet", "database", or None when the suffix says nothing."""
        if self.source is not None:
            return "database"
        if self.unpivot is not None:
            return "unpivot"
        if self.format:
            return "parquet" if self.format == "parquet" else "csv"
        if self.suffix in TEXT_SUFFIXES:
            return "csv"
        return "parquet" if self.suffix in PARQUET_SUFFIXES else None

    @property
    def delimiter(self) -> str:
        return self.csv.delimiter or TEXT_SUFFIXES.get(self.suffix, ",")

    @property
    def late_columns(self) -> set[str]:
        return {c for cols in self.secondary_time_index.values() for c in cols}




class LabelRule(_Strict):
    """A label derived from a child table: 1 when a row meeting ``where`` falls in the window.

    ``any installment with days_late >= 90 within 365 days of disbursement``::

        rule: {table: installments, where: {column: days_late, op: ">=", value: 90},
               time: due_at, start: disbursed_at, within_days: 365}

    ``table`` reaches the label's table through foreign keys (e.g. installments -> loans);
    ``time`` is when each row's event is known (a datetime column of ``table``); the
    window is ``(start, start + within_days]`` with ``start`` a datetime column of the
    label's table (default: its time index). An event counts only once known by the
    dataset's ``as_of``; a window still open at ``as_of`` leaves the label missing, and
    the task leaves the instance out as not matured. The label is known at its first
    event's ``time`` (``known_at`` is set to ``<column>_known_at``).
    """

    table: str
    where: RowCondition
    time: str
    within_days: int = Field(ge=1)
    start: str | None = None


class LabelSpec(_Strict):
    """A label column, never a feature; ``known_at`` says when it was known.

    The column holds 0/1, or values mapped to 0/1: ``positive`` lists the values that
    mean 1 (``[Bad, "2"]``); with ``negative`` too, every other value is an error,
    without it every other value means 0. Values compare as text (2, 2.0 and "2" agree).
    """

    table: str
    column: str
    known_at: str | None = None
    positive: list[LabelValue] | None = None
    negative: list[LabelValue] | None = None
    rule: LabelRule | None = None

    @model_validator(mode="before")
    @classmethod
    def _rule_knows_when(cls, data: Any) -> Any:
        # a derived label is known when its first qualifying event is: loading writes that time here
        if isinstance(data, dict) and data.get("rule") and not data.get("known_at") and data.get("column"):
            data = {**data, "known_at": f"{data['column']}_known_at"}
        return data

    @model_validator(mode="after")
    def _mapping(self) -> "LabelSpec":
        if self.rule is not None and (self.positive is not None or self.negative is not None):
            raise ValueError("a label derived by rule: is 0/1 already; remove positive:/negative:")
        if self.negative is not None and self.positive is None:
            raise ValueError("negative: needs positive: too (the values that mean 1)")
        if self.positive is not None and not self.positive:
            raise ValueError("positive: lists the values that mean 1; it cannot be empty")
        both = {label_text(v) for v in self.positive or []} & {label_text(v) for v in self.negative or []}
        if both:
            raise ValueError(f"{sorted(both)} listed both as positive and negative")
        return self

    @property
    def mapped(self) -> bool:
        return self.positive is not None


def label_text(value: Any) -> str:
    """How a label value compares: integral numbers without their '.0', text stripped."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class DatasetConfig(_Strict):
    name: str
    description: str = ""
    time_anchor: str | None = None  # ISO date that relative offsets count from
    # when the data was extracted: labels mature relative to it (default: latest time in the data)
    as_of: str | None = None
    earliest: str = "1900-01-01"  # a date before this is implausible: validation flags it
    tables: dict[str, TableSpec]
    labels: dict[str, LabelSpec] = Field(default_factory=dict)
    base_dir: Path = Path(".")  # set by the loader: files are relative to the YAML

    @model_validator(mode="after")
    def _references_exist(self) -> "DatasetConfig":
        problems = []
        for tname, table in self.tables.items():
            problems += _table_declaration_problems(tname, table)
            problems += _unpivot_problems(tname, table, self.tables)
            declared = set(table.columns) | table.created_columns
            named = {"primary_key": [table.primary_key]}
            if table.time_index:
                named["time_index"] = [table.time_index]
            named["secondary_time_index"] = list(table.secondary_time_index) + sorted(table.late_columns)
            named["foreign_keys"] = [fk.column for fk in table.foreign_keys]
            named["protected"] = table.protected
            named["pii"] = table.pii
            for field, cols in named.items():
                for col in cols:
                    if col not in declared:
                        problems.append(
                            f"tables.{tname}.{field}: column {col!r} is not declared under "
                            f"tables.{tname}.columns; declare it with its type"
                        )
            for fk in table.foreign_keys:
                if fk.references not in self.tables:
                    problems.append(
                        f"tables.{tname}.foreign_keys: {fk.column!r} references table "
                        f"{fk.references!r}, which is not declared (tables: {', '.join(self.tables)})"
                    )
                elif fk.through is not None:
                    problems += _bridge_problems(tname, fk, self)
            if table.anchor_column and not self.time_anchor:
                problems.append(f"tables.{tname}.anchor_column needs a dataset-level time_anchor")
            if any(c.offset_unit for c in table.columns.values()) and not self.time_anchor:
                problems.append(
                    f"tables.{tname}: columns with offset_unit need a dataset-level time_anchor "
                    "(the date the offsets count from)"
                )
        for key in ("as_of", "earliest", "time_anchor"):
            value = getattr(self, key)
            if value is not None and not _is_date(value):
                problems.append(f"{key}: {value!r} is not a date; write it as YYYY-MM-DD")
        for lname, label in self.labels.items():
            if label.table not in self.tables:
                problems.append(f"labels.{lname}: table {label.table!r} is not declared")
            elif label.rule is not None:
                problems += _rule_problems(lname, label, self)
            else:
                cols = self.tables[label.table].columns
                for col in [label.column] + ([label.known_at] if label.known_at else []):
                    if col not in cols:
                        problems.append(
                            f"labels.{lname}: column {col!r} is not declared in tables.{label.table}.columns"
                        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def path_to(self, child: str, ancestor: str) -> list[tuple[str, str, str]] | None:
        """Foreign-key hops ``(table, column, parent)`` from ``child`` up to ``ancestor``; None when none leads there."""
        if child == ancestor:
            return []
        for fk in self.tables[child].foreign_keys:
            if fk.through is None and fk.references in self.tables:
                rest = self.path_to(fk.references, ancestor)
                if rest is not None:
                    return [(child, fk.column, fk.references), *rest]
        return None

    def path_of(self, table: str) -> Path:
        """The file a table is read from (an unpivoted table's: its wide table's file)."""
        spec = self.tables[table]
        if spec.unpivot is not None and spec.unpivot.table in self.tables:
            return self.path_of(spec.unpivot.table)
        if spec.file is None:
            raise ConfigError(f"table {table!r} is read from a database (tables.{table}.source), not a file; "
                              "read it with creditml.data.load_dataset")
        return (self.base_dir / spec.file).resolve()


def _is_date(value: str) -> bool:
    try:
        import pandas as pd

        return not pd.isna(pd.Timestamp(value))
    except (ValueError, TypeError):
        return False


def _table_declaration_problems(tname: str, table: TableSpec) -> list[str]:
    """Where a table comes from, how it is read and how it is dated: each must be said once."""
    out = []
    where = f"tables.{tname}"
    if sum(x is not None for x in (table.file, table.source, table.unpivot)) != 1:
        out.append(f"{where}: declare exactly one of file: PATH, source: {{url: ..., table: ...}} or unpivot: "
                   "{table: WIDE, times: [...], columns: {...}} (a table made of another table's columns)")
    elif table.file is not None and table.resolved_format is None:
        out.append(
            f"{where}: cannot tell how to read {table.file!r} from its suffix {table.suffix or '(none)'!r} "
            f"(.csv, .tsv, .txt are text, .parquet and .pq are Parquet); set {where}.format: csv for "
            "delimited text (with csv: {delimiter: ';'} if not commas) or format: parquet"
        )
    if table.source is not None and table.format is not None:
        out.append(f"{where}: format describes a file; a source: table is read from the database, remove format")
    dated = [k for k, v in (("time_index", table.time_index and not table.snapshot_at),
                            ("static: true", table.static), ("snapshot_at", table.snapshot_at)) if v]
    if not dated:
        out.append(
            f"{where} has no time_index, so creditml cannot tell when its rows became known. Declare which it is: "
            f"static: true (the rows never change: they were the same at every cutoff), or snapshot_at: "
            f"YYYY-MM-DD (an export known from that date only: its features are missing for earlier cutoffs). "
            f"Undated rows used as if always known are the commonest leak"
        )
    elif len(dated) > 1:
        out.append(f"{where}: {' and '.join(dated)} contradict each other; a table is dated by one of them")
    if table.snapshot_at is not None:
        if not _is_date(table.snapshot_at):
            out.append(f"{where}.snapshot_at: {table.snapshot_at!r} is not a date; write it as YYYY-MM-DD")
        if table.time_index != SNAPSHOT_COLUMN:
            out.append(f"{where}: snapshot_at creates the time index {SNAPSHOT_COLUMN!r}; remove time_index")
    return out


def _rule_problems(lname: str, label: LabelSpec, cfg: "DatasetConfig") -> list[str]:
    rule, where = label.rule, f"labels.{lname}.rule"
    if rule.table not in cfg.tables:
        return [f"{where}.table: {rule.table!r} is not declared (tables: {', '.join(cfg.tables)})"]
    problems = []
    spec, owner = cfg.tables[rule.table], cfg.tables[label.table]
    for key, col in (("time", rule.time), ("where.column", rule.where.column)):
        if col not in spec.columns and col not in spec.created_columns:
            problems.append(f"{where}.{key}: column {col!r} is not declared in tables.{rule.table}.columns")
    if rule.time in spec.columns and spec.columns[rule.time].type != "datetime":
        problems.append(f"{where}.time: {rule.table}.{rule.time} must be a datetime, it is declared "
                        f"{spec.columns[rule.time].type!r}")
    start = rule.start or owner.time_index
    if start is None:
        problems.append(f"{where}.start: table {label.table!r} has no time index; name the datetime column the "
                        "window starts from (e.g. start: disbursed_at)")
    elif start not in owner.columns and start not in owner.created_columns:
        problems.append(f"{where}.start: column {start!r} is not declared in tables.{label.table}.columns")
    if cfg.path_to(rule.table, label.table) is None:
        problems.append(f"{where}.table: no chain of foreign keys leads from {rule.table!r} to {label.table!r}; "
                        f"the rule's rows must belong to the label's table (declare the foreign keys)")
    for col in (label.column, label.known_at):
        if col in owner.columns:
            problems.append(f"labels.{lname}: column {col!r} is derived by the rule; remove it from "
                            f"tables.{label.table}.columns or rename the label's column")
    return problems


def _bridge_problems(tname: str, fk: ForeignKey, cfg: "DatasetConfig") -> list[str]:
    bridge, where = fk.through, f"tables.{tname}.foreign_keys.{fk.column}.through"
    if bridge.table not in cfg.tables:
        return [f"{where}.table: {bridge.table!r} is not declared (tables: {', '.join(cfg.tables)})"]
    spec = cfg.tables[bridge.table]
    problems = []
    targets = {f.references for f in spec.foreign_keys}
    for needed in (tname, fk.references):
        if needed not in targets:
            problems.append(f"{where}: bridge table {bridge.table!r} has no foreign key to {needed!r}; a bridge "
                            f"holds a key to both {tname!r} and {fk.references!r}")
    if bridge.where.column not in spec.columns:
        problems.append(f"{where}.where.column: {bridge.where.column!r} is not declared in "
                        f"tables.{bridge.table}.columns")
    if spec.time_index is not None:
        problems.append(f"{where}: bridge table {bridge.table!r} has a time index, but a derived key is the same at "
                        f"every cutoff; declare the bridge static (remove time_index, add static: true) or model the "
                        "holders as a child table instead")
    if fk.column in cfg.tables[tname].columns:
        problems.append(f"{where}: column {fk.column!r} is derived through the bridge; remove it from "
                        f"tables.{tname}.columns")
    return problems


def _unpivot_problems(name: str, spec: TableSpec, tables: dict[str, TableSpec]) -> list[str]:
    """What is wrong with a table's file/unpivot declaration (the file's columns are checked on reading)."""
    u = spec.unpivot
    if u is None:
        return []
    where = f"tables.{name}.unpivot"
    if u.table not in tables:
        return [f"{where}.table: {u.table!r} is not a declared table (tables: {', '.join(tables)})"]
    source = tables[u.table]
    if source.unpivot is not None or source.file is None:
        return [f"{where}.table: {u.table!r} is not read from a file; unpivot a table read from a file"]
    problems = []
    for col, wide in u.columns.items():
        if len(wide) != len(u.times):
            problems.append(f"{where}.columns.{col}: {len(wide)} wide column(s) {wide} for {len(u.times)} "
                            f"time(s) in {where}.times; give one column per time, in the same order")
        if col not in spec.columns:
            problems.append(f"{where}.columns: value column {col!r} is not declared under tables.{name}.columns; "
                            "declare it with its type (e.g. numeric)")
    for i, when in enumerate(u.times):
        try:
            datetime.fromisoformat(when)
        except ValueError:
            problems.append(f"{where}.times[{i}]: {when!r} is not a date; write it as YYYY-MM-DD")
    if len(set(u.times)) != len(u.times):
        problems.append(f"{where}.times: a time appears twice ({u.times}); each position needs its own time")
    if not spec.time_index or spec.columns.get(spec.time_index, ColumnSpec(type="id")).type != "datetime":
        problems.append(f"tables.{name}.time_index: an unpivot needs a datetime time_index to hold "
                        f"{where}.times; declare one (e.g. time_index: statement_at, columns: "
                        "{statement_at: datetime})")
    if not spec.generate_primary_key:
        problems.append(f"tables.{name}.generate_primary_key: an unpivot's rows have no key in any file; "
                        "set generate_primary_key: true")
    if not any(fk.references == u.table and fk.column == source.primary_key for fk in spec.foreign_keys):
        problems.append(f"tables.{name}.foreign_keys: an unpivot of {u.table!r} carries its key "
                        f"{source.primary_key!r}; declare foreign_keys: [{{column: {source.primary_key}, "
                        f"references: {u.table}}}] and the column {source.primary_key}: id")
    return problems


def _read_yaml(path: Path, what: str) -> dict:
    if not path.exists():
        raise ConfigError(f"{what} file {str(path)!r} does not exist; check the path")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} file {str(path)!r} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{what} file {str(path)!r} must hold a mapping at the top, found {type(data).__name__}")
    return data


def format_validation_error(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: {exc.error_count()} problem(s) in the configuration:"]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key; remove it or check its spelling"
        elif err["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"  - {where}: {msg}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the real data samples

SAMPLES_VARIABLE = "CREDITML_SAMPLES"
SAMPLES_PLACEHOLDER = "${" + SAMPLES_VARIABLE + "}"
DEFAULT_SAMPLES = Path("..") / "shared" / "data"
_CHECKOUT = Path(__file__).resolve().parents[2]  # the repository root when running from a source checkout


class SamplesNotFound(ConfigError):
    """The real data samples (kept outside the repository) are not where the setting points."""

    def __init__(self, message: str, location: Path):
        super().__init__(message)
        self.location = location


def samples_location() -> Path:
    """The folder holding the real data samples (``home_credit_sample/``, ``taiwan_credit_card/``).

    They may not be copied into the repository. ``$CREDITML_SAMPLES`` when set; otherwise
    ``../shared/data`` beside the working directory or, failing that, beside this source
    checkout. Raises :class:`SamplesNotFound` naming the variable when the folder is not there.
    """
    value = os.environ.get(SAMPLES_VARIABLE, "")
    if value:
        location = Path(value).expanduser().resolve()
        if not location.is_dir():
            raise SamplesNotFound(
                f"{SAMPLES_VARIABLE}: expected a folder holding the real data samples (home_credit_sample/, "
                f"taiwan_credit_card/), found {value!r}, which is not a folder; point {SAMPLES_VARIABLE} at it",
                location)
        return location
    looked = [Path.cwd() / DEFAULT_SAMPLES]
    if (_CHECKOUT / "pyproject.toml").exists():
        looked.append(_CHECKOUT / DEFAULT_SAMPLES)
    looked = list(dict.fromkeys(p.resolve() for p in looked))
    for location in looked:
        if location.is_dir():
            return location
    raise SamplesNotFound(
        f"{SAMPLES_VARIABLE} is not set and its default {DEFAULT_SAMPLES} does not exist (looked for "
        f"{' and '.join(map(str, looked))}); set {SAMPLES_VARIABLE} to the folder holding the real data samples "
        "(home_credit_sample/, taiwan_credit_card/), e.g. export CREDITML_SAMPLES=/path/to/shared/data",
        looked[0])


def _dataset_base_dir(value: Any, yaml_path: Path) -> Path:
    """Where a dataset's files are: the YAML's folder, or its ``base_dir`` (relative to the YAML).

    ``base_dir`` may start with ``${CREDITML_SAMPLES}`` (see :func:`samples_location`),
    so a dataset declared in the repository can read data that is not part of it.
    """
    here = yaml_path.resolve().parent
    if value is None:
        return here
    text = str(value)
    if text.startswith(SAMPLES_PLACEHOLDER):
        samples = samples_location()
        base = (samples / text[len(SAMPLES_PLACEHOLDER):].lstrip("/\\")).resolve()
        if not base.is_dir():
            raise SamplesNotFound(
                f"{yaml_path}: base_dir {text!r}: expected the folder {base}, found nothing there "
                f"({SAMPLES_VARIABLE} is {samples}); put the sample there or point {SAMPLES_VARIABLE} at the "
                "folder that holds it", base)
        return base
    if "${" in text:
        raise ConfigError(f"{yaml_path}: base_dir {text!r}: only {SAMPLES_PLACEHOLDER} is substituted, and only at "
                          "the start; write a path relative to the YAML or an absolute one")
    return (here / text).resolve()


def load_dataset_config(path: str | Path) -> DatasetConfig:
    """Load ``configs/datasets/*.yaml``; table files are resolved relative to ``base_dir`` (default: the YAML's folder)."""
    path = Path(path)
    data = _read_yaml(path, "dataset config")
    data["base_dir"] = str(_dataset_base_dir(data.get("base_dir"), path))
    try:
        return DatasetConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(path))) from exc


def dump_dataset_config(cfg: DatasetConfig, path: str | Path) -> None:
    """Write a dataset config as YAML (``base_dir`` is implied by the file's location)."""
    data = cfg.model_dump(mode="json", exclude={"base_dir"}, exclude_defaults=True)
    for table in data.get("tables", {}).values():
        cols = table.get("columns", {})
        for name, spec in cols.items():
            if set(spec) == {"type"}:
                cols[name] = spec["type"]
    Path(path).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


# --------------------------------------------------------------------------- pipelines


class TaskSpec(_Strict):
    """A prediction task as data: which rows are instances, when they are scored, what is learnt.

    ``label`` names a dataset label. It lives on the target table or on a child table
    with a foreign key to it (one label row per instance, e.g. the loan of an
    application). An instance is kept only when its label has matured: its cutoff is at
    least ``maturity_days`` before the dataset's ``as_of``. A positive label counts only
    if it was known by ``as_of``.
    """

    name: str
    target: str
    cutoff: str
    label: str
    maturity_days: int = Field(0, ge=0)
    require_not_null: list[str] = Field(default_factory=list)  # e.g. fraud: applications with a broker
    description: str = ""
    kind: Literal["default", "fraud", "collection"] = "default"  # which task-specific metrics apply


class GraphSettings(_Strict):
    """Identifier-graph features (fraud rings) over a link table of the target.

    ``table`` holds one row per (instance, identifier) sighting: ``instance_column`` points
    at the target, ``value_column`` is the hashed identifier, ``kind_column`` its kind and
    ``time_column`` when it was seen.
    """

    table: str
    instance_column: str
    value_column: str
    kind_column: str | None = None
    time_column: str
    customer_column: str | None = None  # column of the target table naming the customer
    label: str | None = None  # dataset label whose known positives are counted (known_at <= cutoff)
    burst_days: list[int] = Field(default_factory=lambda: [1, 7, 30])
    # kinds that do not join connected groups: identifiers legitimately shared by many
    # unrelated people (an employer's switchboard) would merge everyone into one group
    group_ignore_kinds: list[str] = Field(default_factory=list)
    # the kinds with their own columns; fixed on the training period by the pipeline
    kinds: list[str] | None = None


class FeatureSettings(_Strict):
    max_depth: int = Field(2, ge=0, le=3)
    max_candidates: int = Field(3000, ge=1)
    engine: Literal["fast", "featuretools"] = "fast"
    dask_scheduler: str | None = None  # e.g. tcp://10.0.0.5:8786: compute partitions on a Dask cluster
    dask_partitions: int | None = Field(None, ge=1)
    dask_data: Literal["path", "scatter"] = "path"  # workers load the dataset themselves, or get it sent
    agg_primitives: list[str] = Field(default_factory=lambda: [
        "count", "sum", "mean", "max", "min", "std", "num_unique", "mode", "percent_true",
        "trend", "time_since_last", "time_since_first", "avg_time_between",
    ])
    # "time_since" is the age of a datetime at the cutoff in days and "days_between" the days
    # between two datetimes of a row (see docs/primitives.md); "month" and "weekday" can be added
    # time_since is listed where ages are wanted (birth date, account opened): on data whose entities age
    # with the calendar (a synthetic world's customers all created at its start) it moves the scores
    # between the training and out-of-time periods (score PSI 0.49 on the small world), so it is opt-in
    trans_primitives: list[str] = Field(default_factory=lambda: ["days_between", "is_null"])
    where_primitives: list[str] = Field(default_factory=lambda: ["count", "mean", "sum", "max"])
    max_interesting_values: int = Field(3, ge=0)
    credit_primitives: bool = True
    recent_windows_days: list[int] = Field(default_factory=lambda: [30, 90, 365])
    ignore_columns: dict[str, list[str]] = Field(default_factory=dict)  # per table, never features
    # DAYS_BETWEEN(a, b) = b - a: pairs of datetime columns of one table as [table.a, table.b],
    # or [table.a, table.b, role] to tag the difference with a column role (days_past_due:
    # the credit aggregations of that role stack on it); unset: every pair in each table with
    # at most date_pairs_max_columns datetime columns, time index first, then in column order
    date_pairs: list[tuple[str, str] | tuple[str, str, str]] | None = None
    date_pairs_max_columns: int = Field(4, ge=2)
    # automatic pairs may use a declared label's known_at date (DAYS_BETWEEN(disbursed_at,
    # default_known_at)); false: they skip it, as the difference restates the label (a fixed
    # window for negatives) with the lender's processing lag, and the dates learned with the label
    # (fraud_confirmed_at, in its known_at's secondary time index): aggregated over earlier rows,
    # such a lag only shows the outcomes already learned, so it grows with the data's history.
    # Declared date_pairs are kept either way
    pair_label_dates: bool = True
    # DAYS_BETWEEN in exact days (with fractions of a day) or in whole calendar days between the
    # two dates' days, as days past due are counted (the time of day of a payment is not lateness)
    days_between_unit: Literal["days", "calendar_days"] = "days"
    # the target's own amounts get a roundness feature (coached incomes are round)
    round_amounts: bool = True
    # ratios a lender reads: "table.column" of the target or a table it looks up, or the
    # full name of a candidate feature, e.g. [applications.declared_income,
    # customers.monthly_income] (declared vs known income)
    ratios: list[tuple[str, str]] = Field(default_factory=list)
    graph: GraphSettings | None = None


class SelectionSettings(_Strict):
    max_null_share: float = Field(0.95, gt=0, le=1)
    max_correlation: float = Field(0.95, gt=0, le=1)
    min_iv: float = Field(0.005, ge=0)
    max_psi: float = Field(0.25, gt=0)
    # the stability rule drops nothing with fewer training rows than this, and above it only a PSI beyond
    # both max_psi and what the two time halves reach by chance (a small portfolio's halves differ by
    # sampling noise: 314 rows once dropped 224 candidates as unstable)
    min_stability_rows: int = Field(300, ge=2)
    # also drop a candidate whose PSI between the training rows and the validation period's rows (their
    # features, never their labels) passes max_psi: a characteristic that has already moved by the next
    # period is not trusted out of time (scorecard practice); see bench/refit_backtest.py
    psi_against_validation: bool = False
    leakage_auc: float = Field(0.98, gt=0.5, le=1)
    max_selected: int = Field(300, ge=1)
    bins: int = Field(10, ge=2)


class SplitSettings(_Strict):
    """Which instances train, validate and test.

    ``method: time`` (default) is the out-of-time split by cutoff time. Dates win over shares
    when given: instances with cutoff < ``validation_start`` train, those from
    ``validation_start`` to before ``test_start`` validate, the rest are the out-of-time test.
    Without dates, the last ``test_share`` of instances (by cutoff) are the test and the
    ``validation_share`` before them validate.

    ``method: key_hash`` is for data with no time between instances (every client scored at
    one date; Home Credit's relative time): each instance goes to test, validation or train
    by a seeded hash of its key (``seed``), about ``test_share`` and ``validation_share`` of
    them, the same instance always to the same split whatever else is in the data. It is
    *not* an out-of-time test: it measures how the model ranks unseen instances of the same
    period, not how it holds up in a later one.
    """

    method: Literal["time", "key_hash"] = "time"
    validation_start: str | None = None
    test_start: str | None = None
    # "key" orders instances by their primary key instead of their cutoff (method: time only): the
    # last instances by key are the test. Not out-of-time either; method: key_hash is preferred.
    order: Literal["time", "key"] = "time"
    validation_share: float = Field(0.2, gt=0, lt=0.5)
    test_share: float = Field(0.2, gt=0, lt=0.5)
    seed: int = 0  # key_hash only: another seed, another (equally valid) split
    # key_hash only: fold k shifts every key's hash fraction by k x test_share, so folds
    # 0 .. 1/test_share - 1 of one seed have disjoint test sets that cover every instance once
    # (cross-fitted evaluation of small portfolios; bench/real_data.py --folds)
    fold: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _hash_has_no_dates(self) -> "SplitSettings":
        if self.method == "key_hash" and (self.validation_start or self.test_start or self.order != "time"):
            raise ValueError("method: key_hash splits by a hash of the instance key; validation_start, test_start "
                             "and order belong to method: time; remove them or set method: time")
        if self.fold is not None:
            if self.method != "key_hash":
                raise ValueError("split.fold rotates a key_hash split; a split by time has no folds: remove "
                                 "split.fold or set method: key_hash")
            if self.fold * self.test_share >= 1 - 1e-9:
                raise ValueError(f"split.fold {self.fold} with test_share {self.test_share}: folds run from 0 to "
                                 f"{self.folds - 1}; choose one of those")
        return self

    @property
    def folds(self) -> int:
        """How many key_hash folds have disjoint test sets (``split.fold`` 0 .. folds - 1)."""
        return max(1, int(1 / self.test_share + 1e-9))


class ParamRange(_Strict):
    low: float
    high: float
    log: bool = False
    int: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> "ParamRange":
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")
        return self


def _default_space() -> dict[str, ParamRange]:
    return {
        "max_depth": ParamRange(low=2, high=7, int=True),
        "learning_rate": ParamRange(low=0.02, high=0.3, log=True),
        "min_child_weight": ParamRange(low=1, high=100, log=True),
        "subsample": ParamRange(low=0.5, high=1.0),
        "colsample_bytree": ParamRange(low=0.3, high=1.0),
        "reg_lambda": ParamRange(low=1e-3, high=50, log=True),
        "reg_alpha": ParamRange(low=1e-3, high=10, log=True),
        "gamma": ParamRange(low=1e-3, high=5, log=True),
    }


class TuningSettings(_Strict):
    """Optuna search: TPE with a recorded seed, pruning on validation AUC, early stopping.

    The study is persistent (``storage``; default ``sqlite:///mlruns/optuna.db``) and named
    after the pipeline and its data, so a killed run resumes where it stopped.

    ``cv_folds: 0`` scores a trial on the validation split. ``cv_folds: k`` (k >= 2) scores
    it by the mean AUC over k forward-chaining folds of the training split: the training
    instances are cut by cutoff time into k + 1 blocks, and fold i trains on blocks 0..i
    and validates on block i + 1. The validation split is then never seen by the search,
    and the final fit (on the whole training split) takes the CV optimum's round count
    scaled to the training split's size instead of early stopping on it, so it stays a
    held-out period (``modeling.train.final_rounds``).
    """

    n_trials: int = Field(30, ge=1)
    timeout_seconds: float | None = Field(None, gt=0)
    storage: str | None = None
    study_name: str | None = None
    early_stopping_rounds: int = Field(50, ge=1)
    max_boost_rounds: int = Field(2000, ge=10)
    search_space: dict[str, ParamRange] = Field(default_factory=_default_space)
    class_imbalance: Literal["none", "tune"] = "none"  # "tune": search scale_pos_weight too
    # feature-name glob -> +1 (score rises with the feature) / -1; e.g. {"*days_late*": 1}
    monotone_constraints: dict[str, Literal[-1, 1]] = Field(default_factory=dict)
    # None: one thread below SMALL_DATA_ROWS training rows (threads cost more than they save there, and a
    # shared machine is oversubscribed), else the cores this process may use; 0: all of the machine's cores
    nthread: int | None = Field(None, ge=0)
    cv_folds: int = 0  # 0: score trials on the validation split; k >= 2: folds of the training split
    # the finished trial the final fit takes: "best", the highest objective; "stable" (trials scored on
    # folds only), the highest mean fold AUC minus one standard deviation of the fold AUCs
    select: Literal["best", "stable"] = "best"
    # small portfolios: with cv_folds 0 and fewer training rows than this, trials are scored on
    # small_data_folds folds (a validation split of a few dozen positives picks trials by chance)
    small_data_rows: int = Field(1000, ge=0)
    small_data_folds: int = Field(5, ge=2)
    # Optuna's heartbeat: a running trial beats every heartbeat_seconds; one silent for stale_after_seconds
    # (its process was killed) is failed by the next run or registry command (optuna.storages.fail_stale_trials)
    heartbeat_seconds: int = Field(10, ge=1)
    stale_after_seconds: int = Field(60, ge=2)

    @field_validator("cv_folds")
    @classmethod
    def _folds(cls, value: int) -> int:
        if value == 1 or value < 0:
            raise ValueError(f"expected 0 (score trials on the validation split) or at least 2 forward-chaining "
                             f"folds of the training split, got {value}; set tuning.cv_folds to 0, 2, 3, ...")
        return value


class ScoringSettings(_Strict):
    """Points to double the odds: score = offset + pdo/ln2 * ln(odds good:bad)."""

    base_score: float = 600
    base_odds: float = Field(50, gt=0)
    pdo: float = Field(20, gt=0)
    bands: dict[str, float] = Field(default_factory=lambda: {"A": 680, "B": 640, "C": 600, "D": 560, "E": -1e9})
    reason_codes: int = Field(4, ge=1, le=20)
    # the label is the good outcome (a collection case cures): the score then rises with the
    # probability, and reason codes name what pulls it down
    label_is_good: bool = False


class TrainingSettings(_Strict):
    backend: Literal["local", "dask"] = "local"
    dask_scheduler: str | None = None  # default: features.dask_scheduler, then $DASK_SCHEDULER_ADDRESS
    min_positives: int = Field(30, ge=1)  # fewer positives in any split: stop before anything is logged
    # "train+validation": the registered model is refit on both splits, for the CV optimum's round count
    # (tuning.cv_folds) or the validation optimum's, scaled to the rows; the validation metrics are then
    # those of the same recipe fit on the training split only
    final_fit: Literal["train", "train+validation"] = "train"


class RegistrySettings(_Strict):
    model_name: str  # e.g. creditml-credit-default
    experiment: str | None = None  # default: creditml/<task name>


class GateSettings(_Strict):
    """Automated gates a version must pass to become ``challenger`` (and ever ``champion``)."""

    min_test_auc: float = Field(0.6, ge=0, le=1)
    min_test_ks: float = Field(0.1, ge=0, le=1)
    max_auc_drop: float = Field(0.05, ge=0, le=1)  # validation AUC - out-of-time AUC
    max_score_psi: float = Field(0.25, gt=0)  # training vs out-of-time score distribution
    max_calibration_error: float = Field(0.05, gt=0, le=1)  # out-of-time ECE
    max_additivity_error: float = Field(1e-4, gt=0)  # |sum SHAP + bias - margin|
    min_fairness_ratio: float = Field(0.8, ge=0, le=1)  # worst group's approval rate / best group's
    approval_rate: float = Field(0.7, gt=0, lt=1)  # approve this share of training instances (lowest risk)
    min_group_size: int = Field(50, ge=1)  # smaller protected groups are reported, not gated


class ReportSettings(_Strict):
    """What the review report shows beyond the defaults.

    ``segments``: columns (``table.column``, on the target table or a table it reaches
    through foreign keys, e.g. ``applications.channel`` or ``intermediaries.kind``) whose
    values split the out-of-time window in the report's stability section.
    """

    segments: list[str] = Field(default_factory=list)

    @field_validator("segments")
    @classmethod
    def _dotted(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if v.count(".") != 1 or not all(v.split("."))]
        if bad:
            raise ValueError(f"report.segments: expected table.column names (e.g. applications.channel); got {bad}")
        return value


class PipelineConfig(_Strict):
    name: str
    dataset: Path  # relative to the pipeline YAML
    task: TaskSpec
    features: FeatureSettings = Field(default_factory=FeatureSettings)
    selection: SelectionSettings = Field(default_factory=SelectionSettings)
    split: SplitSettings = Field(default_factory=SplitSettings)
    tuning: TuningSettings = Field(default_factory=TuningSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    registry: RegistrySettings | None = None
    gates: GateSettings = Field(default_factory=GateSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    seed: int = 0


def _set_path(data: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        if not isinstance(node.setdefault(key, {}), dict):
            raise ConfigError(f"--set {dotted}: {key!r} holds a value, not a section")
        node = node[key]
    node[keys[-1]] = value


def parse_overrides(pairs: list[str]) -> list[tuple[str, Any]]:
    """``["features.max_depth=0", ...]`` -> [(path, YAML-parsed value), ...]."""
    out = []
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set expects KEY=VALUE (e.g. features.max_depth=0), got {pair!r}")
        key, raw = pair.split("=", 1)
        out.append((key.strip(), yaml.safe_load(raw) if raw.strip() else None))
    return out


def load_pipeline_config(path: str | Path, overrides: list[str] | None = None,
                         dataset: str | Path | None = None) -> PipelineConfig:
    """Load ``pipelines/*.yaml`` with ``--set key=value`` overrides and an optional other dataset.

    The dataset path is relative to the pipeline YAML; ``dataset`` (``--dataset``) is
    taken as given (relative to the working directory).
    """
    path = Path(path)
    data = _read_yaml(path, "pipeline config")
    for key, value in parse_overrides(overrides or []):
        _set_path(data, key, value)
    if dataset is not None:
        data["dataset"] = str(Path(dataset).resolve())
    elif "dataset" in data:
        data["dataset"] = str((path.resolve().parent / str(data["dataset"])).resolve())
    try:
        cfg = PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(path))) from exc
    if not cfg.dataset.exists():
        raise ConfigError(
            f"{path}: dataset config {str(cfg.dataset)!r} does not exist; generate the built-in world "
            "(creditml generate --out data/world-medium --scale medium) or pass --dataset PATH"
        )
    return cfg
