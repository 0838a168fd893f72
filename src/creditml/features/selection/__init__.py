"""Feature selection for credit models: drop what is empty, redundant, leaking, weak or unstable.

``FeatureSelector`` learns on training rows only and explains every decision: each
candidate gets one row in ``report_`` with the first rule it failed, the value that
decided it and a sentence naming any partner column. The rules run in this order::

    unsupported_type, mostly_null, constant, duplicate, suspected_leakage,
    low_iv, unstable, correlated, over_limit

Columns dropped as ``suspected_leakage`` are also listed in ``leakage_flags_`` so that
a promotion gate can refuse a model trained next to them.

Modules: ``_selector`` (the estimator and its input checks), ``_rules`` (the rules and
the report), ``_statistics`` (every per-column statistic in one vectorised pass; PSI and
AUC come from :mod:`creditml.stats`).
"""

from creditml.features.selection._rules import REPORT_COLUMNS
from creditml.features.selection._selector import FeatureSelector

__all__ = ["REPORT_COLUMNS", "FeatureSelector"]
