"""Driver-level reads and writes for the ingestion hot path.

SQLAlchemy's Core spends ~20 µs a row building parameters and ~1 µs a row building result rows; here rows are
tuples already in their stored form, handed to the driver's own executemany (COPY on PostgreSQL), and look-ups of
many keys send the whole list as one parameter. The stored forms are exactly what the SQLAlchemy types write
(UTC timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff', JSON as text), so reads through SQLAlchemy see the same values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


@contextmanager
def driver_errors(conn: Connection, statement: str) -> Iterator[None]:
    """Raise what the driver raises as SQLAlchemy would (``DBAPIError`` subclasses: ``OperationalError`` for a
    server shutting down, ``IntegrityError`` for a duplicate key), and invalidate a connection the error lost so
    the pool replaces it. Callers, the ingestion retry and the API's 503 for an unavailable database then see one
    kind of error whether a statement went through SQLAlchemy or straight to the driver."""
    base = conn.dialect.loaded_dbapi.Error
    try:
        yield
    except base as exc:
        lost = conn.dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(statement, None, exc, base, connection_invalidated=lost) from exc


def db_timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(" ", "microseconds")


def db_json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()


def one_of_sql(conn: Connection, column: str) -> str:
    """SQL for ``column`` being one of a list passed as ONE parameter (see ``list_param``): no statement to build
    per list length, no bound-parameter limit."""
    if conn.dialect.name == "postgresql":
        return f"{column} = ANY(%s::text[])"
    return f"{column} IN (SELECT value FROM json_each(?))"


def list_param(conn: Connection, values: Iterable[str]) -> Any:
    """A list of strings as the single parameter ``one_of_sql`` expects."""
    if conn.dialect.name == "postgresql":
        return text_array(values)
    return orjson.dumps(list(values)).decode()


def text_array(values: Iterable[str]) -> str:
    """PostgreSQL's literal of a text array, for a ``%s::text[]`` parameter: psycopg adapts a Python list one
    element at a time in Python (~2 µs an element, 5% of a new-customer batch); this costs a tenth of that."""
    return "{" + ",".join(['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values]) + "}"


def placeholder(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def fetch_rows(conn: Connection, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run a query on the connection's own transaction and return plain tuples."""
    with driver_errors(conn, sql):
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        finally:
            cursor.close()


def insert_values(
    conn: Connection,
    table: str,
    names: Sequence[str],
    values: list[tuple[Any, ...]],
    ignore_conflicts_on: str | None = None,
) -> None:
    """INSERT every row (tuples in stored form, in the order of ``names``) in one driver-level executemany;
    with ``ignore_conflicts_on``, the rows must be strings (keys) and those already stored are left as they are."""
    if not values:
        return
    columns = ", ".join(names)
    if conn.dialect.name != "postgresql":
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join([placeholder(conn)] * len(names))})"
    elif not ignore_conflicts_on:
        _copy(conn, table, names, values)
        return
    else:  # each column's keys as one text array: one statement, where executemany sends one a row
        sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({', '.join(['%s::text[]'] * len(names))})"
        values = [tuple(text_array(column) for column in zip(*values, strict=True))]
    if ignore_conflicts_on:
        sql += f" ON CONFLICT ({ignore_conflicts_on}) DO NOTHING"
    with driver_errors(conn, sql):
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, values)
        finally:
            cursor.close()


def read_rows(conn: Connection, table: Any, rest: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    """Every column of ``table`` for ``SELECT … FROM table {rest}``, as dicts of the values SQLAlchemy's types
    return (aware UTC times, parsed JSON, booleans), read through the driver: on SQLite, SQLAlchemy's row and
    type processing (the standard json module per JSON value) cost four times the query itself."""
    from sqlalchemy import JSON, Boolean

    from rapport.store.tables import UTCDateTime

    names = [column.name for column in table.c]
    convert: list[Any] = []
    for column in table.c:
        if isinstance(column.type, UTCDateTime):
            convert.append(utc_time)
        elif isinstance(column.type, JSON):
            convert.append(json_value)
        elif isinstance(column.type, Boolean):
            convert.append(_boolean)
        else:
            convert.append(None)
    pairs = list(zip(names, convert, strict=True))
    sql = f"SELECT {', '.join(names)} FROM {table.name} {rest}"
    return [
        {
            name: (f(value) if f is not None and value is not None else value)
            for (name, f), value in zip(pairs, row, strict=True)
        }
        for row in fetch_rows(conn, sql, params)
    ]


def utc_time(value: Any) -> datetime:
    """A stored UTC time (text on SQLite, a naive datetime on PostgreSQL) as an aware datetime."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC)


def json_value(value: Any) -> Any:
    """A stored JSON value (text on SQLite, already parsed on PostgreSQL) as Python values."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _boolean(value: Any) -> bool:
    return bool(value)


def _copy(conn: Connection, table: str, names: Sequence[str], values: list[tuple[Any, ...]]) -> None:
    """PostgreSQL's COPY FROM STDIN on the connection's own transaction: a row costs about a microsecond."""
    driver = conn.connection.driver_connection
    assert driver is not None
    statement = f"COPY {table} ({', '.join(names)}) FROM STDIN"
    with driver_errors(conn, statement), driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in values:
            copy.write_row(row)
