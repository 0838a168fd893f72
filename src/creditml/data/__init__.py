"""Dataset contracts: read the declared tables, validate them, return typed frames."""

from creditml.data.loading import Dataset, load_dataset
from creditml.data.validation import CleaningStep, DateRange, ValidationReport, validate_dataset

__all__ = ["CleaningStep", "Dataset", "DateRange", "ValidationReport", "load_dataset", "validate_dataset"]
