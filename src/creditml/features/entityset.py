"""A featuretools EntitySet from any declared dataset: no column name is assumed.

What never becomes a feature is left out here, once: PII, protected attributes (kept
for fairness checks), free text, id columns that are neither a table's key nor a
foreign key, and labels with no time they became known. A label declared with
``known_at`` stays, as a late-known column: an earlier loan's default or an earlier
application's confirmed fraud is history a lender knows once it is known, and the
secondary time index hides it until then (the leakage tests change every such value
after the cutoff and require the features to stay the same).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import featuretools as ft
import pandas as pd
from woodwork.logical_types import BooleanNullable, Categorical, Datetime, Double, Integer, IntegerNullable, Unknown

from creditml.config import DatasetConfig
from creditml.data import Dataset, load_dataset

warnings.filterwarnings("ignore", category=FutureWarning, module=r"featuretools(\.|$)")
warnings.filterwarnings("ignore", category=UserWarning, module=r"woodwork(\.|$)")

# classes rather than their names: woodwork resolves a name by scanning its whole type registry
LABEL_KNOWN_AT = "label_known_at"  # semantic tag of a declared label's known_at date
LABEL_DATE = "label_date"  # a date learned with a label (fraud_confirmed_at, guarded by its known_at)
LOGICAL_TYPES = {"numeric": Double, "categorical": Categorical, "boolean": BooleanNullable, "datetime": Datetime}


def excluded_columns(cfg: DatasetConfig, extra: dict[str, list[str]] | None = None) -> dict[str, set[str]]:
    """Per table, the declared columns that must never reach a feature."""
    out: dict[str, set[str]] = {}
    for name, spec in cfg.tables.items():
        keys = {spec.primary_key, *(fk.column for fk in spec.foreign_keys)}
        labels = [label for label in cfg.labels.values() if label.table == name]
        drop = set(spec.pii) | set(spec.protected) | {label.column for label in labels if not label.known_at}
        drop |= {c for c, col in spec.columns.items() if col.type == "text" or (col.type == "id" and c not in keys)}
        drop |= set((extra or {}).get(name, []))
        drop |= {c for label in labels if label.rule is not None for c in (label.column, label.known_at)}
        for label in labels:
            # a label's known-at column must guard it as a secondary time index
            if label.known_at and label.column not in spec.secondary_time_index.get(label.known_at, []):
                drop.add(label.column)
        out[name] = drop - keys - ({spec.time_index} if spec.time_index else set())
    return out


def _key_type(values: pd.Series) -> type:
    if isinstance(values.dtype, pd.Int64Dtype):
        return IntegerNullable  # an optional foreign key (a direct application has no broker)
    return Integer if pd.api.types.is_integer_dtype(values) else Unknown


def _parents_of_nullable_integer_keys(dataset: Dataset) -> set[str]:
    """Tables referenced by an integer foreign key with missing values (declared ``nullable``)."""
    out = set()
    for name, spec in dataset.config.tables.items():
        for fk in spec.foreign_keys:
            column = dataset.tables[name][fk.column]
            if isinstance(column.dtype, pd.Int64Dtype) and pd.api.types.is_integer_dtype(
                    dataset.tables[fk.references][dataset.config.tables[fk.references].primary_key]):
                out.add(fk.references)
    return out


def _secondary_time_index(spec, kept: list[str]) -> dict[str, list[str]]:
    out = {}
    for when, cols in spec.secondary_time_index.items():
        cols = [c for c in cols if c in kept and c != when]
        if when in kept and cols:
            out[when] = cols
    return out


def declared_columns(spec, frame: pd.DataFrame, drop: set[str]) -> tuple[list[str], dict, dict, dict]:
    """What :func:`build_entityset` gives woodwork for one table: the kept columns, their
    logical types, semantic tags and secondary time index (the served fast path reuses it)."""
    kept = [c for c in frame.columns if c not in drop]
    sti = _secondary_time_index(spec, kept)
    # a when-known column that guards nothing kept is not needed either
    orphan_times = set(spec.secondary_time_index) - set(sti)
    kept = [c for c in kept if c not in orphan_times or c == spec.time_index]
    types = {}
    for col in kept:
        ctype = spec.columns[col].type if col in spec.columns else "id"
        types[col] = LOGICAL_TYPES[ctype] if ctype in LOGICAL_TYPES else _key_type(frame[col])
    tags = {c: {spec.columns[c].role} for c in kept if c in spec.columns and spec.columns[c].role}
    return kept, types, tags, sti


def build_entityset(dataset: Dataset, ignore: dict[str, list[str]] | None = None) -> ft.EntitySet:
    """Turn a validated dataset into an EntitySet with time indexes and relationships."""
    cfg = dataset.config
    drop = excluded_columns(cfg, ignore)
    es = ft.EntitySet(id=cfg.name)
    nullable_parents = _parents_of_nullable_integer_keys(dataset)
    for name, spec in cfg.tables.items():
        frame = dataset.tables[name]
        if name in nullable_parents:
            # woodwork gives a child key its parent key's type: an integer key with gaps needs a nullable parent
            frame = frame.assign(**{spec.primary_key: frame[spec.primary_key].astype("Int64")})
        kept, types, tags, sti = declared_columns(spec, frame, drop[name])
        for label in cfg.labels.values():  # late-known history of other rows, never the row's own feature
            if label.table == name and label.column in kept:
                tags.setdefault(label.column, set()).add("label")
            if label.table == name and label.known_at in kept:  # when the lender learned the outcome
                tags.setdefault(label.known_at, set()).add(LABEL_KNOWN_AT)
                for column in spec.secondary_time_index.get(label.known_at, []):  # and what it learned then
                    if column in kept and spec.columns[column].type == "datetime":
                        tags.setdefault(column, set()).add(LABEL_DATE)
        es.add_dataframe(
            dataframe_name=name,
            dataframe=frame[kept].copy(),
            index=spec.primary_key,
            time_index=spec.time_index,
            secondary_time_index=sti or None,
            logical_types=types,
            semantic_tags=tags or None,
        )
    for name, spec in cfg.tables.items():
        for fk in spec.foreign_keys:
            parent = cfg.tables[fk.references]
            es.add_relationship(fk.references, parent.primary_key, name, fk.column)
    return es


def load_entityset(dataset_yaml: str | Path, ignore: dict[str, list[str]] | None = None) -> ft.EntitySet:
    """The validated featuretools EntitySet of a declared dataset (for notebooks)."""
    return build_entityset(load_dataset(dataset_yaml), ignore)
