"""Tasks as declarations: which rows are instances, when each is scored, and its label.

One function serves every task; a task differs only by its :class:`TaskSpec`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from creditml.config import DatasetConfig, TaskSpec
from creditml.data import Dataset
from creditml.data.derive import dataset_as_of as derived_as_of
from creditml.errors import ConfigError, DataContractError


@dataclass
class TaskInstances:
    """Instances of a task: featuretools-style cutoff times and matured labels."""

    task: TaskSpec
    index_name: str
    cutoff_time: pd.DataFrame  # columns [index_name, "time"], sorted by time then id
    labels: pd.Series  # 0/1, indexed like cutoff_time
    as_of: pd.Timestamp
    left_out: dict[str, int]  # why instances were left out, with counts

    @property
    def times(self) -> pd.Series:
        return self.cutoff_time.set_index(self.index_name)["time"]


def dataset_as_of(dataset: Dataset) -> pd.Timestamp:
    """When the data was extracted: the declared ``as_of``, else the latest time in it."""
    return derived_as_of(dataset.config, dataset.tables)


def _label_frame(cfg: DatasetConfig, task: TaskSpec) -> tuple[str, str | None]:
    """The table holding the label and, if it is a child of the target, its link column."""
    if task.label not in cfg.labels:
        raise ConfigError(
            f"task {task.name!r}: label {task.label!r} is not declared in dataset {cfg.name!r} "
            f"(labels: {', '.join(cfg.labels) or 'none'}); declare it under labels: in the dataset YAML"
        )
    label = cfg.labels[task.label]
    if label.table == task.target:
        return label.table, None
    for fk in cfg.tables[label.table].foreign_keys:
        if fk.references == task.target:
            return label.table, fk.column
    raise ConfigError(
        f"task {task.name!r}: label {task.label!r} lives in table {label.table!r}, which is neither the "
        f"target {task.target!r} nor a child of it; point the task at a label of {task.target!r} or its children"
    )


def check_task(cfg: DatasetConfig, task: TaskSpec) -> None:
    """Fail early, before anything is computed, on a task that does not fit the dataset."""
    if task.target not in cfg.tables:
        raise ConfigError(f"task {task.name!r}: target table {task.target!r} is not in dataset {cfg.name!r} "
                          f"(tables: {', '.join(cfg.tables)})")
    spec = cfg.tables[task.target]
    cutoff = spec.columns.get(task.cutoff)
    if cutoff is None and not (spec.anchor_column and task.cutoff == spec.time_index):
        raise ConfigError(f"task {task.name!r}: cutoff column {task.cutoff!r} is not a column of {task.target!r}")
    if cutoff is not None and cutoff.type != "datetime":
        raise ConfigError(f"task {task.name!r}: cutoff column {task.target}.{task.cutoff} must be a datetime, "
                          f"it is declared {cutoff.type!r}")
    for col in task.require_not_null:
        if col not in spec.columns:
            raise ConfigError(f"task {task.name!r}: require_not_null column {col!r} is not a column of {task.target!r}")
    _label_frame(cfg, task)


def build_instances(dataset: Dataset, task: TaskSpec) -> TaskInstances:
    """Instances with a matured label, their cutoff times and labels as known at ``as_of``."""
    cfg = dataset.config
    check_task(cfg, task)
    pk = cfg.tables[task.target].primary_key
    label_spec = cfg.labels[task.label]
    label_table, link = _label_frame(cfg, task)
    target = dataset.tables[task.target]
    as_of = dataset_as_of(dataset)

    cols = [label_spec.column] + ([label_spec.known_at] if label_spec.known_at else [])
    lab = dataset.tables[label_table]
    if link is None:
        lab = lab[[pk, *cols]]
    else:
        dup = lab[link].dropna().duplicated()
        if dup.any():
            raise DataContractError([
                f"table {label_table!r}, column {link!r}: {int(dup.sum())} {task.target} row(s) have more than one "
                f"label row; task {task.name!r} needs one label per instance"], source=f"task {task.name!r}")
        lab = lab[[link, *cols]].rename(columns={link: pk})
    frame = target[[pk, task.cutoff, *task.require_not_null]].merge(lab, on=pk, how="inner")
    left_out = {"no label row": len(target) - len(frame)}
    keep = frame[task.require_not_null].notna().all(axis=1) if task.require_not_null else pd.Series(True, frame.index)
    left_out["required column missing"] = int((~keep).sum())
    frame = frame[keep]
    matured = frame[task.cutoff] <= as_of - pd.Timedelta(days=task.maturity_days)
    if label_spec.rule is not None:  # the rule's own window must have closed too
        matured &= frame[label_spec.column].notna()
        _check_rule_after_cutoff(dataset, task, label_spec)
    left_out["label not matured"] = int((~matured).sum())
    frame = frame[matured]
    y = pd.to_numeric(frame[label_spec.column]).fillna(0).astype(int)
    if label_spec.known_at:
        y = y.where(frame[label_spec.known_at] <= as_of, 0)  # a positive counts once it was known
    frame = frame.assign(_y=y.values).sort_values([task.cutoff, pk], kind="stable")
    cutoff_time = pd.DataFrame({pk: frame[pk].values, "time": frame[task.cutoff].values})
    labels = pd.Series(frame["_y"].values, index=pd.Index(frame[pk].values, name=pk), name=task.label)
    return TaskInstances(task, pk, cutoff_time, labels, as_of, {k: v for k, v in left_out.items() if v})


def _check_rule_after_cutoff(dataset: Dataset, task: TaskSpec, label) -> None:
    """What defines a label happens strictly after the cutoff: a rule's window may not open before it."""
    start_col = label.rule.start or dataset.config.tables[label.table].time_index
    if label.table != task.target or start_col == task.cutoff:
        return
    frame = dataset.tables[task.target]
    early = frame[start_col] < frame[task.cutoff]
    if early.any():
        pk = dataset.config.tables[task.target].primary_key
        raise DataContractError([
            f"task {task.name!r}: the window of label {task.label!r} opens at {task.target}.{start_col}, before the "
            f"cutoff {task.target}.{task.cutoff} for {int(early.sum())} instance(s) (e.g. "
            f"{', '.join(map(str, frame.loc[early, pk][:3]))}); events between them would be both features and "
            f"label. Start the window at the cutoff (rule.start: {task.cutoff}) or later"], source=f"task {task.name!r}")
