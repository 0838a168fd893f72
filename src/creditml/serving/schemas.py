"""Request and response bodies of the REST server, and the per-task record contract.

Two layers of validation:

* :class:`RecordIn` / :class:`ScoreBatch`: the shape every task shares (published in the
  OpenAPI spec), ``extra="forbid"`` at the top level;
* :class:`TaskRecordValidator`: the served model's own contract, built from its dataset
  config: the instance must hold the target's primary key and cutoff column, ``related``
  may only name declared tables, every related row needs its primary key, and every
  declared column must parse with its declared type. Undeclared columns are dropped.

Both raise :class:`RecordErrors` holding FastAPI-style error entries whose ``loc`` points
at the offending field (``["body", "records", 0, "instance", "applied_at"]``).
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Annotated, Any, Optional, Union

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

from creditml.config import DatasetConfig, TaskSpec

MAX_BATCH = 1000


class RecordIn(BaseModel):
    """One instance with the related rows its features read (see ``creditml.model.records``)."""

    model_config = ConfigDict(extra="forbid")

    instance: dict[str, Any] = Field(..., description="the target row: primary key, cutoff column, own columns")
    related: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict, description="declared table name -> rows of that table the features read")
    cutoff_time: Time = Field(None, description="score as of this time (default: the cutoff column)")


class ScoreBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[RecordIn] = Field(..., min_length=1, max_length=MAX_BATCH)


ScoreRequest = Union[ScoreBatch, RecordIn]


class ReasonCode(BaseModel):
    feature: str
    description: str
    value: Any = None
    contribution: float


class ScoredInstance(BaseModel):
    instance_id: Union[int, str]
    probability: float
    score: float
    band: str
    reason_codes: list[ReasonCode]
    model_name: str
    model_version: str


class ScoreResponse(BaseModel):
    task: str
    results: list[ScoredInstance]


class ModelInfo(BaseModel):
    task: str
    name: str
    version: str
    alias: str
    loaded_at: str
    run_id: str = ""
    link_store: bool = False  # graph context filled from the link store


class LinkStoreHealth(BaseModel):
    state: str = Field(..., description="ok, empty (no application), stale (newest sighting older than "
                                        "max_age_days) or unreadable")
    newest_sighting: Optional[str] = None
    max_age_days: float
    message: str = ""


class Health(BaseModel):
    status: str
    models: int
    # models whose champion alias disagrees with the ledger (or whose ledger fails verification)
    champion_mismatch: list[dict] = []
    link_store: Optional[LinkStoreHealth] = None  # None: the server runs without a link store


class ReloadResult(BaseModel):
    changed: list[str]
    models: list[ModelInfo]


class ErrorEntry(BaseModel):
    loc: list[Union[str, int]]
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    detail: list[ErrorEntry]


class MessageBody(BaseModel):
    detail: str


class RecordErrors(Exception):
    """Field-level problems of a request body; ``errors`` are FastAPI-style entries."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))


def _entry(loc, msg: str, kind: str) -> dict:
    return {"loc": list(loc), "msg": msg, "type": kind}


def pydantic_errors(exc: ValidationError, prefix: tuple) -> list[dict]:
    return [_entry((*prefix, *err["loc"]), err["msg"], err["type"]) for err in exc.errors()]


def parse_body(payload: Any) -> tuple[list[RecordIn], bool]:
    """The records of a single-record or batch body, and whether it was a batch."""
    if isinstance(payload, dict) and "records" in payload:
        try:
            return ScoreBatch.model_validate(payload).records, True
        except ValidationError as exc:
            raise RecordErrors(pydantic_errors(exc, ("body",))) from None
    if not isinstance(payload, dict):
        raise RecordErrors([_entry(("body",), "expected a record object {\"instance\": {...}, \"related\": {...}} "
                                   "or a batch {\"records\": [...]}", "model_type")])
    try:
        return [RecordIn.model_validate(payload)], False
    except ValidationError as exc:
        raise RecordErrors(pydantic_errors(exc, ("body",))) from None


# --------------------------------------------------------------------------- per task


def _naive(value: Optional[datetime]) -> Optional[datetime]:
    # the data is naive; an aware time is taken as the same instant in UTC
    if value is not None and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _pandas_time(value: datetime) -> datetime:
    # the tables hold nanosecond timestamps: 1677-09-22 .. 2262-04-11
    if not 1678 <= value.year <= 2261:
        raise ValueError(f"a time between the years 1678 and 2261 is expected, got {value.isoformat()}")
    return value


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?")


def _iso_string(value: Any) -> Any:
    # pydantic alone reads 12345 (or "12345") as seconds since 1970: a wrong time, silently scored
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO.fullmatch(value.strip()):
        return value.strip()
    found = f"the string {value[:40]!r}" if isinstance(value, str) else f"{type(value).__name__} {str(value)[:40]}"
    raise ValueError(f"an ISO 8601 date-time string such as '2024-03-01T10:00:00' is expected, found {found}; "
                     "send times as ISO strings")


MAX_ABS_NUMBER = 1e15  # above any amount, count or rate a record holds; XGBoost reads float32 (max 3.4e38)


