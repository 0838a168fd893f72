"""Load a declared dataset: read, validate and type every table, or raise with every problem.

The chain runs one way: loading -> validation -> reading and coercion.
``coerce_column`` and ``anchor_timestamp`` are re-exported for the record readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from creditml.config import DatasetConfig, load_dataset_config
from creditml.data.coercion import anchor_timestamp, coerce_column, normalize_id, type_table
from creditml.data.reading import read_raw
from creditml.data.validation import CleaningStep, validate_dataset
from creditml.errors import DataContractError

__all__ = ["Dataset", "load_dataset", "anchor_timestamp", "coerce_column", "normalize_id", "read_raw", "type_table"]


@dataclass
class Dataset:
    """Validated, typed tables of one declared dataset."""

    config: DatasetConfig
    tables: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)  # what loading noticed, in words
    cleaning: list[CleaningStep] = field(default_factory=list)  # each declared cleaning step, with its count

    def table(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def load_dataset(config: DatasetConfig | str | Path) -> Dataset:
    """Validate and load a declared dataset; raise :class:`DataContractError` on any problem."""
    cfg = config if isinstance(config, DatasetConfig) else load_dataset_config(config)
    report = validate_dataset(cfg)
    if report.problems:
        raise DataContractError(report.problems, source=f"dataset {cfg.name!r}")
    return Dataset(cfg, report.tables, report.notes, report.cleaning)
