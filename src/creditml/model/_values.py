"""JSON values of a validated record typed as the general path types them, or :class:`Unsupported`.

Shared by the compiled scorer's record typer and its graph coder: each reads only the
value types a validated record carries and leaves anything else to the general path
(``records.tables_from_records``), which stays the reference.
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?")
_NAT = np.datetime64("NaT", "ns")


class Unsupported(Exception):
    """The request leaves the compiled path; the caller takes the general one."""


def _time(value) -> np.datetime64:
    if value is None:
        return _NAT
    if not isinstance(value, str) or not _ISO.fullmatch(value):
        raise Unsupported(f"time {value!r}")
    stamp = datetime.fromisoformat(value)
    if not 1678 <= stamp.year <= 2261:
        raise Unsupported(f"time {value!r} beyond nanosecond timestamps")
    return np.datetime64(stamp, "ns")


def times(values: list) -> np.ndarray:
    """ISO strings as ``pd.to_datetime(..., format="ISO8601")`` reads them (None: NaT)."""
    return np.array([_time(v) for v in values], dtype="datetime64[ns]")


def text(value):
    """A categorical value as ``coerce_column`` types it: stripped, a blank is missing (None)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Unsupported(f"category {value!r} is not a string")
    value = value.strip()
    return value if value else None
