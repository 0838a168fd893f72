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
# domain roles the credit primitives look for (woodwork semantic tags on the column)
CreditRole = Literal["days_past_due", "amount_due", "amount_paid", "balance", "credit_limit"]


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
    role: CreditRole | None = None

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
    trans_primitives: list[str] = Field(default_factory=lambda: ["month", "weekday", "is_null"])
    where_primitives: list[str] = Field(default_factory=lambda: ["count", "mean", "sum", "max"])
    max_interesting_values: int = Field(3, ge=0)
    credit_primitives: bool = True
    recent_windows_days: list[int] = Field(default_factory=lambda: [30, 90, 365])
    ignore_columns: dict[str, list[str]] = Field(default_factory=dict)  # per table, never features
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
    leakage_auc: float = Field(0.98, gt=0.5, le=1)
    max_selected: int = Field(300, ge=1)
    bins: int = Field(10, ge=2)


class SplitSettings(_Strict):
    """Out-of-time split by cutoff time. Dates win over shares when given.

    Instances with cutoff < ``validation_start`` train, those from ``validation_start``
    to before ``test_start`` validate, the rest are the out-of-time test. Without dates,
    the last ``test_share`` of instances (by cutoff) are the test and the
    ``validation_share`` before them validate.
    """

    validation_start: str | None = None
    test_start: str | None = None
    # "key" orders instances by their primary key instead of their cutoff: only for data
    # with no absolute time (Home Credit). It is then not an out-of-time test; reports say so.
    order: Literal["time", "key"] = "time"
    validation_share: float = Field(0.2, gt=0, lt=0.5)
    test_share: float = Field(0.2, gt=0, lt=0.5)


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
    cv_folds: int = 0  # 0: score trials on the validation split; k >= 2: forward-chaining folds of train
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
    # "train+validation": the registered model is refit on both splits (needs tuning.cv_folds); the
    # validation metrics are then those of the same recipe fit on the training split only
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
    seed: int = 0

    @model_validator(mode="after")
    def _refit_needs_folds(self) -> "PipelineConfig":
        if self.training.final_fit == "train+validation" and not self.tuning.cv_folds:
            raise ValueError(
                "training.final_fit: 'train+validation' takes its round count from forward-chaining CV, but "
                "tuning.cv_folds is 0; set tuning.cv_folds to 2 or more, or training.final_fit to 'train'"
            )
        return self


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
