"""JSON values of a validated record typed as the general path types them, or :class:`Unsupported`.

Shared by the compiled scorer's record typer and its graph coder: each reads only the
value types a validated record carries and leaves anything else to the general path
(``records.tables_from_records``), which stays the reference.
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np

_INT64 = 2 ** 63
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


def int_key(value):
    """An integer key (None: missing); anything else would be converted by the general path."""
    if value is None or (type(value) is int and -_INT64 <= value < _INT64):
        return value
    raise Unsupported(f"key {value!r} is not an integer")


def str_key(value):
    """A string key (None: missing)."""
    if value is None or type(value) is str:
        return value
    raise Unsupported(f"key {value!r} is not a string")


def number(value):
    """A number as a float (None: missing); a boolean or text is left to the general path."""
    if value is None:
        return None
    if type(value) is float or (type(value) is int and -_INT64 <= value < _INT64):
        return float(value)
    raise Unsupported(f"number {value!r}")


def first_rows(rows: list[dict], keys: list) -> list[dict]:
    """``drop_duplicates(subset=[pk], keep="first")``: the first row of each key stays."""
    seen, out = set(), []
    for row, key in zip(rows, keys):
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def declared_kind(spec, col: str, key_kind: str | None) -> str | None:
    """How the compiled path types a record's values of ``col`` of table ``spec``: ``key``
    (integer id), ``str_key``, ``float``, ``bool``, ``datetime``, ``category``, or None (left to
    the general path: an undeclared column, an offset or anchored time, another type)."""
    if key_kind is not None:
        return "key" if key_kind == "int" else "str_key"
    cspec = spec.columns.get(col)
    if cspec is None or cspec.offset_unit is not None or (spec.anchor_column and col == spec.time_index):
        return None
    return {"numeric": "float", "boolean": "bool", "datetime": "datetime", "categorical": "category"}.get(cspec.type)
