"""Dates are read as declared, never guessed.

Without a declaration a datetime column holds ISO 8601 text (2024-03-01, 2024-03-01
10:00) or an unambiguous written date (25/04/2020, 1 May 2021). Numbers, digit
strings such as 930705, and strings that read as two different dates (03/04/2020)
stay unparsed; validation then names the column and the declaration that fixes it
(``format``, ``epoch_unit`` or ``dayfirst``).
"""

from __future__ import annotations

import warnings

import pandas as pd

from creditml.config import ColumnSpec

_NUMBER = r"[+-]?\d+(\.\d*)?"


def _as_text(series: pd.Series) -> pd.Series:
    """Text of each value; integral floats (a CSV integer column with gaps) lose their '.0'."""
    if pd.api.types.is_float_dtype(series):
        whole = series.notna() & (series % 1 == 0)
        if whole[series.notna()].all():
            return series.astype("Int64").astype("string")
    return series.astype("string").str.strip()


def _mixed(text: pd.Series, dayfirst: bool) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=dayfirst)
        except (ValueError, TypeError, OverflowError):  # mixed time zones and the like: per value
            return pd.Series([_one(v, dayfirst) for v in text], index=text.index, dtype="datetime64[ns]")


def _one(value, dayfirst: bool):
    try:
        out = pd.Timestamp(pd.to_datetime(value, dayfirst=dayfirst))
        return out.tz_localize(None) if out.tzinfo is not None else out
    except (ValueError, TypeError, OverflowError):
        return pd.NaT


def _naive(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[ns]")


def parse_dates(series: pd.Series, spec: ColumnSpec) -> pd.Series:
    """Timestamps of a datetime column as declared; anything else becomes NaT (validation counts it)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return _naive(series)
    if spec.epoch_unit is not None:
        numbers = pd.to_numeric(series, errors="coerce")
        return pd.to_datetime(numbers, unit=spec.epoch_unit, errors="coerce")
    text = _as_text(series)
    if spec.format is not None:
        return _naive(pd.to_datetime(text, format=spec.format, errors="coerce"))
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return out  # numbers are never dates without format or epoch_unit
    candidates = text.notna() & ~text.str.fullmatch(_NUMBER).fillna(False).astype(bool)
    if not candidates.any():
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            iso = _naive(pd.to_datetime(text[candidates], format="ISO8601", errors="coerce"))
        except (ValueError, TypeError):
            iso = pd.Series(pd.NaT, index=text[candidates].index, dtype="datetime64[ns]")
    out[candidates] = iso
    rest = candidates & out.isna()
    if rest.any():
        if spec.dayfirst is not None:
            out[rest] = _naive(_mixed(text[rest], spec.dayfirst))
        else:
            monthfirst, dayfirst = _naive(_mixed(text[rest], False)), _naive(_mixed(text[rest], True))
            out[rest] = monthfirst.where(monthfirst == dayfirst)  # two readings: refuse both
    return out


def why_not_dates(values: pd.Series, spec: ColumnSpec) -> tuple[str, str]:
    """(what was found, what to declare) for values of a datetime column that did not parse."""
    text = _as_text(values.dropna())
    if spec.epoch_unit is not None:
        return (f"epoch_unit: {spec.epoch_unit} reads numbers only, these are not numbers",
                "fix the values, or declare format instead of epoch_unit")
    if spec.format is not None:
        return (f"not in the declared format {spec.format!r}",
                "fix the values or the column's format (strftime, e.g. '%Y-%m-%d', '%d.%m.%Y', '%y%m%d')")
    digits = text.str.fullmatch(_NUMBER).fillna(False).astype(bool)
    if len(text) and digits.all():
        sample = text.iloc[0]
        guess = {6: "'%y%m%d'", 8: "'%Y%m%d'"}.get(len(sample.split(".")[0].lstrip("+-")))
        fix = f"format: {guess}" if guess else "format: '%Y%m%d' (whatever they spell)"
        return ("they are numbers, and creditml does not guess which date a number means",
                f"declare how they are written: {fix} for digits that spell a date, or epoch_unit: s|ms|us|ns|D "
                "for a count since 1970-01-01")
    monthfirst, dayfirst = _mixed(text, False), _mixed(text, True)
    ambiguous = monthfirst.notna() & dayfirst.notna() & (monthfirst != dayfirst)
    if ambiguous.any():
        return ("ambiguous: read day-first and month-first they give two different dates, "
                f"e.g. {text[ambiguous].iloc[0]!r}",
                "declare dayfirst: true (31/12/2020) or dayfirst: false (12/31/2020), or a format")
    return ("expected ISO 8601 such as 2024-03-01 or an unambiguous written date, as no format is declared",
            "declare the column's format (strftime, e.g. '%d.%m.%Y %H:%M') or fix the values")
