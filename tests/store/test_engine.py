"""The PostgreSQL pool: a connection that died while it sat idle is replaced before a request uses it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from rapport.config import Settings
from rapport.store import engine as store_engine
from rapport.store.store import Store


def test_a_connection_killed_while_idle_is_replaced_before_use(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(Settings(database_url=postgres_url))
    with store.engine.connect() as conn:
        first = conn.scalar(text("SELECT pg_backend_pid()"))
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    admin.dispose()
    monkeypatch.setattr(store_engine, "IDLE_PING_SECONDS", 0.0)  # every check-out counts as idle
    with store.engine.connect() as conn:
        second = conn.scalar(text("SELECT pg_backend_pid()"))
    assert second is not None and second != first
    store.close()
