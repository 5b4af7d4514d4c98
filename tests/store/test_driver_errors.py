"""Statements sent straight to the driver fail as SQLAlchemy's do: one kind of error for callers and the API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from rapport.store.bulk import db_timestamp, fetch_rows, insert_values
from rapport.store.engine import reading
from rapport.store.store import Store


def test_a_duplicate_key_through_the_driver_is_an_integrity_error(store: Store) -> None:
    row = ("signing-test", "v", db_timestamp(datetime.now(UTC)))
    names = ("name", "value", "created_at")
    with store.engine.begin() as conn:
        insert_values(conn, "access_secrets", names, [row])
    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        insert_values(conn, "access_secrets", names, [row])
    with reading(store.engine) as conn:  # nothing was half-written, and the store still answers
        assert fetch_rows(conn, "SELECT count(*) FROM access_secrets WHERE name = 'signing-test'", []) == [(1,)]


def test_a_connection_the_server_ended_is_an_operational_error_and_is_replaced(postgres_store: Store) -> None:
    engine = postgres_store.engine
    with reading(engine) as conn:
        pid = fetch_rows(conn, "SELECT pg_backend_pid()", [])[0][0]
        admin = create_engine(str(engine.url), isolation_level="AUTOCOMMIT")
        with admin.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        with pytest.raises(OperationalError) as raised:
            fetch_rows(conn, "SELECT 1", [])
        assert raised.value.connection_invalidated
    with reading(engine) as conn:  # the pool gave a new connection, not the dead one
        assert fetch_rows(conn, "SELECT pg_backend_pid()", [])[0][0] != pid
