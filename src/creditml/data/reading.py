"""Read one declared table as it is stored: delimited text, Parquet, or a database table or query.

Reading never types a column; a reader's failure comes back as a :class:`ReadError`
whose message names the table and what to set.
"""

from __future__ import annotations

import pandas as pd

from creditml.config import DatasetConfig, TableSpec

DELIMITERS = {";": "';'", "\t": "'\\t' (tab)", "|": "'|'", ",": "','"}


class ReadError(Exception):
    """A table could not be read; the message is a complete problem statement."""


def _read_text(spec: TableSpec, path) -> pd.DataFrame:
    opts = spec.csv
    return pd.read_csv(
        path, sep=spec.delimiter, quotechar=opts.quotechar, encoding=opts.encoding,
        na_values=opts.na_values or None, thousands=opts.thousands, decimal=opts.decimal, low_memory=False,
    )


def engine_url(url: str):
    """The URL SQLAlchemy connects with: a bare postgresql:// uses whichever driver is installed.

    SQLAlchemy 2.1 reads postgresql:// as psycopg 3; a machine with only psycopg2 would
    otherwise fail on a URL that names no driver at all.
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        import importlib.util

        if importlib.util.find_spec("psycopg") is None and importlib.util.find_spec("psycopg2") is not None:
            parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed


def _read_database(spec: TableSpec) -> pd.DataFrame:
    import sqlalchemy

    source = spec.source
    engine = sqlalchemy.create_engine(engine_url(source.url))
    try:
        with engine.connect() as conn:
            if source.table is not None:
                return pd.read_sql_table(source.table, conn, schema=source.db_schema)
            return pd.read_sql_query(sqlalchemy.text(source.query), conn)
    finally:
        engine.dispose()


def safe_url(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL is shown without its credentials part
        return url.split("@")[-1]


def read_raw(cfg: DatasetConfig, name: str) -> pd.DataFrame:
    """The table's rows as stored; raises :class:`ReadError` naming the table and the fix."""
    spec = cfg.tables[name]
    if spec.unpivot is not None:  # a child table made of the wide table's columns
        from creditml.data.reshape import unpivot

        try:
            return unpivot(read_raw(cfg, spec.unpivot.table), cfg, name)
        except ValueError as exc:
            raise ReadError(f"table {name!r}: file {str(cfg.path_of(name))!r} cannot be read as an unpivot of "
                            f"table {spec.unpivot.table!r}: {exc}") from None
    if spec.source is not None:
        what = f"table {spec.source.table!r}" if spec.source.table else "its query"
        try:
            return _read_database(spec)
        except ModuleNotFoundError as exc:
            raise ReadError(
                f"table {name!r}: the database driver {exc.name!r} for {safe_url(spec.source.url)} is not installed; "
                f"install it (e.g. pip install psycopg2-binary for PostgreSQL) or name an installed driver in "
                f"tables.{name}.source.url (e.g. postgresql+psycopg2://...)"
            ) from exc
        except Exception as exc:  # driver, network and SQL errors all mean the same to the user
            raise ReadError(
                f"table {name!r}: cannot read {what} from {safe_url(spec.source.url)}: "
                f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}; check tables.{name}.source "
                "(url, table or query) and that the database is reachable"
            ) from exc
    path = cfg.path_of(name)
    if not path.exists():
        raise ReadError(f"table {name!r}: file {str(path)!r} does not exist; check tables.{name}.file "
                        "(paths are relative to the dataset YAML)")
    fmt = spec.resolved_format
    try:
        raw = _read_text(spec, path) if fmt == "csv" else pd.read_parquet(path)
    except Exception as exc:  # any reader failure is a data problem to report, not a crash
        hint = (f"; if it is delimited text, set tables.{name}.format: csv" if fmt == "parquet"
                else f"; check tables.{name}.csv (delimiter, quotechar, encoding)")
        raise ReadError(f"table {name!r}: file {str(path)!r} cannot be read as {fmt}: {exc}{hint}") from exc
    if fmt == "csv":
        _check_delimiter(name, spec, path, raw)
    return raw


def _check_delimiter(name: str, spec: TableSpec, path, raw: pd.DataFrame) -> None:
    """One column whose header holds another delimiter: the file was split on the wrong one."""
    if raw.shape[1] != 1:
        return
    header = str(raw.columns[0])
    for sep in (";", "\t", "|", ","):
        if sep != spec.delimiter and sep in header:
            shown = "\\t" if sep == "\t" else sep
            raise ReadError(
                f"table {name!r}: {path.name} read as one column named {header[:60]!r} with delimiter "
                f"{DELIMITERS.get(spec.delimiter, repr(spec.delimiter))}, but the header contains {DELIMITERS[sep]}: "
                f"the file looks {DELIMITERS[sep]}-separated; set tables.{name}.csv.delimiter: \"{shown}\""
            )
