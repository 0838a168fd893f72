"""Typed configuration: YAML is loaded once, at the edge, into these pydantic models.

Everything below the CLI receives these objects, never raw dicts. Unknown keys are
errors (``extra="forbid"``) so that a typo surfaces where it was made, with its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from creditml.errors import ConfigError

SemanticType = Literal["numeric", "categorical", "boolean", "datetime", "id", "text"]
OffsetUnit = Literal["days", "months"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """One column: its semantic type and, for relative time, its offset unit.

    A column with ``offset_unit`` holds a number of days or months relative to the
    dataset's ``time_anchor`` (Home Credit's ``DAYS_*``, ``MONTHS_BALANCE``); loading
    turns it into a timestamp, so its type must be ``datetime``.
    """

    type: SemanticType
    offset_unit: OffsetUnit | None = None

    @model_validator(mode="after")
    def _offset_is_time(self) -> "ColumnSpec":
        if self.offset_unit is not None and self.type != "datetime":
            raise ValueError(
                f"offset_unit={self.offset_unit!r} turns the column into a timestamp, "
                f"so its type must be 'datetime', not {self.type!r}"
            )
        return self


class ForeignKey(_Strict):
    """``column`` of this table points at the primary key of table ``references``."""

    column: str
    references: str
    on_orphan: Literal["error", "drop"] = "error"


class TableSpec(_Strict):
    file: str
    format: Literal["parquet", "csv"] | None = None  # inferred from the suffix when absent
    primary_key: str
    generate_primary_key: bool = False  # the file has no key column: number the rows
    time_index: str | None = None
    anchor_column: bool = False  # time_index is created and holds the dataset time_anchor
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

    @property
    def resolved_format(self) -> str:
        if self.format:
            return self.format
        suffix = Path(self.file).suffix.lower()
        return "csv" if suffix in {".csv", ".txt"} else "parquet"

    @property
    def late_columns(self) -> set[str]:
        return {c for cols in self.secondary_time_index.values() for c in cols}


class LabelSpec(_Strict):
    """A 0/1 column that is a label, never a feature; ``known_at`` says when it was known."""

    table: str
    column: str
    known_at: str | None = None


class DatasetConfig(_Strict):
    name: str
    description: str = ""
    time_anchor: str | None = None  # ISO date that relative offsets count from
    # when the data was extracted: labels mature relative to it (default: latest time in the data)
    as_of: str | None = None
    tables: dict[str, TableSpec]
    labels: dict[str, LabelSpec] = Field(default_factory=dict)
    base_dir: Path = Path(".")  # set by the loader: files are relative to the YAML

    @model_validator(mode="after")
    def _references_exist(self) -> "DatasetConfig":
        problems = []
        for tname, table in self.tables.items():
            declared = set(table.columns)
            if table.generate_primary_key:
                declared.add(table.primary_key)
            if table.anchor_column and table.time_index:
                declared.add(table.time_index)
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
            if table.anchor_column and not self.time_anchor:
                problems.append(f"tables.{tname}.anchor_column needs a dataset-level time_anchor")
            if any(c.offset_unit for c in table.columns.values()) and not self.time_anchor:
                problems.append(
                    f"tables.{tname}: columns with offset_unit need a dataset-level time_anchor "
                    "(the date the offsets count from)"
                )
        for lname, label in self.labels.items():
            if label.table not in self.tables:
                problems.append(f"labels.{lname}: table {label.table!r} is not declared")
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

    def path_of(self, table: str) -> Path:
        return (self.base_dir / self.tables[table].file).resolve()

    def children_of(self, table: str) -> list[tuple[str, ForeignKey]]:
        return [
            (name, fk) for name, t in self.tables.items() for fk in t.foreign_keys if fk.references == table
        ]

    @property
    def label_columns(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for label in self.labels.values():
            out.setdefault(label.table, set()).add(label.column)
        return out


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


def load_dataset_config(path: str | Path) -> DatasetConfig:
    """Load ``configs/datasets/*.yaml``; table files are resolved relative to the YAML."""
    path = Path(path)
    data = _read_yaml(path, "dataset config")
    data.setdefault("base_dir", str(path.resolve().parent))
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
