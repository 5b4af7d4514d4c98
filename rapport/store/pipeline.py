"""Several statements in one round trip to PostgreSQL: psycopg's pipeline mode on the connection's driver cursor.

A decision asks five to seven small questions about one customer and writes two or three rows; on PostgreSQL each
statement sent on its own is a round trip to the server process (on a loaded machine, a chance to be preempted
while waiting). ``Batch`` compiles SQLAlchemy Core statements once per process (``Prepared``) and sends a list of
them in one pipeline: the server answers them in order, the client waits once. Values are passed and returned the
way the store's column types do it: times in UTC (naive in the database, aware in Python), JSON as ``jsonb``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.sql import ClauseElement

from rapport.store.bulk import driver_errors

_DIALECT = PGDialect_psycopg()


@dataclass(frozen=True)
class Prepared:
    """A statement compiled once for PostgreSQL: its SQL text and the values of its literal parameters."""

    sql: str
    literals: dict[str, Any]

    @classmethod
    def of(cls, statement: ClauseElement) -> Prepared:
        compiled = statement.compile(dialect=_DIALECT)
        return cls(str(compiled), {k: v for k, v in compiled.construct_params(_check=False).items() if v is not None})

    def params(self, values: dict[str, Any]) -> dict[str, Any]:
        return {**self.literals, **{k: _to_db(v) for k, v in values.items()}}


def run_together(
    conn: Connection, statements: Sequence[tuple[Prepared, dict[str, Any]]], commit: bool = False
) -> list[list[dict[str, Any]]]:
    """Send ``statements`` in one pipeline on ``conn`` and return each one's rows (empty for a write without RETURNING).

    They run in the connection's transaction (psycopg opens one unless the connection is in autocommit mode);
    ``commit`` ends it in the same round trip.
    """
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


def _rows(cursor: Any) -> list[dict[str, Any]]:
    if cursor.description is None:
        return []
    names = [column.name for column in cursor.description]
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