def _plausible(value: float) -> float:
    if not math.isfinite(value) or abs(value) > MAX_ABS_NUMBER:
        raise ValueError(f"a finite number between -{MAX_ABS_NUMBER:g} and {MAX_ABS_NUMBER:g} is expected, "
                         f"found {value!r}; check the unit of the amount")
    return value


Time = Optional[Annotated[datetime, BeforeValidator(_iso_string), AfterValidator(_pandas_time)]]
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Number = Annotated[float, AfterValidator(_plausible)]

_TYPES: dict[str, Any] = {
    "id": Optional[Union[Int64, str]],
    "numeric": Optional[Number],
    "boolean": Optional[bool],
    "datetime": Time,  # Optional[...] outside, so required columns keep the check
    "categorical": Optional[Union[str, int, float]],
    "text": Optional[Union[str, int, float]],
}


def _row_model(cfg: DatasetConfig, table: str, required: set[str]) -> type[BaseModel]:
    spec = cfg.tables[table]
    fields: dict[str, Any] = {}
    for i, (col, cspec) in enumerate(spec.columns.items()):
        kind = Optional[Number] if cspec.offset_unit else _TYPES[cspec.type]
        if col in required:
            kind = _non_null(kind)
            fields[f"c{i}"] = (kind, Field(..., alias=col))
        else:
            fields[f"c{i}"] = (kind, Field(None, alias=col))
    return create_model(f"Row_{table}", __config__=ConfigDict(extra="ignore", populate_by_name=False), **fields)


def _non_null(kind):
    args = [a for a in kind.__args__ if a is not type(None)]
    return args[0] if len(args) == 1 else Union[tuple(args)]


class TaskRecordValidator:
    """A served model's record contract, from its dataset config and task."""

    def __init__(self, cfg: DatasetConfig, task: TaskSpec):
        self.cfg, self.task = cfg, task
        target = cfg.tables[task.target]
        self.primary_key = target.primary_key
        self.anchor_cutoff = bool(target.anchor_column and task.cutoff == target.time_index)
        required = {self.primary_key} | ({task.cutoff} if not self.anchor_cutoff else set())
        self.instance_model = _row_model(cfg, task.target, required)
        self.row_models = {name: _row_model(cfg, name, {spec.primary_key}) for name, spec in cfg.tables.items()}
        self.datetime_columns = {name: {c for c, s in spec.columns.items() if s.type == "datetime" and not s.offset_unit}
                                 for name, spec in cfg.tables.items()}

    @property
    def tables(self) -> list[str]:
        return list(self.cfg.tables)

    def _row(self, model, table: str, row: dict, loc: tuple, errors: list) -> Optional[dict]:
        try:
            parsed = model.model_validate(row)
        except ValidationError as exc:
            for err in exc.errors():
                msg = err["msg"]
                if err["type"] == "missing":
                    msg = f"column {err['loc'][0]!r} of table {table!r} is required"
                errors.append(_entry((*loc, *err["loc"]), msg, err["type"]))
            return None
        out = parsed.model_dump(by_alias=True, exclude_unset=True)
        for col in self.datetime_columns[table] & out.keys():
            value = _naive(out[col])
            out[col] = None if value is None else value.isoformat()
        return out

    def validate(self, records: list[RecordIn], batch: bool) -> list[dict]:
        """Normalised records (declared columns, parsed values, ISO times) or RecordErrors."""
        errors: list[dict] = []
        out = []
        for i, record in enumerate(records):
            base = ("body", "records", i) if batch else ("body",)
            instance = self._row(self.instance_model, self.task.target, record.instance, (*base, "instance"), errors)
            if instance is not None and self.anchor_cutoff and not instance.get(self.task.cutoff):
                instance[self.task.cutoff] = self.cfg.time_anchor
            if instance is not None and not self.anchor_cutoff and instance.get(self.task.cutoff) is None:
                errors.append(_entry((*base, "instance", self.task.cutoff),
                                     f"the cutoff column {self.task.cutoff!r} must hold a time", "missing"))
            related = {}
            for table, rows in record.related.items():
                if table not in self.row_models:
                    errors.append(_entry((*base, "related", table),
                                         f"unknown table {table!r}; declared tables: {', '.join(self.tables)}",
                                         "unknown_table"))
                    continue
                parsed = [self._row(self.row_models[table], table, row, (*base, "related", table, j), errors)
                          for j, row in enumerate(rows)]
                related[table] = [r for r in parsed if r is not None]
            cutoff = _naive(record.cutoff_time)
            normalised = {"instance": instance, "related": related}
            if cutoff is not None:
                normalised["cutoff_time"] = cutoff.isoformat()
            out.append(normalised)
        if errors:
            raise RecordErrors(errors)
        return out

    def json_schema(self) -> dict:
        """The task's record contract as JSON schema (served at ``GET /v1/{task}/schema``)."""
        related = {name: {"type": "array", "items": model.model_json_schema()} for name, model in self.row_models.items()}
        return {"title": f"record of task {self.task.name}", "type": "object", "additionalProperties": False,
                "required": ["instance"],
                "properties": {"instance": self.instance_model.model_json_schema(),
                               "related": {"type": "object", "additionalProperties": False, "properties": related},
                               "cutoff_time": {"type": "string", "format": "date-time"}}}
