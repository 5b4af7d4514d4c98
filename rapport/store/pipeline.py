"""Several statements in one go: one round trip to PostgreSQL, straight through the driver on SQLite.

A decision asks five to seven small questions about one customer and writes two or three rows; on PostgreSQL each
statement sent on its own is a round trip to the server process (on a loaded machine, a chance to be preempted
while waiting), and on SQLite SQLAlchemy's execution of a statement (its events, parameter and row processing)
costs several times SQLite's own work. ``Prepared`` compiles a SQLAlchemy Core statement once per process for both
stores; ``run_together`` sends a list of them in one psycopg pipeline (the server answers them in order, the client
waits once), or runs them one after another on SQLite's driver connection. Values are passed and returned the way
the store's column types do it: times in UTC (naive in the database, aware in Python), JSON as ``jsonb`` on
PostgreSQL and as text on SQLite, booleans as booleans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg.pq import ExecStatus
from psycopg.types.json import Jsonb
from sqlalchemy import JSON, Boolean, Connection
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import UpdateBase

from rapport.store.bulk import db_json, db_timestamp, driver_errors, json_value, utc_time
from rapport.store.tables import UTCDateTime

TUPLES_OK = ExecStatus.TUPLES_OK
_DIALECT = PGDialect_psycopg()
_SQLITE = SQLiteDialect_pysqlite(paramstyle="qmark")
Convert = Callable[[Any], Any] | None


@dataclass(frozen=True)
class SqliteForm:
    """A statement compiled once for SQLite: its SQL text, its parameters in order, what converts each value to
    its stored form, and what converts each result column back (``None``: as the driver returns it)."""

    sql: str
    names: tuple[str, ...]
    literals: dict[str, Any]
    to_db: dict[str, Convert]
    from_db: tuple[Convert, ...]
    writes: bool

    @classmethod
    def of(cls, statement: ClauseElement) -> SqliteForm:
        compiled = statement.compile(dialect=_SQLITE)
        names = tuple(compiled.positiontup or ())
        literals = {k: v for k, v in compiled.construct_params(_check=False).items() if v is not None}
        to_db = {name: _stored_form(bind.type) for name, bind in compiled.binds.items()}
        columns = getattr(statement, "exported_columns", ())
        return cls(str(compiled), names, literals, to_db, tuple(_read_form(c.type) for c in columns),
                   isinstance(statement, UpdateBase))  # fmt: skip

    def params(self, values: dict[str, Any]) -> list[Any]:
        given = {**self.literals, **values}
        out = []
        for name in self.names:
            value, convert = given[name], self.to_db.get(name)
            out.append(convert(value) if convert is not None else value)
        return out

    def rows(self, cursor: Any) -> list[dict[str, Any]]:
        if cursor.description is None:
            return []
        names = [column[0] for column in cursor.description]
        pairs = list(zip(names, self.from_db or (None,) * len(names), strict=True))
        return [
            {name: (f(v) if f is not None and v is not None else v) for (name, f), v in zip(pairs, row, strict=True)}
            for row in cursor.fetchall()
        ]


@dataclass(frozen=True)
class Prepared:
    """A statement compiled once: for PostgreSQL its SQL text and literal parameters, and its SQLite form (None
    for SQL text written for PostgreSQL alone)."""

    sql: str
    literals: dict[str, Any]
    sqlite: SqliteForm | None = None

    @classmethod
    def of(cls, statement: ClauseElement) -> Prepared:
        compiled = statement.compile(dialect=_DIALECT)
        literals = {k: v for k, v in compiled.construct_params(_check=False).items() if v is not None}
        return cls(str(compiled), literals, SqliteForm.of(statement))

    def params(self, values: dict[str, Any]) -> dict[str, Any]:
        return {**self.literals, **{k: _to_db(v) for k, v in values.items()}}


def run_together(
    conn: Connection, statements: Sequence[tuple[Prepared, dict[str, Any]]], commit: bool = False
) -> list[list[dict[str, Any]]]:
    """Send ``statements`` in one pipeline on ``conn`` and return each one's rows (empty for a write without RETURNING).

    They run in the connection's transaction (psycopg opens one unless the connection is in autocommit mode; on
    SQLite one is opened for several statements or a write); ``commit`` ends it in the same round trip. A
    transaction left open ends with the connection (rolled back when it goes back to the pool).
    """
    if conn.dialect.name == "sqlite":
        return _run_on_sqlite(conn, statements, commit)
    driver = conn.connection.driver_connection
    assert driver is not None, "an open PostgreSQL connection"
    cursors = []
    with driver_errors(conn, "; ".join(prepared.sql for prepared, _ in statements)):
        with driver.pipeline():
            for prepared, values in statements:
                cursor = driver.cursor()
                cursor.execute(prepared.sql, prepared.params(values))
                cursors.append(cursor)
            if commit:
                driver.commit()
        return [_rows(cursor) for cursor in cursors]


def _run_on_sqlite(
    conn: Connection, statements: Sequence[tuple[Prepared, dict[str, Any]]], commit: bool
) -> list[list[dict[str, Any]]]:
    driver = conn.connection.driver_connection
    assert driver is not None, "an open SQLite connection"
    forms = [prepared.sqlite for prepared, _ in statements]
    if any(form is None for form in forms):
        raise ValueError("a statement written for PostgreSQL alone cannot run on SQLite; use Prepared.of")
    found = []
    with driver_errors(conn, "; ".join(form.sql for form in forms if form is not None)):
        # Several statements share a transaction: one snapshot for reads (and a WAL read lock taken once, not per
        # statement), the write lock taken first for writes. One write committed at once is its own transaction.
        writes = any(form is not None and form.writes for form in forms)
        if not driver.in_transaction and (len(forms) > 1 or (writes and not commit)):
            driver.execute("BEGIN IMMEDIATE" if writes else "BEGIN")
        for form, (_, values) in zip(forms, statements, strict=True):
            assert form is not None
            cursor = driver.execute(form.sql, form.params(values))
            found.append(form.rows(cursor))
            cursor.close()
        if commit and driver.in_transaction:
            driver.commit()
    return found


def _stored_form(sql_type: Any) -> Convert:
    if isinstance(sql_type, UTCDateTime):
        return _timestamp_text
    if isinstance(sql_type, JSON):
        return _json_text
    return None


def _read_form(sql_type: Any) -> Convert:
    if isinstance(sql_type, UTCDateTime):
        return utc_time
    if isinstance(sql_type, JSON):
        return json_value
    if isinstance(sql_type, Boolean):
        return bool
    return None


def _timestamp_text(value: datetime | None) -> str | None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: Rapport stores timezone-aware times only")
    return db_timestamp(value)


def _json_text(value: Any) -> str:
    """JSON as SQLAlchemy's JSON type stores it on SQLite: ``None`` as the JSON ``null``, not SQL NULL."""
    return "null" if value is None else str(db_json(value))


def _rows(cursor: Any) -> list[dict[str, Any]]:
    """The result's rows as dicts. The column names come from the result itself: ``cursor.description`` builds a
    ``Column`` with its type look-up for every column on every access (a sixth of a decision's CPU on PostgreSQL)."""
    result = cursor.pgresult
    if result is None or result.status != TUPLES_OK:
        return []
    names = [result.fname(i).decode() for i in range(result.nfields)]
    return [{n: _from_db(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


def _to_db(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Rapport stores timezone-aware times only")
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, dict | list):
        return Jsonb(value)
    return value


def _from_db(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
